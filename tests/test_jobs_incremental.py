"""The incremental job list (issue 15.1): between full reads only the jobs changed since the last
read are asked for, on the service's clock (its Date header) with an overlap; a job leaving
--state's states is dropped; the full read comes back on its period and on ctrl+r ("full").
Counted on the wire, with the query each list request carried."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sim_support import make_client, make_sim

from batchtui.batch.client import RequestEvent
from batchtui.refresh.jobs import JobsMonitor


def job_lists(events: list[RequestEvent]) -> list[str]:
    """The $filter of every List Jobs request ("" for none), in order."""
    out = []
    for e in events:
        url = urlsplit(e.url)
        if url.path == "/jobs":
            out.append(parse_qs(url.query).get("$filter", [""])[0])
    return out


async def test_between_full_reads_only_changed_jobs_are_asked_for() -> None:
    sim = make_sim(jobs=60, time_scale=0)
    events: list[RequestEvent] = []
    async with make_client(sim, on_event=events.append) as client:
        mon = JobsMonitor(client, now=sim.clock.now, full_every=5)
        first = await mon.tick()
        assert len(first.jobs) == len(sim.job_ids())
        assert job_lists(events) == [""]
        assert client.service_time is not None
        for _ in range(4):
            sim.clock.advance(120)
            await mon.tick()
        lists = job_lists(events)
        changed = [f for f in lists[1:] if f.startswith("lastModified ge DateTime'")]
        # One "changed since" read a tick, asked on the service's clock (10 s of overlap), with
        # only the few properties that tell a changed job; then the jobs whose eTag moved are
        # read whole, by id, 20 at a time.
        assert len(changed) == 4 and " or stateTransitionTime ge DateTime'" in changed[0]
        follow_ups = [f for f in lists[1:] if f.startswith("id eq '")]
        assert follow_ups and len(lists) == 1 + 4 + len(follow_ups)
        small = [e for e in events if "lastModified+ge" in e.url or "lastModified%20ge" in e.url]
        assert all("%24select=id%2CeTag%2Cstate" in e.url for e in small)
        # The merged list is the list a full read gives now.
        snap = mon.snapshot()
        truth = {j: s for j, s in ((j.id, j.state) for j in await client.list_jobs())}
        assert {j.id: j.state for j in snap.jobs} == truth
        # The period's sweep: every id, nothing else; a job deleted outright goes.
        gone = next(j.id for j in snap.jobs if j.id)
        assert sim.delete_job(gone)
        await mon.tick()
        last = [e for e in events if urlsplit(e.url).path == "/jobs"][-1]
        query = parse_qs(urlsplit(last.url).query)
        assert "$filter" not in query and query["$select"] == ["id"]
        assert gone not in {j.id for j in mon.jobs}
        # ctrl+r is always a full read.
        await mon.tick("full")
        assert job_lists(events)[-1] == ""


async def test_a_job_that_leaves_the_state_asked_for_is_dropped_without_a_full_read() -> None:
    sim = make_sim(jobs=60, time_scale=0)
    events: list[RequestEvent] = []
    async with make_client(sim, on_event=events.append) as client:
        mon = JobsMonitor(client, state="active", now=sim.clock.now, full_every=1000)
        await mon.tick()
        before = {j.id for j in mon.jobs}
        for _ in range(10):
            sim.clock.advance(600)
            await mon.tick()
        assert all(f != "state eq 'active'" for f in job_lists(events)[1:])  # incremental reads only
        now_active = {j.id for j in await client.list_jobs(filter="state eq 'active'")}
        assert {j.id for j in mon.jobs} == now_active
        assert before - now_active, "the world should have moved some jobs on"
