"""Every listing is bounded (issue 14.1): a service whose ``odata.nextLink`` carries a new
``$skiptoken`` on every page is followed only so far, in pages, items and time, and what was
read stays with the caller."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from batchtui.batch.client import BatchClient
from batchtui.batch.errors import ListingTooLong
from batchtui.batch.paging import DEFAULT_LIST_LIMITS, ListLimits
from batchtui.batch.retry import RetryPolicy

ENDPOINT = "http://127.0.0.1:9"


class Endless:
    """A job list that never ends: each page links to the next with a fresh $skiptoken."""

    def __init__(self, page_size: int = 10, clock_step: float = 0.0) -> None:
        self.page_size = page_size
        self.clock_step = clock_step
        self.now = 0.0
        self.requests = 0

    def clock(self) -> float:
        return self.now

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.now += self.clock_step
        skip = int(parse_qs(urlsplit(str(request.url)).query).get("$skiptoken", ["0"])[0])
        jobs = [{"id": f"job-{skip + i}"} for i in range(self.page_size)]
        link = f"{ENDPOINT}/jobs?api-version=2025-06-01&$skiptoken={skip + self.page_size}"
        return httpx.Response(200, json={"value": jobs, "odata.nextLink": link})


def client_for(server: Endless, **kw: object) -> BatchClient:
    return BatchClient(
        ENDPOINT,
        transport=httpx.MockTransport(server),
        clock=server.clock,
        retry=RetryPolicy(max_attempts=1),
        **kw,  # type: ignore[arg-type]
    )


async def test_the_page_bound_stops_the_list_and_keeps_what_was_read() -> None:
    server = Endless(page_size=10)
    async with client_for(server, list_limits=ListLimits(max_pages=7)) as client:
        with pytest.raises(ListingTooLong) as info:
            await client.list_jobs()
    error = info.value
    assert server.requests == 7
    assert (error.pages, error.count) == (7, 70)
    assert [j.id for j in error.items] == [f"job-{i}" for i in range(70)]  # type: ignore[attr-defined]
    assert str(error) == (
        "list_jobs: stopped after 7 pages (70 items, 0 s; at most 7 pages a listing) "
        "and the service still sent another odata.nextLink"
    )
    assert error.kind == "list too long"
    assert client.stats.errors == 1


async def test_the_item_bound_stops_short_pages_too() -> None:
    server = Endless(page_size=100)
    async with client_for(server) as client:
        with pytest.raises(ListingTooLong, match=r"3 pages \(300 items.*at most 250 items") as info:
            await client.list_jobs(limits=ListLimits(max_items=250))
    assert server.requests == 3 and len(info.value.items) == 300


async def test_the_time_bound_counts_from_the_first_request() -> None:
    server = Endless(page_size=1, clock_step=10.0)  # every page takes 10 s
    async with client_for(server, list_limits=ListLimits(max_seconds=35)) as client:
        with pytest.raises(ListingTooLong, match=r"4 pages \(4 items, 40 s; at most 35 s"):
            await client.list_jobs()
    assert server.requests == 4


async def test_the_time_bound_holds_inside_a_page_that_never_comes() -> None:
    answered = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        if "skiptoken" in str(request.url):
            await asyncio.sleep(30)  # the second page hangs (the client's own deadline is 60 s)
        answered += 1
        return httpx.Response(
            200, json={"value": [{"id": "a"}], "odata.nextLink": f"{ENDPOINT}/jobs?$skiptoken=1"}
        )

    client = BatchClient(
        ENDPOINT, transport=httpx.MockTransport(handler), list_limits=ListLimits(max_seconds=0.3)
    )
    async with client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(ListingTooLong, match=r"after 1 pages \(1 items.*at most 0.3 s") as info:
            await client.list_jobs()
        assert asyncio.get_running_loop().time() - started < 5
    assert [j.id for j in info.value.items] == ["a"]  # type: ignore[attr-defined]


async def test_a_page_iterator_raises_after_the_pages_it_yielded() -> None:
    server = Endless(page_size=5)
    seen: list[str] = []
    async with client_for(server, list_limits=ListLimits(max_pages=3)) as client:
        with pytest.raises(ListingTooLong) as info:
            async for page in client.iter_task_pages("job-1"):
                seen.extend(t.id or "" for t in page.items)
    assert len(seen) == 15 and info.value.items == () and info.value.pages == 3
    assert str(info.value).startswith("list_tasks: stopped after 3 pages")


async def test_the_default_bounds_end_an_endless_list() -> None:
    server = Endless(page_size=1)
    async with client_for(server) as client:
        with pytest.raises(ListingTooLong):
            await client.list_jobs()
    assert server.requests == DEFAULT_LIST_LIMITS.max_pages == 1_000


async def test_a_list_that_ends_is_read_whole_within_the_bounds() -> None:
    pages = {
        None: {"value": [{"id": "a"}], "odata.nextLink": f"{ENDPOINT}/jobs?$skiptoken=2"},
        "2": {"value": [{"id": "b"}]},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        token = parse_qs(urlsplit(str(request.url)).query).get("$skiptoken", [None])[0]
        return httpx.Response(200, json=pages[token])

    client = BatchClient(
        ENDPOINT, transport=httpx.MockTransport(handler), list_limits=ListLimits(max_pages=2)
    )
    async with client:
        assert [j.id for j in await client.list_jobs()] == ["a", "b"]


def test_bounds_must_be_positive() -> None:
    for bad in ({"max_pages": 0}, {"max_items": 0}, {"max_seconds": 0.0}):
        with pytest.raises(ValueError):
            ListLimits(**bad)  # type: ignore[arg-type]
