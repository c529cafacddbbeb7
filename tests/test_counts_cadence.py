"""Counts read as often as they change (issue 15.2): a quiet job's counts are read further and
further apart, up to about a minute; at once again when they change or the job changes state;
the selected job every tick. Counted at the simulator, tick by tick."""

from __future__ import annotations

from sim_support import make_client, make_sim

from batchtui.refresh.cadence import CountsCadence
from batchtui.refresh.jobs import JobsMonitor, default_job_order


def test_the_gap_doubles_while_quiet_and_snaps_back_on_a_change() -> None:
    c = CountsCadence(min_gap=3)
    c.pace(5.0)
    assert c.max_gap == 12
    tick, reads = 0, []
    c.read("j", tick, changed=True)
    for tick in range(1, 60):
        if c.due("j", tick):
            reads.append(tick)
            c.read("j", tick, changed=tick == 33)
    assert reads == [3, 9, 21, 33, 36, 42, 54]
    c.job_seen("j", "active")
    c.job_seen("j", "terminating")  # a state change: due at once
    assert c.due("j", 55)
    c.pace(1.0)
    assert c.max_gap == 60  # still about a minute at a faster refresh


async def test_a_quiet_account_costs_fewer_counts_reads_as_time_passes() -> None:
    sim = make_sim(jobs=30)  # a frozen world: nothing changes
    async with make_client(sim) as client:
        mon = JobsMonitor(client, list_every=3, now=sim.clock.now)
        mon.interval(5.0)
        snap = await mon.tick()
        window = [j.id for j in default_job_order(snap.jobs)][:12]
        changing = [k for k in window if not snap.counts[k].final]
        selected = changing[0]
        mon.focus(selected, window)
        per_tick = []
        for _ in range(36):
            n = len(sim.requests)
            await mon.tick()
            per_tick.append(sum(1 for r in sim.requests[n:] if r.path.endswith("/taskcounts")))
        others = len(changing) - 1
        # Every tick the selected job; the others at ticks 3, 9, 21, 33 (gap 3, 6, 12, 12).
        assert per_tick == [1 + (others if t in (3, 9, 21, 33) else 0) for t in range(1, 37)]

        # The world moves on (20 s a tick): a quiet job's change is seen at its next read
        # (within its gap: about a minute), and from then on it is read every third tick.
        # Quiet, these 25 ticks would read each job twice (ticks 45 and 57).
        n = len(sim.requests)
        for _ in range(25):
            sim.clock.advance(20)
            await mon.tick()
        reads = [r.path.split("/")[2] for r in sim.requests[n:] if r.path.endswith("/taskcounts")]
        busy = [k for k in changing[1:] if reads.count(k) >= 4]
        assert busy, {k: reads.count(k) for k in changing}
