"""The one family of exceptions the data plane raises.

Everything the client can fail with is a :class:`BatchClientError`, so callers (the
dashboard, ``--once``) need a single ``except`` and never see an httpx or JSON exception.
No secret is ever put into an exception: messages are built from the service's text, the
status and the request id only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The service appends "\nRequestId:<guid>\nTime:<iso>" to every error message.
_TAIL = re.compile(r"\s*\n?RequestId:[^\n]*(\nTime:[^\n]*)?\s*$")


def strip_request_tail(message: str) -> str:
    """Drop the ``RequestId:/Time:`` tail the service appends to error messages."""
    return _TAIL.sub("", message).rstrip()


class BatchClientError(Exception):
    """Base of every error raised by ``batchtui.batch``."""

    #: short, human cause for status lines ("throttled", "offline", ...)
    kind: str = "error"


class ModelError(BatchClientError):
    """A response body did not have the shape the Batch API documents."""

    kind = "bad response"


class ResponseTooLarge(ModelError):
    """An answer grew past the client's byte cap while it was read (e.g. a decompression bomb)."""

    kind = "too large"


class ConfigError(BatchClientError):
    """Settings are missing or invalid; the message says what to set."""

    kind = "config"


class InsecureEndpointError(ConfigError):
    """Credentials would travel over plain http to a non-loopback host."""


class TransportError(BatchClientError):
    """The service could not be reached (connection refused, DNS, timeout)."""

    kind = "offline"


class CertificateError(BatchClientError):
    """The server's TLS certificate failed verification (not trusted, or for another host).

    Not retried: only the trust store or the endpoint can fix it (batch/tls_trouble.py)."""

    kind = "certificate"


class AuthError(BatchClientError):
    """A credential could not be obtained (Entra ID token acquisition failed)."""

    kind = "auth"


@dataclass(eq=False)
class BatchServiceError(BatchClientError):
    """A non-2xx answer from the Batch service (or from something in front of it)."""

    status: int
    code: str | None = None
    message: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    retry_after: float | None = None
    #: the cause and the fix in plain words, when the client knows better than the service's
    #: text (a 403 under Shared Key means the key is wrong); replaces the message in ``str``
    explanation: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.explanation:
            text = self.explanation
            return f"{text} (request-id {self.request_id})" if self.request_id else text
        head = f"HTTP {self.status}"
        if self.code:
            head += f" {self.code}"
        text = f"{head}: {self.message}" if self.message else head
        if self.request_id:
            text += f" (request-id {self.request_id})"
        return text

    @property
    def kind(self) -> str:  # type: ignore[override]
        if self.status == 429 or self.code == "TooManyRequests":
            return "throttled"
        if self.status in (401, 403):
            return "auth"
        if self.status == 404:
            return "not found"
        if self.status in (502, 503, 504):
            # ServerBusy, or a gateway in front of the service that cannot reach it: from the
            # operator's chair the service is down, however politely it says so.
            return "unavailable"
        if self.status >= 500:
            return "service error"
        return "error"


class ListingTooLong(ModelError):
    """A listing passed its bounds (pages, items or seconds) before its last page.

    Raised by a page iterator after the pages it did yield, and by a ``list_*`` call with
    those pages' ``items`` attached, so the caller can still show what was read.
    """

    kind = "list too long"

    def __init__(
        self, message: str, *, pages: int, count: int, seconds: float, items: tuple[object, ...] = ()
    ) -> None:
        super().__init__(message)
        self.pages = pages  # pages read
        self.count = count  # items on them
        self.seconds = seconds  # how long the listing ran
        self.items = items  # the items themselves (empty from an iterator: the caller has them)

    def with_items(self, items: tuple[object, ...]) -> ListingTooLong:
        return ListingTooLong(
            str(self), pages=self.pages, count=self.count, seconds=self.seconds, items=items
        )
