"""A throttling storm through the simulator: half of all requests answered 429 with Retry-After.

The dashboard keeps answering keys, says it is throttled, really sends fewer requests (counted
on the simulator's request log while the engine's ManualTimer moves a set number of intervals:
a count, not a rate a busy machine can push over a threshold), and returns to its normal pace
by itself once the storm ends."""

from __future__ import annotations

import asyncio
import re

import pytest
from textual.pilot import Pilot
from ui_support import FrozenClock, make_client, make_sim, settle, wait_for

from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.pacing import paced_wait
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)
REFRESH = 5.0  # seconds on the engine's ManualTimer: they cost no real time


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


def storm_app(sim: Simulator, timer: ManualTimer) -> BatchApp:
    # The engine waits on a ManualTimer the test moves; the client's retry waits are instant.
    client = make_client(
        sim, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05), sleep=no_sleep
    )
    return make_app(client, refresh=REFRESH, now=sim.clock.now, timer=timer)


async def requests_over(pilot: Pilot[None], app: BatchApp, sim: Simulator, timer: ManualTimer, n: int) -> int:
    """Requests the simulator received while the engine's clock moved ``n`` refresh intervals."""
    start = len(sim.requests)
    for _ in range(n):
        await settle(pilot, app, timer)
        timer.advance(REFRESH)
    await settle(pilot, app, timer)
    return len(sim.requests) - start


def test_the_pace_doubles_up_to_a_cap_and_auth_waits_longer() -> None:
    assert [paced_wait(5.0, "throttled", n) for n in range(1, 6)] == [10.0, 20.0, 40.0, 40.0, 40.0]
    assert [paced_wait(5.0, "auth", n) for n in range(1, 8)] == [20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert paced_wait(5.0, None, 3) == paced_wait(5.0, "offline", 3) == 5.0
    assert paced_wait(600.0, "throttled", 9) == 600.0  # never faster than the chosen interval
    for n in range(1, 10):
        assert paced_wait(5.0, "auth", n) >= paced_wait(5.0, "throttled", n)


async def test_a_throttling_storm_slows_the_dashboard_down_and_it_recovers_by_itself() -> None:
    sim = make_sim(jobs=8)
    timer = ManualTimer()
    app = storm_app(sim, timer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        # Calm: a poll every interval: the jobs changed since the last read (one request), the
        # selected job's counts every time, and the other jobs that can change at their cadence
        # (the frozen world's counts never move: read at ticks 3, 9 and 21, gaps doubling from
        # 3). A completed job's counts, once read, are final.
        calm = await requests_over(pilot, app, sim, timer, 24)
        snap = screen.snapshot
        assert snap is not None
        changing = sum(1 for entry in snap.counts.values() if not entry.final)
        selected = int(not snap.counts[snap.selected].final) if snap.selected else 0
        assert changing >= 3
        assert selected == 1
        assert calm == 24 + 24 + 3 * (changing - selected), calm

        sim.faults.throttle_rate = 0.5
        seen: set[str] = set()
        for _ in range(40):
            seen.add(screen.status.plain)
            if screen.backoff_steps >= 3:
                break
            await requests_over(pilot, app, sim, timer, 1)
        assert screen.backoff_steps >= 3
        seen.add(screen.status.plain)
        said = [p for p in seen if re.match(r"⚠ (throttled[:,] |refresh failed · .*throttled: )", p)]
        assert said, seen
        assert any(re.search(r"slowing down, next try in \d+ s", p) for p in said)
        assert screen.next_wait == pytest.approx(REFRESH * 8)

        # Keys are answered at once while the storm goes on.
        before = screen.table.cursor_row
        await pilot.press("j")
        assert screen.table.cursor_row == before + 1
        await pilot.press("k")

        # Storm: a poll every 2 to 8 intervals (a lucky poll with no 429 eases the pace a
        # step), each of its requests tried up to 3 times; calm polls every interval.
        polls = screen.fetches
        stormy = await requests_over(pilot, app, sim, timer, 24)
        assert 3 <= screen.fetches - polls <= 24 // 4
        assert stormy < calm / 2.5, f"calm {calm}, storm {stormy}: the dashboard did not back off"
        # What the service saw: plenty of 429s, every one answered by waiting.
        assert any(r.status == 429 for r in sim.requests[-50:])

        sim.faults.clear()
        for _ in range(200):
            if screen.backoff_steps == 0 and screen.status.error is None:
                break
            await requests_over(pilot, app, sim, timer, 1)
        assert screen.backoff_steps == 0 and screen.status.error is None
        assert screen.next_wait == REFRESH
        assert "throttled" not in screen.status.plain and screen.status.plain.startswith("updated 0s ago")
        polls = screen.fetches
        recovered = await requests_over(pilot, app, sim, timer, 24)
        assert screen.fetches - polls == 24  # the pace is back: one poll an interval
        assert recovered > stormy * 2, f"storm {stormy}, after {recovered}: pace not back"


async def test_a_retry_after_is_shown_as_it_was_given() -> None:
    """One 429 with Retry-After: 2 reads "throttled, retrying in 2 s" until the retry goes."""
    sim = make_sim()
    release = asyncio.Event()
    delays: list[float] = []

    async def held(seconds: float) -> None:
        delays.append(seconds)
        await release.wait()

    client = make_client(sim, retry=RetryPolicy(max_attempts=3, base_delay=0, max_delay=30), sleep=held)
    app = make_app(client, refresh=30.0, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.status.last_ok is not None)
        sim.faults.throttle_rate = 1.0
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.retry is not None)
        want = f"⚠ throttled, retrying in {int(delays[0])} s · updated 0s ago"
        assert screen.status.plain.startswith(want), screen.status.plain
        sim.faults.clear()
        release.set()
        await wait_for(pilot, lambda: screen.status.retry is None and screen.backoff_steps == 1)
        # It got through, after a 429: fresh data, and the next refresh waits twice as long.
        assert screen.status.error is None
        assert screen.status.plain.startswith("⚠ throttled: slowing down, next try in 60 s · updated 0s ago")
