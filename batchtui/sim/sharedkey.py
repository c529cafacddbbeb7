"""Shared Key verification, written from the published algorithm (REFERENCE.md 8b/8c).

The service is strict, but the official SDKs disagree in corners that only matter off the
happy path (query-name case, zero-length Content-Length, which ``ocp-`` headers count), and
all of them pass against the real service. So the verifier rebuilds the string-to-sign in
each of those accepted spellings and takes any that matches; every other byte must agree.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl

MAX_SKEW_SECONDS = 15 * 60

STANDARD_HEADERS = (
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
)


class SharedKeyRejected(Exception):  # noqa: N818 - a verdict, not a programming error
    """Why a request's Shared Key signature was refused (kept out of responses: it helps attackers)."""


def _ocp_lines(headers: Mapping[str, str], *, contains: bool) -> str:
    names = sorted(
        n for n in headers if (("ocp-" in n) if contains else n.startswith("ocp-")) and headers[n] != ""
    )
    return "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in names)


def _query_lines(query: str, *, lower: bool, drop_empty: bool, join_all: bool) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(name.lower() if lower else name, []).append(value)
    out = []
    for name in sorted(grouped):
        values = grouped[name]
        value = ",".join(sorted(values)) if join_all else values[0]
        if drop_empty and not value:
            continue
        out.append(f"\n{name}:{value}")
    return "".join(out)


def candidate_strings(
    method: str, raw_path: str, query: str, headers: Mapping[str, str], account: str, body_length: int
) -> Iterator[str]:
    """Every string-to-sign an accepted client could have produced for this request, once each.

    The documented canonical form comes first (empty Content-Length and Date lines, ``ocp-``
    headers, lower-cased query names): every known client signs that one, so a valid request
    costs one HMAC rather than up to 64.
    """
    h = {k.lower(): v for k, v in headers.items()}
    length_values = _unique(["", "0"] if body_length == 0 else [], [h.get("content-length", "")])
    date_values = _unique([""] if "ocp-date" in h else [], [h.get("date", "")])
    ocp_variants = _unique([_ocp_lines(h, contains=False), _ocp_lines(h, contains=True)])
    resources = (
        f"/{account}{raw_path}" + _query_lines(query, lower=lower, drop_empty=drop, join_all=join)
        for lower, drop, join in itertools.product((True, False), repeat=3)
    )
    seen: set[str] = set()
    for resource in resources:
        for length, date, ocp in itertools.product(length_values, date_values, ocp_variants):
            std = [
                length if n == "content-length" else date if n == "date" else h.get(n, "")
                for n in STANDARD_HEADERS
            ]
            candidate = method.upper() + "\n" + "".join(v + "\n" for v in std) + ocp + resource
            if candidate not in seen:
                seen.add(candidate)
                yield candidate


def _unique(*groups: list[str]) -> list[str]:
    """The values of ``groups`` in order, each once."""
    return list(dict.fromkeys(v for group in groups for v in group))


def verify(
    authorization: str,
    *,
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, str],
    body_length: int,
    account: str,
    key_b64: str,
    wall_now: float,
) -> None:
    """Raise :class:`SharedKeyRejected` unless ``authorization`` is a valid Shared Key header."""
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme != "SharedKey" or ":" not in credential:
        raise SharedKeyRejected("not a SharedKey authorization header")
    claimed_account, _, signature = credential.strip().rpartition(":")
    if claimed_account != account:
        raise SharedKeyRejected("unknown account")
    lowered = {k.lower(): v for k, v in headers.items()}
    date_text = lowered.get("ocp-date") or lowered.get("date")
    if not date_text:
        raise SharedKeyRejected("no ocp-date or Date header")
    try:
        when = parsedate_to_datetime(date_text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise SharedKeyRejected("unparseable date") from exc
    if abs(when - wall_now) > MAX_SKEW_SECONDS:
        raise SharedKeyRejected("request date more than 15 minutes from server time")
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SharedKeyRejected("signature is not base64") from exc
    key = base64.b64decode(key_b64)
    for candidate in candidate_strings(method, raw_path, query, headers, account, body_length):
        mac = hmac.new(key, candidate.encode("utf-8"), hashlib.sha256).digest()
        if hmac.compare_digest(mac, given):
            return
    raise SharedKeyRejected("signature mismatch")
