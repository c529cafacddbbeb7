"""An account as the dashboard keeps it (issue 16): every poll of its engine, whichever view made
it, feeds its history, events and health, with no request of its own; its watch reads it when
no screen does; its pinned jobs are read every tick. Against the in-process simulator, time
moved with a ManualTimer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sim_support import make_client, make_sim

from batchtui.batch.auth import SharedKeyAuth
from batchtui.refresh.account import Account, state_slug
from batchtui.refresh.engine import PollHandle
from batchtui.refresh.events import Event
from batchtui.refresh.timer import ManualTimer


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {condition}")


async def tick(handle: PollHandle[object], timer: ManualTimer, seconds: float = 5.0) -> None:
    await until(lambda: timer.sleeping >= 1)
    polls = handle.polls
    timer.advance(seconds)
    await until(lambda: handle.polls > polls)


async def test_the_watch_feeds_history_events_and_the_overview_row(tmp_path: Path) -> None:
    sim = make_sim(jobs=16)
    timer = ManualTimer()
    told: list[Event] = []
    async with make_client(sim) as client:
        account = Account(
            "prod",
            client,
            timer=timer,
            now=sim.clock.now,
            state_dir=tmp_path,
            on_events=lambda _a, events: told.extend(events),
        )
        assert account.summary().status == "waiting"
        handle = account.watch(active=lambda: True)
        assert account.watch(active=lambda: True) is handle  # one watch per account
        await until(lambda: handle.polls == 1)
        assert told == []  # the first read is a baseline: failures already there do not alert
        first = account.summary()
        assert first.status == "ok" and first.jobs == 16 and first.failed_last_hour == 0
        assert first.active_jobs == sum(1 for j in account.latest.jobs if j.state == "active")  # type: ignore[union-attr]
        requests = len(sim.requests)
        for _ in range(12):
            sim.clock.advance(60)
            await tick(handle, timer)
        # Every counts read was a sample; the history says what failed over the hour.
        sampled = [k for k, h in account.history.jobs.items() if len(h.samples) > 1]
        assert sampled
        later = account.summary()
        assert later.failed_last_hour == account.history.failed_since(sim.clock.now().timestamp() - 3600)
        assert {e.kind for e in told} <= {
            "job-created",
            "job-completed",
            "job-disabled",
            "job-terminated",
            "job-deleted",
            "task-failed",
        }
        assert any(e.kind == "task-failed" for e in told), [e.message for e in told]
        # None of that cost a request beyond the watch's own polls.
        assert len(sim.requests) > requests
        assert account.save_state() is None
        path = tmp_path / "accounts" / state_slug("prod", client.endpoint) / "history.json"
        assert path.exists()
        handle.close()


async def test_pinned_jobs_are_read_every_tick_like_the_selected_one() -> None:
    sim = make_sim(jobs=30)
    timer = ManualTimer()
    async with make_client(sim) as client:
        account = Account("prod", client, timer=timer, now=sim.clock.now)
        handle = account.watch(active=lambda: True)
        await until(lambda: handle.polls == 1)
        snap = account.latest
        assert snap is not None
        moving = [k for k, e in snap.counts.items() if not e.final]
        pinned = moving[-1]
        account.toggle_pin(pinned)
        reads = []
        for _ in range(8):
            n = len(sim.requests)
            await tick(handle, timer)
            reads.append(sum(1 for r in sim.requests[n:] if r.path == f"/jobs/{pinned}/taskcounts"))
        assert reads == [1] * 8  # quiet or not, every tick
        handle.close()


async def test_health_ok_throttled_offline_and_sign_in_failed() -> None:
    sim = make_sim(jobs=5)
    timer = ManualTimer()
    statuses: list[str] = []
    events: list[Event] = []
    async with make_client(sim) as client:
        account = Account(
            "a", client, timer=timer, now=sim.clock.now, on_events=lambda _a, e: events.extend(e)
        )
        account.detector.offline_after = 0
        handle = account.watch(active=lambda: True)
        await until(lambda: handle.polls == 1)
        statuses.append(account.summary().status)
        sim.faults.outage(3600, kind="refuse")
        for _ in range(3):  # the job list is read every third tick (the counts may not be due)
            await tick(handle, timer)
        statuses.append(account.summary().status)
        assert account.summary().problem
        sim.faults.outage(0)
        sim.faults.throttle_rate = 1.0
        for _ in range(3):
            await tick(handle, timer, 600)
        statuses.append(account.summary().status)
        sim.faults.throttle_rate = 0.0
        for _ in range(3):
            await tick(handle, timer, 600)
        statuses.append(account.summary().status)
        handle.close()
    assert statuses == ["ok", "offline", "throttled", "ok"]
    assert [e.kind for e in events if e.kind.startswith("account")] == ["account-offline", "account-online"]

    async with make_client(sim, auth=SharedKeyAuth(sim.config.account, "d3Jvbmc=")) as wrong:
        account = Account("b", wrong, timer=timer, now=sim.clock.now)
        handle = account.watch(active=lambda: True)
        await until(lambda: handle.polls == 1)
        assert account.summary().status == "sign-in failed"
        handle.close()


def test_state_folders_are_readable_and_distinct_per_endpoint() -> None:
    a = state_slug("prod/eu ✓", "https://a.westeurope.batch.azure.com")
    b = state_slug("prod/eu ✓", "https://b.westeurope.batch.azure.com")
    assert a.startswith("prod_eu-") and a != b and "/" not in a
