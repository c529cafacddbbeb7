"""The simulator's task files: same seed, same bytes; growth only appends; any range reads the
same bytes as the whole; and what the files say agrees with the world (outcomes, exit codes,
ranks and their nodes)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.file_content import Run
from batchtui.sim.file_tree import rank_run, task_run
from batchtui.sim.files import RECORD, find, task_files
from batchtui.sim.schedule import JobPlan, TaskSpec


def world_runs(sim: Simulator) -> Iterator[tuple[JobPlan, TaskSpec, Run]]:
    w, t = sim.world, sim.clock.seconds()
    for job_id in sim.job_ids():
        plan = w.find_job(job_id, t)
        assert plan is not None
        for spec in w.visible_tasks(plan, t)[:25]:
            run = task_run(w, plan, spec, t)
            if run is not None:
                yield plan, spec, run


def whole(run: Run, name: str, t: float) -> bytes:
    f = find(task_files(run), name)
    assert f is not None and f.content is not None
    return f.content.read(0, f.content.size(t), t)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(seed=3, jobs=30, time_scale=0))


def test_same_seed_same_bytes(sim: Simulator) -> None:
    again = Simulator(SimConfig(seed=3, jobs=30, time_scale=0))
    t = sim.clock.seconds()
    mine = [(s.id, whole(r, "stdout.txt", t), whole(r, "stderr.txt", t)) for _, s, r in world_runs(sim)]
    theirs = [(s.id, whole(r, "stdout.txt", t), whole(r, "stderr.txt", t)) for _, s, r in world_runs(again)]
    assert mine == theirs and len(mine) > 100
    other = Simulator(SimConfig(seed=4, jobs=30, time_scale=0))
    assert [b for _, b, _ in mine[:20]] != [
        whole(r, "stdout.txt", t) for _, _, r in list(world_runs(other))[:20]
    ]


def test_a_running_tasks_files_only_grow_and_any_range_reads_the_same_bytes(sim: Simulator) -> None:
    t = sim.clock.seconds()
    running = [(p, s, r) for p, s, r in world_runs(sim) if r.end > t]
    assert running
    for _, _, run in running[:10]:
        for f in task_files(run):
            if f.content is None:
                continue
            before = f.content.read(0, min(f.content.size(t), 200_000), t)
            later = t + 600
            after = f.content.read(0, min(f.content.size(later), len(before) + 300_000), later)
            assert after.startswith(before), f.name
            for a, b in ((0, 7), (3, 1000), (len(after) // 2, len(after))):
                assert f.content.read(a, b, later) == after[a:b]


def test_failures_say_why_in_the_words_of_the_exit_code(sim: Simulator) -> None:
    t = sim.clock.seconds()
    seen: set[str] = set()
    for plan, _spec, run in world_runs(sim):
        if run.outcome != "exit" or run.kind == "mpi" or run.end > t:
            continue
        err = whole(run, "stderr.txt", t) + whole(run, "stdout.txt", t)
        if run.exit_code == 137:
            assert b"Killed" in err
        elif run.exit_code == 139:
            assert b"Segmentation fault" in err
        elif plan.kind.prefix.startswith("etl"):
            assert b"Traceback (most recent call last):" in err
        seen.add(f"{run.kind}:{run.exit_code}")
    assert len(seen) >= 3


def test_a_multi_instance_task_has_every_rank_on_its_own_node() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, instances=8, time_scale=0))
    w, t = sim.world, sim.clock.seconds()
    plan = w.find_job("mpi-cfd-0001", t)  # anchored: solver-00 has a rank that dies
    assert plan is not None
    spec = w.find_task(plan, "solver-00", t)
    assert spec is not None and spec.mi is not None
    primary = task_run(w, plan, spec, t)
    assert primary is not None
    out = whole(primary, "stdout.txt", t)
    pool = w.pools[plan.kind.pool]
    subs = w.subtasks_of(plan, spec)
    assert primary.nodes == (pool.node_ids[spec.node], *(pool.node_ids[s.node] for s in subs))
    for rank, node in enumerate(primary.nodes):
        assert f"[{node}:".encode() in out and f"MCW rank {rank} of {spec.mi.instances}".encode() in out
    views = {v.spec.id: v for v in w.subtask_views(plan, spec, t)}
    bad = spec.mi.bad_rank
    if views[bad].state == "completed":
        assert views[bad].exit_code == 139
        rank = rank_run(w, plan, spec, bad, t)
        assert rank is not None and rank.node == pool.node_ids[subs[bad - 1].node]
        assert b"Signal: Segmentation fault (11)" in whole(rank, "stderr.txt", t)
        # the others wait on the dead rank: nothing more from them after it died
        other = rank_run(w, plan, spec, 1 if bad != 1 else 2, t)
        assert other is not None
        stdout = find(task_files(other), "stdout.txt")
        assert stdout is not None and stdout.content is not None
        assert stdout.content.size(t) == stdout.content.size(rank.end)


def test_an_all_fail_solver_says_mpi_abort_was_invoked(sim: Simulator) -> None:
    big = Simulator(SimConfig(seed=1, jobs=120, instances=8, time_scale=0))
    t = big.clock.seconds()
    found = 0
    for _, spec, run in world_runs(big):
        if run.kind == "mpi" and run.mode == "all-fail" and run.end <= t:
            text = whole(run, "stderr.txt", t)
            assert f"MPI_ABORT was invoked on rank {spec.mi.bad_rank if spec.mi else 0}".encode() in text
            found += 1
    assert found


def test_a_gigabyte_trace_is_read_by_offset_without_being_held(sim: Simulator) -> None:
    t = sim.clock.seconds()
    trace = None
    for _, _, run in world_runs(sim):
        f = find(task_files(run), "wd/solver.trace")  # either separator
        if f is not None and f.content is not None:
            trace = (f.content, t + 3 * 3600)
            break
    assert trace is not None
    content, later = trace
    size = content.size(later)
    assert size >= 900_000_000 and size % RECORD == 0
    tracemalloc.start()
    try:
        tail = content.read(size - 65536, size, later)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(tail) == 65536 and tail.endswith(b"\n") and peak < 2_000_000
    assert content.read(RECORD * 5, RECORD * 6, later).startswith(b"t=00000000.005 step=000000005 ")
