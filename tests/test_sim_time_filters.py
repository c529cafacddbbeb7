"""The simulator's job list takes date-time filters as the service documents them (REFERENCE §2:
lastModified, stateTransitionTime, creationTime ... with eq/ne/gt/ge/lt/le), written as the
docs write them: ``stateTransitionTime gt DateTime'2026-12-01T10:00:00.0000000Z'``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sim_support import make_client, make_sim

from batchtui.batch.errors import BatchServiceError


def odata_time(when: object) -> str:
    return f"DateTime'{when:%Y-%m-%dT%H:%M:%S.%f}0Z'"


async def test_changed_since_returns_exactly_the_jobs_that_changed() -> None:
    sim = make_sim(jobs=60, time_scale=0)
    async with make_client(sim) as client:
        jobs = await client.list_jobs(select=["id", "state", "stateTransitionTime", "lastModified"])
        times = sorted(j.state_transition_time for j in jobs if j.state_transition_time)
        # The wire has 7 fractional digits and Python keeps 6: cut between two microseconds.
        cut = times[len(times) // 2] + timedelta(microseconds=1)
        want = {j.id for j in jobs if j.state_transition_time and j.state_transition_time >= cut}
        got = await client.list_jobs(filter=f"stateTransitionTime gt {odata_time(cut)}")
        assert {j.id for j in got} == want and 0 < len(want) < len(jobs)
        # The prefix is matched in any case (UNCONFIRMED on the service; harmless here).
        ge = await client.list_jobs(filter=f"stateTransitionTime ge datetime'{cut.isoformat()}'")
        assert {j.id for j in ge} == want
        combined = await client.list_jobs(
            filter=f"(state eq 'active') and (lastModified gt {odata_time(cut)} or stateTransitionTime gt {odata_time(cut)})"
        )
        assert {j.id for j in combined} <= {j.id for j in jobs if j.state == "active"}
        later = cut + timedelta(days=3650)
        assert await client.list_jobs(filter=f"lastModified gt {odata_time(later)}") == []


async def test_a_date_time_that_does_not_parse_is_refused_with_a_reason() -> None:
    sim = make_sim()
    async with make_client(sim) as client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs(filter="lastModified gt DateTime'yesterday'")
    assert info.value.status == 400 and "not a date-time" in str(info.value.values)
