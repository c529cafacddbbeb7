"""The refresh plan: which requests each tick is worth (issue 5), measured at the simulator."""

from __future__ import annotations

import asyncio

from ui_support import make_client, make_sim

from batchtui.refresh.jobs import (
    JOB_LIST_SELECT,
    JobsMonitor,
    completions_per_minute,
    default_job_order,
    state_filter,
)


def served(sim, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.path for r in sim.requests[since:]]


def counts_paths(paths: list[str]) -> list[str]:
    return [p for p in paths if p.endswith("/taskcounts")]


async def test_list_every_third_tick_selected_counts_every_tick_completed_counts_once() -> None:
    sim = make_sim(jobs=30)
    async with make_client(sim) as client:
        mon = JobsMonitor(client, list_every=3, now=sim.clock.now)
        snap = await mon.tick()
        assert snap.listed and len(snap.jobs) == len(sim.job_ids())
        order = [j.id for j in default_job_order(snap.jobs)]
        window = order[:10]
        by_id = {j.id: j for j in snap.jobs}
        running = next(k for k in window if by_id[k].state == "active")
        mon.focus(running, window)

        n = len(sim.requests)
        snap = await mon.tick()  # timer tick 2: only the selected job's counts
        assert served(sim, n) == [f"/jobs/{running}/taskcounts"]
        assert not snap.listed and snap.requests == 1

        n = len(sim.requests)
        await mon.tick()  # tick 3: same
        assert served(sim, n) == [f"/jobs/{running}/taskcounts"]

        n = len(sim.requests)
        snap = await mon.tick()  # tick 4: the list, and counts of the unfinished jobs on screen
        paths = served(sim, n)
        assert paths[0] == "/jobs" and snap.listed
        fetched = {p.split("/")[2] for p in counts_paths(paths)}
        completed = {k for k in window if by_id[k].state == "completed"}
        assert fetched == set(window) - completed  # completed: read on tick 1, never again
        assert all(snap.counts[k].final for k in completed)


async def test_job_list_asks_for_the_shown_columns_and_the_state_server_side() -> None:
    sim = make_sim(jobs=30)
    seen: list[str] = []
    async with make_client(sim) as client:
        original = client.list_jobs

        async def spy(**kw):  # type: ignore[no-untyped-def]
            seen.append(repr(kw))
            return await original(**kw)

        client.list_jobs = spy  # type: ignore[method-assign]
        mon = JobsMonitor(client, state="completed", now=sim.clock.now)
        snap = await mon.tick()
    assert snap.jobs and all(j.state == "completed" for j in snap.jobs)
    assert "state eq 'completed'" in seen[0] and repr(list(JOB_LIST_SELECT)) in seen[0]
    assert state_filter("active,terminating") == "(state eq 'active' or state eq 'terminating')"
    assert state_filter("it's") == "state eq 'it''s'"


async def test_counts_run_concurrently_but_bounded() -> None:
    sim = make_sim(jobs=40)
    async with make_client(sim) as client:
        in_flight = peak = 0
        original = client.get_task_counts

        async def slow(job_id: str):  # type: ignore[no-untyped-def]
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            try:
                return await original(job_id)
            finally:
                in_flight -= 1

        client.get_task_counts = slow  # type: ignore[method-assign]
        mon = JobsMonitor(client, concurrency=4, initial_window=20, now=sim.clock.now)
        snap = await mon.tick()
    assert len(snap.counts) == 20
    assert peak == 4


async def test_jobs_that_leave_the_list_are_forgotten_and_history_is_bounded() -> None:
    sim = make_sim(jobs=20)
    async with make_client(sim) as client:
        mon = JobsMonitor(client, list_every=1, history_len=5, now=sim.clock.now)
        snap = await mon.tick()
        victim = next(iter(snap.counts))
        keep = next(k for k in snap.counts if k != victim and not snap.counts[k].final)
        mon.focus(keep, [victim, keep])
        for _ in range(8):
            sim.clock.advance(60)
            snap = await mon.tick()
        assert len(snap.history) == 5  # the selected job's ring, never longer
        assert completions_per_minute(snap.history) is not None
        assert sim.delete_job(victim)
        sim.clock.advance(3600)  # long enough for the deleted job to vanish from the list
        snap = await mon.tick("full")
        assert victim not in {j.id for j in snap.jobs}
        assert victim not in snap.counts
        assert victim not in mon._history


async def test_a_failed_list_raises_and_a_failed_count_is_kept_per_job() -> None:
    sim = make_sim(jobs=10)
    async with make_client(sim) as client:
        mon = JobsMonitor(client, now=sim.clock.now)
        snap = await mon.tick()
        key = next(k for k, e in snap.counts.items() if not e.final)
        mon.focus(key, [key])
        sim.faults.error_rate = 1.0
        snap = await mon.tick()  # timer tick 2: counts only
        assert snap.error is not None
        assert snap.counts[key].result is not None  # the last good counts stay
        from batchtui.batch.errors import BatchClientError

        try:
            await mon.tick("full")
        except BatchClientError:
            pass
        else:
            raise AssertionError("a failed job list must raise")
