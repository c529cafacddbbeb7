"""Scale: 1,000 jobs and a 1,000-rank MPI task must not make the simulator the bottleneck."""

from __future__ import annotations

import time

from test_sim_support import client, get, get_all

from batchtui.sim import SimConfig, Simulator


async def test_a_thousand_jobs_and_a_thousand_ranks_are_cheap() -> None:
    t0 = time.perf_counter()
    sim = Simulator(SimConfig(seed=7, jobs=1000, instances=1000, time_scale=0))
    build = time.perf_counter() - t0
    async with client(sim) as c:
        t0 = time.perf_counter()
        jobs = (await get(c, "/jobs")).json()["value"]
        list_jobs = time.perf_counter() - t0
        t0 = time.perf_counter()
        # the first MPI job is running its largest solver (1,000 ranks) when the warm-up ends
        subs, _ = await get_all(c, "/jobs/mpi-cfd-0001/tasks/solver-00/subtasksinfo")
        list_subtasks = time.perf_counter() - t0
    assert len(jobs) > 900
    assert len(subs) == 999
    # generous bounds for a loaded 2-core CI box; typical numbers are ~30 ms, ~60 ms and ~30 ms
    assert build < 1.0, build
    assert list_jobs < 2.0, list_jobs
    assert list_subtasks < 1.0, list_subtasks
