"""A focus tick (rows without counts scrolled into view) reads only those rows' counts.

bench/refresh_cost.py counted a focus tick re-reading the selected job's counts, which the
timer tick before it had just read; the timer ticks still read the selected job every time.
"""

from __future__ import annotations

from ui_support import make_client, make_sim

from batchtui.refresh.jobs import JobsMonitor, default_job_order


async def test_focus_tick_reads_only_rows_without_counts_and_timer_ticks_still_read_the_selected() -> None:
    sim = make_sim(jobs=90)
    async with make_client(sim) as client:
        mon = JobsMonitor(client, list_every=3, now=sim.clock.now)
        snap = await mon.tick()
        by_id = {j.id: j for j in snap.jobs}
        order = [j.id for j in default_job_order(snap.jobs)]
        selected = next(k for k in order[:10] if by_id[k].state == "active")
        mon.focus(selected, order[:10])
        await mon.tick()  # timer tick: the selected job's counts (the others were read on the first)

        # The operator scrolls: ten rows nobody has read yet come into view.
        fresh = [k for k in order[10:] if k not in snap.counts][:10]  # past the first 40
        assert fresh
        mon.focus(selected, [*order[5:10], *fresh])
        assert mon.needs_counts()
        n = len(sim.requests)
        focus_snap = await mon.tick("focus")
        paths = [r.path for r in sim.requests[n:]]
        assert sorted(paths) == sorted(f"/jobs/{k}/taskcounts" for k in fresh)
        assert focus_snap.requests == len(fresh)
        assert all(focus_snap.counts[k].result is not None for k in fresh)

        n = len(sim.requests)
        await mon.tick()  # the next timer tick reads the selected job again
        assert [r.path for r in sim.requests[n:]] == [f"/jobs/{selected}/taskcounts"]

        # A focus tick for a selected job that has no counts yet does read it.
        unread = next(k for k in order if k not in mon.snapshot().counts)
        mon.focus(unread, [unread])
        n = len(sim.requests)
        await mon.tick("focus")
        assert [r.path for r in sim.requests[n:]] == [f"/jobs/{unread}/taskcounts"]
