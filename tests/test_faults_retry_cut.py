"""Issue 14.3: a retry that sleeps can be cut, and a long Retry-After does not hold a refresh.

The engine's ManualTimer stands still here, so anything that happens happens because of a key
or an answer, never because real time passed."""

from __future__ import annotations

from test_faults_outage import ticking_sim
from ui_support import make_client, wait_for

from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.timer import ManualTimer
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)


def test_a_retry_after_longer_than_the_longest_wait_is_not_retried_within_the_call() -> None:
    policy = RetryPolicy(max_delay=30, longest_wait=5)
    assert policy.delay(0, 4.0) == 4.0
    assert policy.delay(0, 120.0) is None  # the call fails now; the next refresh tries again
    assert RetryPolicy(max_delay=30).delay(0, 120.0) == 30.0  # without it: waited out, capped
    assert policy.delay(0, None) is not None  # backoff without Retry-After is unchanged


async def test_refresh_now_cuts_a_sleeping_retry_and_sends_at_once() -> None:
    sim, ticker = ticking_sim()
    client = make_client(sim, retry=RetryPolicy(max_attempts=3, base_delay=0, max_delay=30))
    timer = ManualTimer()
    app = make_app(client, refresh=60.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.status.last_ok is not None)
        sim.faults.outage(7, kind="503")  # answered with Retry-After: 7
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.retry is not None)
        assert screen.status.plain.startswith("⚠ unavailable, retrying in 7 s")
        sent = len(sim.requests)
        ticker.t += 8  # the service is back; the client would still sleep 7 s on the engine's clock
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.retry is None and screen.status.error is None)
        assert len(sim.requests) > sent and sim.requests[-1].status == 200
        assert timer.now == 1000.0  # no time passed: the key cut the wait
