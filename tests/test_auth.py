"""Shared Key against the worked vectors of REFERENCE.md 8d; Entra ID with a fake credential."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
from typing import Any

import httpx
import pytest
from azure.batch._patch import BatchSharedKeyAuthPolicy
from azure.core.credentials import AccessToken, AzureNamedKeyCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchtui.batch import auth as auth_module
from batchtui.batch.auth import (
    PUBLIC_SCOPE,
    EntraIdAuth,
    SharedKeyAuth,
    batch_scope_for,
    check_endpoint,
    is_loopback_host,
    string_to_sign,
)
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import AuthError, BatchServiceError, ConfigError, InsecureEndpointError

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of "0123456789abcdef" * 2
OCP_DATE = "Tue, 03 Feb 2026 01:09:19 GMT"
HOST = "https://myaccount.eastus.batch.azure.com"
EMPTY12 = "GET" + "\n" * 12

VECTORS = [
    (
        f"{HOST}/jobs?api-version=2025-06-01",
        {},
        EMPTY12 + f"ocp-date:{OCP_DATE}\n/myaccount/jobs\napi-version:2025-06-01",
        "SharedKey myaccount:4ql7DNSKf3lnDnI8wW6UJ8YbHhnt3IpWOFNZnaj4+bw=",
    ),
    (
        f"{HOST}/jobs?api-version=2025-06-01&maxresults=100&%24filter=state%20eq%20%27active%27&%24select=id%2Cstate",
        {"client-request-id": "9C4D50EE-2D56-4CD3-8152-34347DC9F2B0", "return-client-request-id": "true"},
        EMPTY12 + f"ocp-date:{OCP_DATE}\n/myaccount/jobs\n$filter:state eq 'active'\n$select:id,state\n"
        "api-version:2025-06-01\nmaxresults:100",
        "SharedKey myaccount:/aF5auS5bGC9j6jNtm5XDrKbCYEqYXljYPMVtdzst+A=",
    ),
    (
        f"{HOST}/jobs/job-1/taskcounts?api-version=2025-06-01&timeout=20",
        {},
        EMPTY12
        + f"ocp-date:{OCP_DATE}\n/myaccount/jobs/job-1/taskcounts\napi-version:2025-06-01\ntimeout:20",
        "SharedKey myaccount:l7ro1jG59y9nB2C6ffaQgZxvwDGz/xvbVSmNT0ct8Zo=",
    ),
]


# ------------------------------------------------------------------ Shared Key


@pytest.mark.parametrize(("url", "extra", "expected_sts", "expected_auth"), VECTORS)
async def test_shared_key_vectors_on_the_wire(
    url: str, extra: dict[str, str], expected_sts: str, expected_auth: str
) -> None:
    """Sent through a real httpx.AsyncClient: what leaves is what the SDKs would send."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    signer = SharedKeyAuth("myaccount", KEY)
    headers = {"ocp-date": OCP_DATE, "Accept": "application/json", **extra}
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=signer) as http:
        await http.get(url, headers=headers)
    (request,) = seen
    assert str(request.url) == url  # httpx sent the URL we signed, unchanged
    assert string_to_sign("GET", request.url, request.headers, "myaccount") == expected_sts
    assert request.headers["authorization"] == expected_auth
    assert "date" not in request.headers


def test_a_date_header_never_goes_out_with_the_signature() -> None:
    url, _, _, expected = VECTORS[0]
    request = httpx.Request(
        "GET", url, headers={"ocp-date": OCP_DATE, "Date": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    SharedKeyAuth("myaccount", KEY).sign(request)
    assert "date" not in request.headers
    assert request.headers["authorization"] == expected


def test_ocp_date_is_added_when_missing() -> None:
    request = httpx.Request("GET", f"{HOST}/jobs?api-version=2025-06-01")
    SharedKeyAuth("myaccount", KEY).sign(request)
    assert request.headers["ocp-date"].endswith(" GMT")
    assert request.headers["authorization"].startswith("SharedKey myaccount:")


def test_shared_key_post_without_body_signs_content_length_zero() -> None:
    request = httpx.Request(
        "POST", f"{HOST}/jobs/j/terminate?api-version=2025-06-01", headers={"ocp-date": OCP_DATE}
    )
    request.headers.pop("content-length", None)
    sts = string_to_sign("POST", request.url, request.headers, "myaccount")
    assert sts.startswith("POST\n\n\n0\n")


def test_shared_key_rejects_bad_keys_without_echoing_them() -> None:
    with pytest.raises(ConfigError, match="not valid base64") as info:
        SharedKeyAuth("myaccount", "not*base64!secretish")
    assert "secretish" not in str(info.value)
    with pytest.raises(ConfigError, match="account name"):
        SharedKeyAuth("", KEY)


def test_shared_key_repr_hides_the_key() -> None:
    signer = SharedKeyAuth("myaccount", KEY)
    assert KEY not in repr(signer) and KEY not in str(signer)
    assert repr(signer) == "SharedKeyAuth(account='myaccount', key=<hidden>)"


# ------------------------------------------------------------------ endpoints and scopes


@pytest.mark.parametrize(
    ("endpoint", "scope"),
    [
        ("https://acct.eastus.batch.azure.com", PUBLIC_SCOPE),
        ("acct.westeurope.batch.azure.com", "https://batch.core.windows.net//.default"),
        ("https://acct.chinanorth.batch.chinacloudapi.cn", "https://batch.chinacloudapi.cn//.default"),
        (
            "https://acct.usgovvirginia.batch.usgovcloudapi.net/",
            "https://batch.core.usgovcloudapi.net//.default",
        ),
        ("https://acct.germanycentral.batch.cloudapi.de", "https://batch.cloudapi.de//.default"),
        ("https://fakechinacloudapi.cn.example.com", PUBLIC_SCOPE),
    ],
)
def test_batch_scope_for_clouds(endpoint: str, scope: str) -> None:
    assert batch_scope_for(endpoint) == scope


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("myaccount.eastus.batch.azure.com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_check_endpoint() -> None:
    assert (
        check_endpoint("https://a.b.batch.azure.com/", with_credentials=True) == "https://a.b.batch.azure.com"
    )
    assert check_endpoint("http://127.0.0.1:8765", with_credentials=True) == "http://127.0.0.1:8765"
    with pytest.raises(InsecureEndpointError):
        check_endpoint("http://10.1.2.3:80", with_credentials=True)
    assert check_endpoint("http://10.1.2.3:80", with_credentials=False) == "http://10.1.2.3:80"
    for bad in ("https://", "ftp://host", "https://host:port", "https://u:p@host"):
        with pytest.raises(ConfigError):
            check_endpoint(bad, with_credentials=False)


# ------------------------------------------------------------------ Entra ID


class FakeCredential:
    """An async azure-identity credential stand-in that counts what it was asked."""

    def __init__(self, lifetime: float = 3600.0, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self.delay = delay
        self.calls: list[tuple[str, ...]] = []
        self.closed = False
        self.now = 1_000_000.0
        self.fail: Exception | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append(scopes)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return AccessToken(f"token-{len(self.calls)}", int(self.now + self.lifetime))

    async def close(self) -> None:
        self.closed = True


def bearer_client(auth: EntraIdAuth, seen: list[httpx.Request], status: int = 200) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(httpx.Request(request.method, request.url, headers=request.headers))  # as sent
        return httpx.Response(status, json={})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth)


async def test_entra_token_cached_and_sent_as_bearer() -> None:
    cred = FakeCredential()
    auth = EntraIdAuth(cred, endpoint="https://a.eastus.batch.azure.com")
    auth._clock = lambda: cred.now
    seen: list[httpx.Request] = []
    async with bearer_client(auth, seen) as http:
        await http.get("https://a.eastus.batch.azure.com/jobs")
        await http.get("https://a.eastus.batch.azure.com/jobs")
    assert cred.calls == [("https://batch.core.windows.net//.default",)]
    assert [r.headers["authorization"] for r in seen] == ["Bearer token-1"] * 2


async def test_entra_token_refreshed_five_minutes_before_expiry() -> None:
    cred = FakeCredential(lifetime=3600)
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    assert await auth.token() == "token-1"
    cred.now += 3600 - 301  # 301 s left: still good
    assert await auth.token() == "token-1"
    cred.now += 2  # 299 s left: inside the margin, refresh
    assert await auth.token() == "token-2"
    assert len(cred.calls) == 2


async def test_twenty_concurrent_requests_cause_one_token_call() -> None:
    cred = FakeCredential(delay=0.05)
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    seen: list[httpx.Request] = []
    async with bearer_client(auth, seen) as http:
        await asyncio.gather(*(http.get(f"https://a.eastus.batch.azure.com/jobs/{i}") for i in range(20)))
    assert len(cred.calls) == 1
    assert len(seen) == 20 and {r.headers["authorization"] for r in seen} == {"Bearer token-1"}


async def test_401_drops_the_cached_token() -> None:
    cred = FakeCredential()
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    seen: list[httpx.Request] = []
    async with bearer_client(auth, seen, status=401) as http:
        first = await http.get("https://a.eastus.batch.azure.com/jobs")
        await http.get("https://a.eastus.batch.azure.com/jobs")
    # Each request is re-sent once with a new token; a token refused twice is not used again.
    assert first.status_code == 401
    assert [r.headers["authorization"] for r in seen] == [f"Bearer token-{i}" for i in (1, 2, 3, 4)]


def revoking_transport(seen: list[str], revoked: set[str], **body: Any) -> httpx.MockTransport:
    """A service that refuses the bearer tokens in ``revoked`` with the service's 401.

    ``seen`` gets each request's Authorization as sent (a re-send is the same Request object)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"].removeprefix("Bearer ") in revoked:
            error = {"code": "AuthenticationFailed", "message": {"value": "token revoked"}}
            return httpx.Response(401, json=error, **body)
        return httpx.Response(200, json={"value": [{"id": "job-1"}]})

    return httpx.MockTransport(handler)


async def test_a_revoked_token_is_replaced_and_the_request_sent_again_at_once() -> None:
    cred = FakeCredential()
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    seen: list[str] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    transport = revoking_transport(seen, {"token-1"})
    client = BatchClient("https://a.eastus.batch.azure.com", auth, transport=transport, sleep=sleep)
    async with client:
        assert await auth.token() == "token-1"  # cached before the service revoked it
        jobs = await client.list_jobs()
        assert [j.id for j in jobs] == ["job-1"]
        await client.list_jobs()
    assert seen == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]
    assert len(cred.calls) == 2 and sleeps == []  # no backoff between the two sends
    assert client.stats.errors == 0


async def test_a_401_with_the_fresh_token_too_fails_after_two_sends() -> None:
    cred = FakeCredential()
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    seen: list[str] = []
    transport = revoking_transport(seen, {"token-1", "token-2"})
    client = BatchClient("https://a.eastus.batch.azure.com", auth, transport=transport)
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    assert info.value.status == 401 and "Entra ID token was rejected" in str(info.value)
    assert seen == ["Bearer token-1", "Bearer token-2"]


async def test_a_401_whose_body_is_not_length_bounded_is_not_sent_again() -> None:
    """httpx reads a re-sent request's first answer whole, past the client's byte cap."""
    cred = FakeCredential()
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, headers={"content-encoding": "gzip"}, content=gzip.compress(b"x" * 1000))

    client = BatchClient("https://a.eastus.batch.azure.com", auth, transport=httpx.MockTransport(handler))
    async with client:
        with pytest.raises(BatchServiceError):
            await client.list_jobs()
    assert len(seen) == 1
    assert await auth.token() == "token-2"  # the refused token is forgotten all the same


async def test_token_failure_is_an_auth_error_and_secrets_stay_out() -> None:
    cred = FakeCredential()
    cred.fail = ClientAuthenticationError("AADSTS700016: Application not found\n in the directory")
    auth = EntraIdAuth(cred, scope="https://batch.core.windows.net//.default")
    client = BatchClient("https://a.eastus.batch.azure.com", auth, sleep=lambda s: asyncio.sleep(0))
    async with client:
        with pytest.raises(AuthError, match="AADSTS700016: Application not found in the directory") as info:
            await client.list_jobs()
    assert "\n" not in str(info.value)
    assert client.stats.errors == 1 and client.stats.retries == 0
    cred.fail = None
    assert await auth.token() == "token-2"
    assert "token-2" not in repr(auth) and "token-2" not in str(auth)


async def test_aclose_closes_only_a_credential_it_created(monkeypatch: pytest.MonkeyPatch) -> None:
    given = FakeCredential()
    auth = EntraIdAuth(given)
    await auth.token()
    await auth.aclose()
    assert not given.closed  # the caller's credential is the caller's to close

    created = FakeCredential()
    monkeypatch.setattr(auth_module, "_default_credential", lambda: created)
    own = EntraIdAuth(endpoint="https://a.chinaeast.batch.chinacloudapi.cn")
    own._clock = lambda: created.now
    assert await own.token() == "token-1"
    assert created.calls == [("https://batch.chinacloudapi.cn//.default",)]
    await own.aclose()
    assert created.closed


def test_sync_use_is_refused() -> None:
    auth = EntraIdAuth(FakeCredential())
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)), auth=auth) as http:
        with pytest.raises(RuntimeError, match="AsyncClient"):
            http.get("https://a.eastus.batch.azure.com/jobs")


def test_default_credential_needs_no_aiohttp() -> None:
    """azure.identity.aio defaults to aiohttp; ours must be built without it (REFERENCE 8a)."""
    code = """
import asyncio, sys
sys.modules['aiohttp'] = None  # make `import aiohttp` fail, as on a machine without it
from batchtui.batch.auth import _default_credential
async def main():
    cred = _default_credential()
    await cred.close()
    print(type(cred).__name__)
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "DefaultAzureCredential"


async def test_a_failed_refresh_is_shared_by_the_requests_queued_behind_it() -> None:
    cred = FakeCredential(delay=0.05)
    cred.fail = ClientAuthenticationError("no identity available")
    auth = EntraIdAuth(cred)
    auth._clock = lambda: cred.now
    results = await asyncio.gather(*(auth.token() for _ in range(20)), return_exceptions=True)
    assert len(cred.calls) == 1
    assert all(isinstance(r, AuthError) and "no identity available" in str(r) for r in results)
    cred.fail = None  # a later request tries again
    assert await auth.token() == "token-2"


# ------------------------------------------------------------------ cross-check with the SDK


ids = st.text(st.sampled_from("abcXYZ019_-"), min_size=1, max_size=20)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


def sdk_authorization(url: str, ocp_date: str) -> str:
    """What azure-batch 15.x's own Shared Key policy signs for this URL."""
    policy = BatchSharedKeyAuthPolicy(AzureNamedKeyCredential("myaccount", KEY))
    request = HttpRequest("GET", url, headers={"ocp-date": ocp_date, "Accept": "application/json"})
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    return request.headers["Authorization"]


@settings(max_examples=150, deadline=None)
@given(job=ids, task=ids, filter=texts, select=st.lists(ids, max_size=4), page=st.integers(1, 1000))
async def test_client_requests_sign_like_the_official_sdk(
    job: str, task: str, filter: str, select: list[str], page: int
) -> None:
    """Whatever the client puts in a URL, our signature equals the SDK's for the URL sent."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": []})

    client = BatchClient(HOST, SharedKeyAuth("myaccount", KEY), transport=httpx.MockTransport(handler))
    async with client:
        await client.list_tasks(job, filter=filter, select=select, max_results=page)
        await client.get_task(job, task, select=select)
    for request in seen:
        assert request.headers["authorization"] == sdk_authorization(
            str(request.url), request.headers["ocp-date"]
        )
