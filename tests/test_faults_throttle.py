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

from batchtui.batch.errors import BatchServiceError
from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.pacing import paced_wait
from batchtui.refresh.throttle import MOST_RELAPSES
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
    assert [paced_wait(5.0, "auth", n) for n in range(1, 8)] == [20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert paced_wait(5.0, None, 3) == paced_wait(5.0, "offline", 3) == 5.0
    assert paced_wait(600.0, "auth", 9) == 600.0  # never faster than the chosen interval


async def test_the_probe_is_one_small_read_sent_once_whatever_the_answer() -> None:
    sim = make_sim(jobs=8)
    client = make_client(sim, retry=RetryPolicy(max_attempts=5, base_delay=0, max_delay=0), sleep=no_sleep)
    await client.probe()
    assert client.stats.bytes_received < 300  # one job's id, not the list
    sim.faults.throttle_rate = 1.0
    sim.faults.throttle_retry_after = 7
    with pytest.raises(BatchServiceError) as caught:
        await client.probe()
    assert caught.value.status == 429 and caught.value.retry_after == 7.0
    assert [(r.path, r.status) for r in sim.requests] == [("/jobs", 200), ("/jobs", 429)]
    await client.aclose()


async def test_a_throttling_storm_slows_the_dashboard_down_and_it_recovers_by_itself() -> None:
    sim = make_sim(jobs=8)
    timer = ManualTimer()
    app = storm_app(sim, timer)
    gate = app.engine.throttle
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
            if gate.relapses >= 1:
                break
            await requests_over(pilot, app, sim, timer, 1)
        assert gate.active and gate.relapses >= 1
        seen.add(screen.status.plain)
        said = [p for p in seen if re.match(r"⚠ (throttled[:,] |refresh failed · .*throttled: )", p)]
        assert said, seen
        assert any(re.search(r"slowing down, next try in [1-5] s", p) for p in said)

        # Keys are answered at once while the storm goes on.
        before = screen.table.cursor_row
        await pilot.press("j")
        assert screen.table.cursor_row == before + 1
        await pilot.press("k")

        # Storm: one probe an interval; a full refresh only when a probe gets through (after a
        # relapse, one or two more), its 429s not retried inside the call (the probe is the retry).
        polls, probes = screen.fetches, gate.probes
        stormy = await requests_over(pilot, app, sim, timer, 24)
        assert gate.probes - probes <= 24
        assert 2 <= screen.fetches - polls <= 24 // 3
        # About one request an interval (the probes), and a refresh now and then: 35 here, 60 calm.
        assert stormy <= 24 * 1.5, f"calm {calm}, storm {stormy}: the dashboard did not back off"
        # What the service saw: plenty of 429s, every one answered by waiting.
        assert any(r.status == 429 for r in sim.requests[-50:])

        # The storm ends: the full refresh is back after at most one probe per relapse left.
        sim.faults.clear()
        waited = 0
        while gate.active or screen.status.error is not None:
            assert waited <= MOST_RELAPSES, f"not back after {waited} intervals"
            await requests_over(pilot, app, sim, timer, 1)
            waited += 1
        assert screen.next_wait == REFRESH
        assert "throttled" not in screen.status.plain and screen.status.plain.startswith("updated 0s ago")
        polls = screen.fetches
        recovered = await requests_over(pilot, app, sim, timer, 24)
        assert screen.fetches - polls == 24  # the pace is back: one poll an interval
        assert recovered >= calm * 0.8, f"calm {calm}, storm {stormy}, after {recovered}: pace not back"


async def test_a_hard_throttle_sends_one_probe_an_interval_and_recovery_shows_within_one() -> None:
    """Every request answered 429: one small probe an interval, and fresh one interval after."""
    sim = make_sim(jobs=8)
    timer = ManualTimer()
    app = storm_app(sim, timer)
    gate = app.engine.throttle
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await requests_over(pilot, app, sim, timer, 2)
        sim.faults.throttle_rate = 1.0
        await requests_over(pilot, app, sim, timer, 1)  # the refresh that meets the throttle
        assert gate.active
        polls, probes, start = screen.fetches, gate.probes, len(sim.requests)
        sent = await requests_over(pilot, app, sim, timer, 20)
        assert sent == gate.probes - probes == 20, sent  # one probe an interval, nothing else
        assert screen.fetches == polls  # the views waited: no full refresh into the throttle
        assert all(r.status == 429 and r.path == "/jobs" for r in sim.requests[start:])
        assert screen.status.plain.startswith("⚠ refresh failed · slowing down, next try in 5 s")
        assert screen.table.total_count == 8  # the last good data stays

        sim.faults.clear()
        await requests_over(pilot, app, sim, timer, 1)  # one interval: no more time passes below
        assert not gate.active
        await wait_for(pilot, lambda: screen.status.error is None)
        assert screen.status.plain.startswith("updated 0s ago"), screen.status.plain
        assert screen.fetches == polls + 1


async def test_a_retry_after_is_honoured_exactly_and_nothing_goes_before_it() -> None:
    sim = make_sim(jobs=8)
    timer = ManualTimer()
    app = storm_app(sim, timer)
    gate = app.engine.throttle
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await requests_over(pilot, app, sim, timer, 1)
        sim.faults.throttle_rate = 1.0
        sim.faults.throttle_retry_after = 30  # six intervals: not slept inside a refresh
        await requests_over(pilot, app, sim, timer, 1)
        assert gate.active and gate.hold_until == timer.now + 30
        assert await requests_over(pilot, app, sim, timer, 5) == 0  # 25 s: nothing, not a probe
        # The line (repainted each second) counts down to the Retry-After's end.
        await wait_for(pilot, lambda: "slowing down, next try in 5 s" in screen.status.plain)
        sim.faults.clear()
        await requests_over(pilot, app, sim, timer, 1)  # 30 s after the 429: the probe, then all
        assert not gate.active
        await wait_for(pilot, lambda: screen.status.error is None)
        assert screen.status.plain.startswith("updated 0s ago"), screen.status.plain


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
        await wait_for(pilot, lambda: screen.status.retry is None and app.engine.throttle.active)
        # It got through, after a 429: fresh data, and the next turn is a probe an interval on.
        assert screen.status.error is None
        assert screen.status.plain.startswith("⚠ throttled: slowing down, next try in 30 s · updated 0s ago")
