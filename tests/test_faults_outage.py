"""Outages through the simulator's fault injection: refused connections and 503 for a long
stretch. The last good rows stay, the status line says "offline since HH:MM:SS", the data is
dimmed as stale, and the first refresh after the service is back recovers, no key pressed."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from ui_support import ENDPOINT, FrozenClock, make_client, step, wait_for

from batchtui.batch.client import BatchClient, RequestEvent
from batchtui.batch.errors import TransportError
from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import SimConfig, Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)
REFRESH = 0.25


class Ticker:
    """The simulator's real-time source, for fault windows: moves only when the test says so."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def ticking_sim(**config: Any) -> tuple[Simulator, Ticker]:
    ticker = Ticker()
    config.setdefault("seed", 7)
    config.setdefault("jobs", 20)
    config.setdefault("time_scale", 0)
    return Simulator(SimConfig(**config), now=ticker), ticker


def live_app(sim: Simulator, *, attempts: int = 1, refresh: float = REFRESH) -> BatchApp:
    return make_app(
        make_client(sim, attempts=attempts), refresh=refresh, now=sim.clock.now, monotonic=FrozenClock()
    )


def jobs(app: BatchApp) -> JobsScreen:
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


def cells(screen: JobsScreen) -> dict[str, list[str]]:
    return {k: [c.plain for c in screen.table.get_row(k)] for k in screen.table.rows_by_key}


async def loaded(pilot: Any, app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = jobs(app)
    await wait_for(pilot, lambda: screen.status.last_ok is not None and screen.status.error is None)
    return screen


# --------------------------------------------------------------------------- the client


async def test_a_refused_connection_from_a_non_httpx_transport_is_offline_not_internal() -> None:
    sim, _ = ticking_sim()
    sim.faults.outage(60, kind="refuse")
    events: list[RequestEvent] = []
    async with make_client(sim, attempts=3, on_event=events.append) as client:
        with pytest.raises(TransportError) as info:
            await client.list_jobs()
    err = info.value
    assert err.kind == "offline"
    assert str(err) == (
        "list_jobs: connection failed (ConnectionRefusedError: simulated outage: connection refused)"
    )
    # retried like any other connection failure, and every attempt reported
    assert [e.attempt for e in events] == [1, 2, 3]
    assert [e.kind for e in events] == ["offline"] * 3
    assert events[-1].retry_in is None and events[0].retry_in == 0


class Broken(httpx.AsyncBaseTransport):
    """A transport with a bug of its own: whatever it raises must still be a BatchClientError."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "text", "calls"),
    [
        (OSError(113, "No route to host"), "connection failed (OSError: [Errno 113] No route to host)", 2),
        (ConnectionResetError("reset by peer"), "connection failed (ConnectionResetError: reset by peer)", 2),
        (RuntimeError("bad state"), "transport failed (connection failed (RuntimeError: bad state))", 1),
    ],
)
async def test_any_transport_exception_becomes_a_transport_error(
    exc: BaseException, text: str, calls: int
) -> None:
    transport = Broken(exc)
    async with BatchClient(
        ENDPOINT, transport=transport, retry=RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
    ) as client:
        with pytest.raises(TransportError) as info:
            await client.get_task_counts("j")
    assert str(info.value) == f"get_task_counts: {text}"
    assert transport.calls == calls  # OSErrors are retried; a transport's own bug is not


# --------------------------------------------------------------------------- the dashboard


@pytest.mark.parametrize("kind", ["refuse", "503"])
async def test_a_long_outage_keeps_the_rows_says_offline_since_and_recovers_by_itself(kind: str) -> None:
    sim, ticker = ticking_sim()
    timer = ManualTimer()  # the engine's clock and the status line's: moved by the test
    app = make_app(make_client(sim), refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app)
        before = cells(screen)
        sim.faults.outage(3600, kind=kind)
        await step(pilot, app, timer, 5.0)
        assert screen.status.error is not None
        since = f"⚠ offline since {sim.clock.now():%H:%M:%S} · updated 5s ago · "
        plain = screen.status.plain
        assert plain.startswith(since), plain
        if kind == "refuse":
            assert "offline: " in plain and "(ConnectionRefusedError: simulated outage" in plain
        else:
            assert "unavailable: HTTP 503 ServerBusy: The server is currently unable" in plain
        assert "internal error" not in plain
        assert screen.status.has_class("-error") and screen.has_class("-stale")
        # Minutes pass: refresh after refresh fails, the rows and the "since" stay put, the
        # age grows, and the dashboard keeps its pace (no backoff for an outage).
        fetches = screen.fetches
        for _ in range(36):
            await step(pilot, app, timer, 5.0)
        assert screen.fetches == fetches + 36  # one poll an interval
        assert cells(screen) == before
        assert screen.status.plain.startswith(since.replace("5s ago", "3m05s ago"))
        assert screen.next_wait == 5.0 and screen.backoff_steps == 0
        # The service comes back: the very next refresh brings the dashboard back.
        ticker.t += 3601
        fetches = screen.fetches
        await step(pilot, app, timer, 5.0)
        assert screen.fetches == fetches + 1 and screen.status.error is None
        assert screen.status.plain.startswith("updated 0s ago · demo")
        assert not screen.has_class("-stale")


async def test_an_outage_on_a_counts_only_tick_does_not_pretend_the_data_is_fresh() -> None:
    """Between job-list reads only the selected job's counts are fetched; when those fail too,
    the freshness must not restart and "offline since" must not creep forward."""
    sim, ticker = ticking_sim()
    app = live_app(sim, refresh=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app)
        assert screen.monitor is not None
        screen.monitor._ticks = 1  # the next timer tick is a counts-only one
        app.monotonic.advance(30)  # type: ignore[attr-defined]
        sim.faults.outage(3600, kind="refuse")
        screen.refresh_now("timer")
        await wait_for(pilot, lambda: screen.status.error is not None)
        assert screen.snapshot is not None and not screen.snapshot.listed
        assert screen.status.plain.startswith(
            f"⚠ offline since {sim.clock.now():%H:%M:%S} · updated 30s ago · offline: get_task_counts:"
        )
        ticker.t += 3601
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is None)


class HeldSleep:
    """The client's sleep between retries, released by the test (no real waiting)."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await self.release.wait()


async def test_the_status_line_says_when_a_request_is_being_retried() -> None:
    sim, ticker = ticking_sim()
    sleep = HeldSleep()
    client = make_client(sim, retry=RetryPolicy(max_attempts=3, base_delay=0, max_delay=30), sleep=sleep)
    app = make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot, app)
        fetches = screen.fetches
        sim.faults.outage(7, kind="503")  # answered with Retry-After: 7
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.retry is not None)
        assert 7.0 in sleep.calls
        assert screen.status.plain.startswith("⚠ unavailable, retrying in 7 s · updated 0s ago")
        assert screen.status.has_class("-warning")
        app.monotonic.advance(5)  # type: ignore[attr-defined]
        screen.status._tick()
        assert screen.status.plain.startswith("⚠ unavailable, retrying in 2 s")
        ticker.t += 8  # the service is back by the time the client tries again
        sleep.release.set()
        await wait_for(pilot, lambda: screen.fetches > fetches and screen.status.error is None)
        assert screen.status.retry is None
        assert screen.status.plain.startswith("updated 0s ago")
