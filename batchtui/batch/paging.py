"""How far one listing may go: ``odata.nextLink`` is followed page after page, and a service
(or a proxy) that always sends another link would otherwise be followed forever.

A listing stops, with :class:`~batchtui.batch.errors.ListingTooLong`, at the first of: too
many pages, too many items, or too long a time since its first request. The defaults leave
room for any account seen in practice (the service sends at most 1,000 items a page, and with
a ``$filter`` it may send short or empty pages) while keeping memory and time bounded: a
hostile link loop of 1,000-job pages was read at 26 pages a second to 685 MB before the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchtui.batch.errors import ListingTooLong


@dataclass(frozen=True)
class ListLimits:
    max_pages: int = 1_000
    max_items: int = 200_000
    max_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_pages < 1 or self.max_items < 1:
            raise ValueError("ListLimits: max_pages and max_items must be at least 1")
        if not self.max_seconds > 0:
            raise ValueError("ListLimits: max_seconds must be more than 0")


DEFAULT_LIST_LIMITS = ListLimits()
#: the most nodes (or pools) one pool listing returns: a pool of 10,000 nodes is 10 pages
MAX_ITEMS = 10_000


def check_bounds(call: str, limits: ListLimits, pages: int, items: int, seconds: float) -> None:
    """Raise ListingTooLong if a listing at this point may not fetch another page."""
    if pages >= limits.max_pages:
        bound = f"at most {limits.max_pages:,} pages"
    elif items >= limits.max_items:
        bound = f"at most {limits.max_items:,} items"
    elif seconds >= limits.max_seconds:
        bound = f"at most {limits.max_seconds:g} s"
    else:
        return
    raise too_long(call, bound, pages, items, seconds)


def too_long(call: str, bound: str, pages: int, items: int, seconds: float) -> ListingTooLong:
    return ListingTooLong(
        f"{call}: stopped after {pages:,} pages ({items:,} items, {seconds:.0f} s; {bound} a "
        "listing) and the service still sent another odata.nextLink",
        pages=pages,
        count=items,
        seconds=seconds,
    )
