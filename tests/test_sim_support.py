"""Helpers for the simulator tests: a test-local Shared Key signer and an in-process client.

The signer is written here from REFERENCE.md 8d, independently of the simulator's verifier,
and is itself checked against the reference's worked examples below, so a simulator test
that passes proves the simulator accepts what a correct client sends.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import re
import time
from collections.abc import Generator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from batchtui.sim import Simulator

API = "2025-06-01"
BASE = "http://127.0.0.1:8765"
STD = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
]
ISO7 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")
ERROR_TAIL = re.compile(r"\nRequestId:([0-9a-f-]{36})\nTime:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def string_to_sign(
    method: str, url: str, headers: dict[str, str], account: str, *, lower_query: bool = True
) -> str:
    h = {k.lower(): v for k, v in headers.items()}
    s = method.upper() + "\n" + "".join(h.get(n, "") + "\n" for n in STD)
    s += "".join(f"{k}:{h[k]}\n" for k in sorted(k for k in h if k.startswith("ocp-")))
    p = urlsplit(url)
    s += f"/{account}{p.path}"
    q: dict[str, str] = {}
    for k, v in parse_qsl(p.query, keep_blank_values=True):
        q.setdefault(k.lower() if lower_query else k, v)
    s += "".join(f"\n{k}:{q[k]}" for k in sorted(q))
    return s


def signature(s: str, key_b64: str) -> str:
    mac = hmac.new(base64.b64decode(key_b64), s.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def sign(method: str, url: str, headers: dict[str, str], account: str, key_b64: str, **kw: Any) -> str:
    return f"SharedKey {account}:{signature(string_to_sign(method, url, headers, account, **kw), key_b64)}"


class SharedKey(httpx.Auth):
    """Signs each request (including followed nextLinks) as a correct client does."""

    def __init__(
        self,
        account: str,
        key: str,
        *,
        date: str | None = None,
        skew: float = 0.0,
        lower_query: bool = True,
        date_header: str = "ocp-date",
    ) -> None:
        self.account = account
        self.key = key
        self.date = date
        self.skew = skew
        self.lower_query = lower_query
        self.date_header = date_header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.date_header] = self.date or email.utils.formatdate(
            time.time() + self.skew, usegmt=True
        )
        headers = dict(request.headers)
        request.headers["Authorization"] = sign(
            request.method, str(request.url), headers, self.account, self.key, lower_query=self.lower_query
        )
        yield request


def client(sim: Simulator, auth: httpx.Auth | None = None, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim),
        base_url=BASE,
        auth=auth if auth is not None else SharedKey(sim.config.account, sim.config.key),
        **kw,
    )


async def get(c: httpx.AsyncClient, path: str, **params: Any) -> httpx.Response:
    query = {"api-version": API, **params}
    return await c.get(path, params=query)


async def get_all(c: httpx.AsyncClient, path: str, **params: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item of a list, following odata.nextLink; also the nextLinks seen."""
    r = await get(c, path, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    items = list(body["value"])
    links = []
    while "odata.nextLink" in body:
        links.append(body["odata.nextLink"])
        r = await c.get(body["odata.nextLink"])
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["value"])
    return items, links


# --------------------------------------------------------------------------- the signer itself

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
DATE = "Tue, 03 Feb 2026 01:09:19 GMT"


def test_signer_matches_reference_vector_1() -> None:
    url = "https://myaccount.eastus.batch.azure.com/jobs?api-version=2025-06-01"
    assert sign("GET", url, {"ocp-date": DATE}, "myaccount", KEY) == (
        "SharedKey myaccount:4ql7DNSKf3lnDnI8wW6UJ8YbHhnt3IpWOFNZnaj4+bw="
    )


def test_signer_matches_reference_vector_2() -> None:
    url = (
        "https://myaccount.eastus.batch.azure.com/jobs?api-version=2025-06-01&maxresults=100"
        "&%24filter=state%20eq%20%27active%27&%24select=id%2Cstate"
    )
    headers = {
        "ocp-date": DATE,
        "client-request-id": "9C4D50EE-2D56-4CD3-8152-34347DC9F2B0",
        "return-client-request-id": "true",
    }
    assert sign("GET", url, headers, "myaccount", KEY) == (
        "SharedKey myaccount:/aF5auS5bGC9j6jNtm5XDrKbCYEqYXljYPMVtdzst+A="
    )


def test_signer_matches_reference_vector_3() -> None:
    url = "https://myaccount.eastus.batch.azure.com/jobs/job-1/taskcounts?api-version=2025-06-01&timeout=20"
    assert sign("GET", url, {"ocp-date": DATE}, "myaccount", KEY) == (
        "SharedKey myaccount:l7ro1jG59y9nB2C6ffaQgZxvwDGz/xvbVSmNT0ct8Zo="
    )


def test_simulator_verifier_rebuilds_the_reference_string() -> None:
    from batchtui.sim import sharedkey

    candidates = list(
        sharedkey.candidate_strings(
            "GET",
            "/jobs",
            "api-version=2025-06-01&maxresults=100&%24filter=state%20eq%20%27active%27&%24select=id%2Cstate",
            {"ocp-date": DATE, "client-request-id": "x", "return-client-request-id": "true"},
            "myaccount",
            0,
        )
    )
    # The documented form is tried first (one HMAC for a well-formed request), and once.
    assert candidates[0] == (
        "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:Tue, 03 Feb 2026 01:09:19 GMT\n/myaccount/jobs\n"
        "$filter:state eq 'active'\n$select:id,state\napi-version:2025-06-01\nmaxresults:100"
    )
    assert len(candidates) == len(set(candidates)) > 1
