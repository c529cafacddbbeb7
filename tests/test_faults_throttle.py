"""A throttling storm through the simulator: half of all requests answered 429 with Retry-After.

The dashboard keeps answering keys, says it is throttled, really sends fewer requests (measured
on the simulator's request log), and returns to its normal pace by itself once the storm ends."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from ui_support import ENDPOINT, FrozenClock, make_sim, wait_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.base import paced_wait
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)
REFRESH = 0.1


def storm_app(sim: Simulator) -> BatchApp:
    # Retry-After (1-3 s from the simulator) is capped at 50 ms so the test runs in seconds;
    # the proportions between calm and storm are what is measured.
    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
    )
    return make_app(client, refresh=REFRESH, now=sim.clock.now, monotonic=FrozenClock())


async def rate(sim: Simulator, seconds: float) -> float:
    """Requests per second the simulator received over the next ``seconds`` of real time."""
    loop = asyncio.get_running_loop()
    n0, t0 = len(sim.requests), loop.time()
    await asyncio.sleep(seconds)
    return (len(sim.requests) - n0) / (loop.time() - t0)


def test_the_pace_doubles_up_to_a_cap_and_auth_waits_longer() -> None:
    assert [paced_wait(5.0, "throttled", n) for n in range(1, 6)] == [10.0, 20.0, 40.0, 40.0, 40.0]
    assert [paced_wait(5.0, "auth", n) for n in range(1, 8)] == [20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert paced_wait(5.0, None, 3) == paced_wait(5.0, "offline", 3) == 5.0
    assert paced_wait(600.0, "throttled", 9) == 600.0  # never faster than the chosen interval
    for n in range(1, 10):
        assert paced_wait(5.0, "auth", n) >= paced_wait(5.0, "throttled", n)


async def test_a_throttling_storm_slows_the_dashboard_down_and_it_recovers_by_itself() -> None:
    sim = make_sim(jobs=8)  # few jobs: the calm pace is set by the interval, not by the CPU
    app = storm_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        calm = await rate(sim, 1.0)
        assert calm > 10, f"the calm pace should be brisk at a {REFRESH}s refresh, got {calm:.0f}/s"

        sim.faults.throttle_rate = 0.5
        seen: set[str] = set()

        def throttled_shown() -> bool:
            seen.add(screen.status.plain)
            return screen.backoff_steps >= 3

        await wait_for(pilot, throttled_shown, within=10)
        said = [p for p in seen if re.match(r"⚠ (throttled[:,] |refresh failed · .*throttled: )", p)]
        assert said, seen
        assert any(re.search(r"slowing down, next try in \d+ s", p) for p in said)
        assert screen.next_wait == pytest.approx(REFRESH * 8)

        # Keys are answered at once while the storm goes on.
        before = screen.table.cursor_row
        await pilot.press("j")
        assert screen.table.cursor_row == before + 1
        await pilot.press("k")

        stormy = await rate(sim, 1.5)
        assert stormy < calm / 2.5, f"calm {calm:.0f}/s, storm {stormy:.0f}/s: the dashboard did not back off"
        # What the service saw: plenty of 429s, every one answered by waiting.
        assert any(r.status == 429 for r in sim.requests[-50:])

        sim.faults.clear()
        await wait_for(pilot, lambda: screen.backoff_steps == 0 and screen.status.error is None, within=5)
        assert screen.next_wait == REFRESH
        assert "throttled" not in screen.status.plain and screen.status.plain.startswith("updated 0s ago")
        recovered = await rate(sim, 1.0)
        assert recovered > stormy * 2, f"storm {stormy:.0f}/s, after {recovered:.0f}/s: pace not back"


async def test_a_retry_after_is_shown_as_it_was_given() -> None:
    """One 429 with Retry-After: 2 reads "throttled, retrying in 2 s" until the retry goes."""
    sim = make_sim()
    release = asyncio.Event()
    delays: list[float] = []

    async def held(seconds: float) -> None:
        delays.append(seconds)
        await release.wait()

    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=3, base_delay=0, max_delay=30),
        sleep=held,
    )
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
