"""A service whose every page links to another (issue 14.1), on the dashboard: the job list
shows the jobs read and says it stopped, instead of "loading…" forever, and the ``c`` recount
of a job whose task list never ends stops with a message on the count bar."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from ui_support import FrozenClock, wait_for

from batchtui.batch.client import BatchClient
from batchtui.batch.paging import ListLimits
from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.jobs import JobsMonitor
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar

ENDPOINT = "http://127.0.0.1:9"
PAGE = 10
COUNTS = {"active": 1, "running": 2, "completed": 3, "succeeded": 3, "failed": 0}


class EndlessService:
    """Jobs and tasks listed endlessly (a new $skiptoken per page); task counts answered."""

    def __init__(self) -> None:
        self.list_requests = 0
        self.task_requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/taskcounts"):
            return httpx.Response(200, json={"taskCounts": COUNTS, "taskSlotCounts": COUNTS})
        skip = int(parse_qs(urlsplit(str(request.url)).query).get("$skiptoken", ["0"])[0])
        link = f"{ENDPOINT}{path}?api-version=2025-06-01&$skiptoken={skip + PAGE}"
        if path == "/jobs":
            self.list_requests += 1
            items: list[dict[str, Any]] = [
                {"id": f"job-{skip + i:04d}", "state": "active"} for i in range(PAGE)
            ]
        else:
            self.task_requests += 1
            items = [{"id": f"t-{skip + i}", "state": "running"} for i in range(PAGE)]
        return httpx.Response(200, json={"value": items, "odata.nextLink": link})


def endless_client(service: EndlessService, pages: int) -> BatchClient:
    return BatchClient(
        ENDPOINT,
        transport=httpx.MockTransport(service),
        retry=RetryPolicy(max_attempts=1),
        list_limits=ListLimits(max_pages=pages),
    )


async def test_the_job_list_shows_what_was_read_and_says_it_stopped() -> None:
    service = EndlessService()
    app = make_app(endless_client(service, pages=6), refresh=3600.0, monotonic=FrozenClock())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.status.error is not None and screen.fetches >= 1)
        assert len(screen.table.rows_by_key) == 6 * PAGE  # every job read is shown
        assert service.list_requests == 6
        plain = screen.status.plain
        assert plain.startswith(
            "⚠ refresh failed · updated 0s ago · list too long: list_jobs: stopped after 6 pages"
        )
        assert "odata.nextLink" in plain
        # The rows read have their counts (the list failing did not stop the rest of the tick).
        key = screen.table.selected_key
        assert key is not None and screen.snapshot is not None
        entry = screen.snapshot.counts.get(key)
        assert entry is not None and entry.result is not None

        # c: the exact recount of a job whose task list never ends stops too, and says so.
        assert screen.monitor is not None
        screen.monitor.recount_limits = ListLimits(max_pages=4)  # the default is 2,000 pages
        await pilot.press("c")
        bar = screen.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.recount is not None and bar.data.recount.error is not None)
        text = " ".join(line.plain for line in bar._lines(200))
        assert re.search(r"⚠ recount failed: list too long: list_tasks: stopped after 4 pages", text), text


async def test_the_monitor_keeps_the_partial_list_until_the_next_list_read() -> None:
    service = EndlessService()
    monitor = JobsMonitor(endless_client(service, pages=3), list_every=3)
    snap = await monitor.tick("timer")
    assert len(snap.jobs) == 3 * PAGE and snap.list_error is not None
    assert not snap.all_failed  # the counts of the jobs read did arrive
    before = service.list_requests
    snap = await monitor.tick("timer")  # not a list tick: the partial list is not re-read
    assert service.list_requests == before and snap.list_error is not None
