"""How the client writes URLs: path segments, ``$select`` lists and the origin a link leads to.

Shared by every call module (jobs, tasks, pools, files, actions) so that each one quotes the
same way and refuses the same ids: a module of its own, importing nothing of the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from batchtui.batch.errors import BatchClientError

__all__ = ["join_select", "origin", "quote_part", "segment"]


def join_select(select: Sequence[str] | str | None) -> str | None:
    """``$select``'s value: the non-empty names joined by commas, or None to send none."""
    if select is None:
        return None
    if isinstance(select, str):
        return select or None
    return ",".join(s for s in select if s) or None


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one when the URL names none), in lower case."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def segment(value: str, what: str) -> str:
    """One path segment (an id), percent-encoded, ``/`` included; an empty id is refused."""
    if not value:
        raise BatchClientError(f"{what} must not be empty")
    return quote_part(value, what)


def quote_part(value: str, what: str) -> str:
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        # A lone surrogate ("\udfff" in the service's JSON) has no UTF-8 form, so no URL can
        # name it: this one request fails, not the refresh it is part of.
        shown = repr(value if len(value) <= 80 else value[:79] + "…")  # escapes the surrogate
        raise BatchClientError(f"{what} {shown} cannot be sent: it holds a lone surrogate") from None
