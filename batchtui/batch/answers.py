"""What an answer means: its body read under a byte cap, a failure in one line, a refusal
explained (the cause and the fix), an error body turned into a :class:`BatchServiceError`."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth
from batchtui.batch.errors import BatchServiceError, ResponseTooLarge, strip_request_tail

__all__ = ["auth_explanation", "describe", "read_capped", "service_error"]


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body, read as it streams; raise ResponseTooLarge once it passes ``cap``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            # The exception's traceback keeps this frame (in a cycle the collector breaks only
            # later): let go of what was read now, not at the next full collection.
            chunks.clear()
            chunk = b""
            raise ResponseTooLarge(f"the answer is larger than {cap:,} bytes once decoded; not read further")
        chunks.append(chunk)
    return b"".join(chunks)


def describe(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:300]
    kind = "timed out" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "connection failed"
    return f"{kind} ({type(exc).__name__}{': ' + text if text else ''})"


def auth_explanation(auth: httpx.Auth | None, error: BatchServiceError) -> str | None:
    """The cause and the fix, in the operator's words, for a credential the service rejected.

    Only for ``AuthenticationFailed`` (or a bare 401): other 403s (a network rule, a missing
    role) are about permissions, and the service's own message says which."""
    if error.code not in (None, "AuthenticationFailed"):
        return None
    what = f"{error.status} {error.code}" if error.code else str(error.status)
    if isinstance(auth, SharedKeyAuth):
        return f"the account key was rejected ({what}): check AZURE_BATCH_ACCESS_KEY / --key"
    if isinstance(auth, EntraIdAuth):
        return (
            f"the Microsoft Entra ID token was rejected ({what}): run az login, and check the "
            "identity has a role on the Batch account"
        )
    return f"the service refused the credentials ({what})"


def service_error(
    status: int, body: bytes, response: httpx.Response, retry_after: float | None
) -> BatchServiceError:
    request_id = response.headers.get("request-id")
    reason = response.reason_phrase or ""
    payload: object = None
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, Mapping) and isinstance(payload.get("odata.error"), Mapping):
        payload = payload["odata.error"]  # the older OData error envelope
    if isinstance(payload, Mapping) and ("code" in payload or "message" in payload):
        code = payload.get("code")
        message = payload.get("message")
        if isinstance(message, Mapping):
            message = message.get("value")
        values: dict[str, str] = {}
        raw_values = payload.get("values")
        if isinstance(raw_values, list):
            for item in raw_values:
                if isinstance(item, Mapping) and item.get("key") is not None:
                    values[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
        return BatchServiceError(
            status=status,
            code=str(code) if code is not None else None,
            message=strip_request_tail(str(message)) if message is not None else reason,
            values=values,
            request_id=request_id,
            retry_after=retry_after,
        )
    content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    what = "an empty body" if not body else f"a {content_type} body, not a Batch error"
    message = f"{reason + ': ' if reason else ''}the server answered with {what}"
    return BatchServiceError(status=status, message=message, request_id=request_id, retry_after=retry_after)
