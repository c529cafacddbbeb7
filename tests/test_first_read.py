"""The CLI's start (batchtui.cli.run_dashboard): the first job list is read while the UI is
imported, and the jobs screen takes that read as its first refresh, once, whatever happens.

Each test runs the real start headless, with the simulator in-process behind a transport that
records (and can hold or break) what goes over the wire.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from ui_support import ENDPOINT, make_sim, wait_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.cli import UsageError, build_parser, run_dashboard
from batchtui.sim import Simulator
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar


class Wire(httpx.AsyncBaseTransport):
    """The simulator, recording each request's path; the job list can be held or broken."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.paths: list[str] = []
        self.hold_list = asyncio.Event()
        self.hold_list.set()
        self.break_list = 0  # how many job-list requests fail as a refused connection
        self.cancelled: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path == "/jobs":
            try:
                await self.hold_list.wait()
            except asyncio.CancelledError:
                self.cancelled.append(path)
                raise
            if self.break_list:
                self.break_list -= 1
                raise httpx.ConnectError("simulated outage: connection refused", request=request)
        return await self.inner.handle_async_request(request)

    def count(self, path: str) -> int:
        return self.paths.count(path)


def client_for(sim: Simulator, wire: Wire) -> BatchClient:
    return BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=wire,
        retry=RetryPolicy(max_attempts=1, base_delay=0, max_delay=0),
    )


async def start(sim: Simulator, wire: Wire, pilot_fn: Any, *flags: str) -> int:
    args = build_parser().parse_args(["--refresh", "3600", *flags])
    client = client_for(sim, wire)
    return await asyncio.wait_for(
        run_dashboard(args, client, "demo", {"now": sim.clock.now}, headless=True, size=(120, 40),
                      auto_pilot=pilot_fn),
        timeout=30,
    )


def jobs_screen(pilot: Any) -> JobsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def test_the_first_screen_comes_from_one_read_of_the_job_list() -> None:
    sim = make_sim(jobs=30)
    wire = Wire(sim)
    seen: dict[str, Any] = {}

    async def drive(pilot: Any) -> None:
        screen = jobs_screen(pilot)

        def counts_shown() -> bool:
            bar = screen.query_one(CountBar).data
            return bar.counts is not None and bar.job_id == screen.table.selected_key

        await wait_for(pilot, counts_shown)
        await pilot.pause(0.2)  # anything the start would read twice has time to go out
        seen["rows"] = screen.table.total_count
        seen["lists"] = wire.count("/jobs")
        seen["counts"] = sum(p.endswith("/taskcounts") for p in wire.paths)
        pilot.app.exit()

    assert await start(sim, wire, drive) == 0
    assert seen["rows"] == len(sim.job_ids())
    assert seen["lists"] == 1  # the early read was the screen's first refresh, not an extra one
    assert 1 <= seen["counts"] <= seen["rows"]


async def test_quitting_before_the_first_read_answers_stops_it() -> None:
    sim = make_sim(jobs=5)
    wire = Wire(sim)
    wire.hold_list.clear()  # the service never answers the job list

    async def drive(pilot: Any) -> None:
        await wait_for(pilot, lambda: wire.count("/jobs") == 1)
        pilot.app.exit()

    assert await start(sim, wire, drive) == 0  # returns (not hung on the read), and cleanly
    assert wire.cancelled == ["/jobs"]


async def test_a_first_read_that_fails_is_reported_and_the_next_refresh_recovers() -> None:
    sim = make_sim(jobs=12)
    wire = Wire(sim)
    wire.break_list = 1
    seen: dict[str, Any] = {}

    async def drive(pilot: Any) -> None:
        screen = jobs_screen(pilot)
        await wait_for(pilot, lambda: screen.status.offline_since is not None)
        seen["rows_while_down"] = screen.table.total_count
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.table.total_count == len(sim.job_ids()))
        seen["offline_after"] = screen.status.offline_since
        pilot.app.exit()

    assert await start(sim, wire, drive) == 0
    assert seen == {"rows_while_down": 0, "offline_after": None}
    assert wire.count("/jobs") == 2


async def test_an_unknown_theme_is_refused_and_nothing_is_left_running() -> None:
    sim = make_sim(jobs=5)
    wire = Wire(sim)
    wire.hold_list.clear()
    args = build_parser().parse_args(["--theme", "no-such-theme"])
    client = client_for(sim, wire)
    with pytest.raises(UsageError, match="unknown theme 'no-such-theme'"):
        await asyncio.wait_for(run_dashboard(args, client, "demo", {"now": sim.clock.now}), timeout=30)
    assert wire.cancelled == ["/jobs"]
    assert client._http.is_closed
