"""First paint: a long job list shows its first page (and the count bar) before the rest is read."""

from __future__ import annotations

import asyncio

import httpx
from ui_support import FrozenClock, make_client, make_sim, wait_for

from batchtui.refresh.jobs import JobsMonitor, default_job_order
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar

PAGE = 10


class HoldNextPages(httpx.AsyncBaseTransport):
    """The simulator, except job-list pages after the first wait until ``release`` (or fail)."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.release = asyncio.Event()
        self.fail = False
        self.wire: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        later_page = request.url.path == "/jobs" and "skiptoken" in str(request.url.query)
        if later_page:
            await self.release.wait()
            if self.fail:
                raise httpx.ConnectError("simulated outage: connection refused", request=request)
        self.wire.append(request.url.path)
        return await self.inner.handle_async_request(request)


def held_app(jobs: int = 35):  # type: ignore[no-untyped-def]
    sim = make_sim(jobs=jobs, max_page=PAGE)
    transport = HoldNextPages(sim)
    client = make_client(sim, transport=transport)
    app = make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    return app, sim, transport


async def test_the_first_page_and_the_selected_jobs_counts_show_before_the_other_pages() -> None:
    app, sim, transport = held_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        bar = screen.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.counts is not None)
        # Page 2 is still held: what shows is page 1 and the counts of the job under the cursor.
        assert screen.table.total_count == PAGE
        key = screen.table.selected_key
        assert bar.data.job_id == key
        assert transport.wire == ["/jobs", f"/jobs/{key}/taskcounts"]  # no other counts yet
        assert screen.table.get_row(screen.table.visible_keys[-1])[6].plain == "·"
        assert screen.fetches == 0 and screen.snapshot is not None and screen.snapshot.partial
        transport.release.set()
        await wait_for(pilot, lambda: screen.fetches >= 1)
        await pilot.pause()
        assert screen.table.total_count == len(sim.job_ids())
        assert screen.table.selected_key == key  # the cursor stayed on its job
        assert transport.wire.count(f"/jobs/{key}/taskcounts") == 1  # read once in that tick
        snap = screen.snapshot
        assert not snap.partial and snap.listed
        assert snap.requests == len(transport.wire)  # 4 pages + every counts request
        assert screen.status.last_ok is not None


async def test_a_page_failing_midway_says_why_keeps_the_first_page_and_reads_the_list_again() -> None:
    app, sim, transport = held_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        transport.fail = True
        transport.release.set()
        await wait_for(pilot, lambda: screen.status.error is not None)
        assert "connection refused" in screen.status.plain
        assert screen.table.total_count == PAGE  # what was read stays on screen
        transport.fail = False
        fetches = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches)
        await pilot.pause()
        assert screen.table.total_count == len(sim.job_ids())
        assert screen.status.error is None


async def test_the_selected_jobs_counts_are_the_first_counts_request_on_the_wire() -> None:
    sim = make_sim(jobs=30)
    async with make_client(sim) as client:
        mon = JobsMonitor(client, list_every=1, counts_every=1, now=sim.clock.now)
        snap = await mon.tick()
        window = [j.id for j in default_job_order(snap.jobs)][:12]
        selected = next(k for k in reversed(window) if not snap.counts[k].final)
        mon.focus(selected, window)  # the cursor on the last row of the window
        n = len(sim.requests)
        snap = await mon.tick()
        counts = [r.path for r in sim.requests[n:] if r.path.endswith("/taskcounts")]
        assert counts[0] == f"/jobs/{selected}/taskcounts"
        assert len(counts) > 1 and snap.requests == len(sim.requests) - n


async def test_a_one_page_list_is_painted_once_with_its_counts() -> None:
    sim = make_sim(jobs=20)
    stages: list[object] = []
    async with make_client(sim) as client:
        mon = JobsMonitor(client, now=sim.clock.now, on_progress=stages.append)
        snap = await mon.tick()
    assert stages == []  # nothing partial to show: one page, one paint
    assert snap.listed and snap.counts and not snap.partial
