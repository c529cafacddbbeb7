"""The seeded schedule of each task and of each rank of a multi-instance task.

A task's schedule (when it is prepared, runs, retries and ends, and how) is drawn from its own
RNG, seeded by (world seed, job, task), so any one task can be built without the others: the
failing task of a TaskFailed job fixes when the job terminates without building thousands of
siblings. As in job_plans, the draw order is part of the world.

Where a task runs is its lane's node unless that node is down for any part of the task's span
(fleet windows: rebooting, preempted, unusable, ...), then the next one that is up; a rank never
shares a node with another rank of its task. A pool's bad node also draws work to itself (it
fails fast, so it is free again at once) and most of what it runs fails with exit code 137.
"""

from __future__ import annotations

import math
import random

from batchtui.sim.catalog import mix
from batchtui.sim.fleet import Pool
from batchtui.sim.schedule import (
    BLOB,
    CMD,
    EXIT,
    INF,
    MI_ALL_FAIL,
    MI_OK,
    MI_RANK_FAILS,
    MI_STRAGGLER,
    SUCCESS,
    TASK_FAILED,
    TIMEOUT,
    Attempt,
    JobPlan,
    MultiInstance,
    SubtaskSpec,
    TaskSpec,
)

RETRY_GAP = 3.0  # at most this long between a failed attempt and its retry
BAD_GRAB = 0.2  # the bad node takes this share of its pool's tasks...
BAD_FAILS = 0.85  # ...and this share of what it runs fails (killed: exit 137)
RANK_MARGIN = 30.0  # ranks start a few seconds after the primary and end by its end


def random_outcome(roll: float) -> str:
    """How an ordinary task ends: mostly success, a few of each classic failure."""
    for limit, outcome in ((0.03, EXIT), (0.045, BLOB), (0.055, CMD), (0.07, TIMEOUT)):
        if roll < limit:
            return outcome
    return SUCCESS


def plan_task(seed: int, pool: Pool, instances: int, plan: JobPlan, j: int) -> TaskSpec:
    """Task ``j`` of the job: it runs in wave ``j // parallel``, every attempt inside its wave."""
    rng = random.Random(mix(seed, plan.index, j, 0x7A5C))
    kind = plan.kind
    width = max(4, len(str(plan.n_tasks - 1))) if not kind.mpi else 2
    w, lane = divmod(j, plan.parallel)
    wave_start = plan.start + 5.0 + w * plan.wave
    created = plan.start + 0.05 + j * 0.0043
    jitter = rng.uniform(0, 0.08 * plan.wave)
    prep = wave_start + jitter
    prep_dur = rng.uniform(2, 25) if w == 0 else rng.uniform(0.3, 2.0)
    budget = 0.95 * plan.wave - jitter - prep_dur  # every attempt ends inside its wave
    task_id = f"{kind.task_prefix}-{j:0{width}d}"
    command = kind.command.format(t=plan.topic, n=f"{j:0{width}d}")
    slots = plan.slots if rng.random() < 0.85 else rng.choice((1, 2, 4))
    if kind.mpi:
        return _plan_solver(plan, j, task_id, command, created, prep, prep_dur, budget, rng, pool, instances)
    n_nodes = len(pool.node_ids)
    candidate = (plan.node_offset + lane) % n_nodes if n_nodes else -1
    side = random.Random(mix(seed, plan.index, j, 0xBAD0))  # its own dice: the task's draws stay
    if pool.bad_node >= 0 and wave_start >= pool.bad_since and side.random() < BAD_GRAB:
        candidate = pool.bad_node
    # A TaskFailed job ends at its first failure: the bad node is not what ends it.
    on_bad = 0 <= pool.bad_node == candidate and prep >= pool.bad_since and plan.fate != TASK_FAILED
    killed = on_bad and side.random() < BAD_FAILS
    roll = rng.random()
    if plan.fate == TASK_FAILED:
        outcome = EXIT if j == plan.failing_task else SUCCESS
    else:
        outcome = random_outcome(roll)
    if killed:
        outcome = EXIT
    retry_roll = rng.random()
    run_total = rng.uniform(0.6, 0.93) * budget
    if killed:
        run_total *= 0.25  # it dies early in every attempt
    wall_clock: float | None = None
    resource_file: tuple[str, str] | None = None
    run_at = prep + prep_dur
    if outcome in (BLOB, CMD):
        if outcome == BLOB:
            name = f"inputs/{plan.topic}/{task_id}.tar.gz"
            resource_file = (name, f"https://stdemodata.blob.core.windows.net/{name}")
        end = run_at + (rng.uniform(0.5, 4) if outcome == BLOB else rng.uniform(0.1, 0.6))
        attempts: tuple[Attempt, ...] = (Attempt(prep, run_at, end, outcome, None),)
    elif outcome == TIMEOUT:
        room = budget * 0.8
        wall_clock = max(5.0, math.floor(room / 60) * 60 if room >= 60 else math.floor(room))
        attempts = (Attempt(prep, run_at, run_at + wall_clock, TIMEOUT, 137),)
    else:
        failures = _failures(outcome, plan.max_retries, retry_roll)
        attempts = _attempts(
            rng, prep, prep_dur, run_total, failures, succeeds=outcome != EXIT, code=137 if killed else None
        )
    if not n_nodes:
        attempts = ()  # a pool without nodes runs nothing: the task stays active
    span = effective_span(plan, attempts)
    node = pool.place(candidate, *span) if span is not None and not on_bad else candidate
    return TaskSpec(
        index=j,
        id=task_id,
        display_name=f"{kind.task_prefix.capitalize()} {j}",
        command_line=command,
        created=created,
        slots=slots,
        max_retries=plan.max_retries,
        wall_clock=wall_clock,
        attempts=attempts,
        node=node,
        resource_file=resource_file,
    )


def effective_span(plan: JobPlan, attempts: tuple[Attempt, ...]) -> tuple[float, float] | None:
    """From the first preparing to the last end, shifted as disabling the job shifts it (as
    views.effective_attempts does); None when it never runs."""
    if not attempts:
        return None
    a, b = attempts[0].prep, attempts[-1].end
    if plan.disable_at < INF and a >= plan.disable_at:
        if plan.enable_at == INF:
            return None
        shift = plan.enable_at + plan.disable_delay - plan.disable_at
        a, b = a + shift, b + shift
    return a, b


def _failures(outcome: str, max_retries: int, retry_roll: float) -> int:
    """How many attempts fail: all of them for EXIT, now and then some before a success."""
    if outcome == EXIT:
        return max_retries + 1
    if max_retries and retry_roll < 0.12:
        return 1 + int(retry_roll / 0.12 * max_retries) % max_retries
    return 0


def _attempts(
    rng: random.Random,
    prep: float,
    prep_dur: float,
    run_total: float,
    failures: int,
    *,
    succeeds: bool,
    code: int | None = None,
) -> tuple[Attempt, ...]:
    """``failures`` failed attempts (exit ``code``, else a drawn one), then one success if
    ``succeeds``, sharing ``run_total``."""
    n_attempts = failures + (1 if succeeds else 0)
    each = max(1.0, (run_total - (n_attempts - 1) * (RETRY_GAP + 1.0)) / n_attempts)
    out: list[Attempt] = []
    t0 = prep
    for a in range(n_attempts):
        a_prep_dur = prep_dur if a == 0 else rng.uniform(0.3, 1.0)
        a_run = t0 + a_prep_dur
        a_end = a_run + each * rng.uniform(0.8, 1.0)
        if a < failures:
            drawn = rng.choice((1, 1, 2, 137, 139, 255))
            out.append(Attempt(t0, a_run, a_end, EXIT, drawn if code is None else code))
        else:
            out.append(Attempt(t0, a_run, a_end, SUCCESS, 0))
        t0 = a_end + rng.uniform(1.0, RETRY_GAP)
    return tuple(out)


def _plan_solver(
    plan: JobPlan,
    j: int,
    task_id: str,
    command: str,
    created: float,
    prep: float,
    prep_dur: float,
    budget: float,
    rng: random.Random,
    pool: Pool,
    max_instances: int,
) -> TaskSpec:
    """A multi-instance task (an MPI solver): its primary's one attempt, in its mode."""
    low = min(2, max_instances)
    instances = max_instances if j == 0 else rng.randint(low, max(low, min(max_instances, 16)))
    instances = min(instances, len(pool.node_ids))
    mode = plan.mi_modes[j]
    long = mode == "ok-long"
    if long:
        mode = MI_OK
    if instances < 2 and mode in (MI_RANK_FAILS, MI_STRAGGLER):
        mode = MI_ALL_FAIL
    bad_rank = rng.randint(1, instances - 1) if instances >= 2 else 0
    run_at = prep + prep_dur
    wall_clock = max(60.0, math.floor(budget * 0.9 / 60) * 60)
    if mode == MI_RANK_FAILS:
        end, outcome, code = run_at + wall_clock, TIMEOUT, 137
    elif mode == MI_STRAGGLER:
        end, outcome, code = run_at + budget * rng.uniform(0.8, 0.88), SUCCESS, 0
    elif mode == MI_ALL_FAIL:
        end, outcome, code = run_at + budget * rng.uniform(0.08, 0.15), EXIT, 1
    else:
        frac = rng.uniform(0.6, 0.75) if long else rng.uniform(0.22, 0.32)
        end, outcome, code = run_at + budget * frac + 25.0, SUCCESS, 0
    node_base = (plan.node_offset + j * 997) % len(pool.node_ids)
    attempts = (Attempt(prep, run_at, end, outcome, code),)
    span = effective_span(plan, attempts)
    node = pool.place(node_base, span[0], span[1] + RANK_MARGIN) if span is not None else node_base
    return TaskSpec(
        index=j,
        id=task_id,
        display_name=f"{plan.display_name} - solver {j} ({instances} ranks)",
        command_line=command,
        created=created,
        slots=1,  # multi-instance tasks must use one slot
        max_retries=0,
        wall_clock=wall_clock,
        attempts=attempts,
        node=node,
        resource_file=None,
        mi=MultiInstance(instances, mode, bad_rank, node_base),
    )


def plan_subtasks(seed: int, pool: Pool, plan: JobPlan, spec: TaskSpec) -> tuple[SubtaskSpec, ...]:
    """Ranks 1..N-1 (the primary, rank 0, is the task itself), each on its own node."""
    mi = spec.mi
    if mi is None:
        return ()
    rng = random.Random(mix(seed, plan.index, spec.index, 0x5B7))
    a = spec.attempts[0]
    span = effective_span(plan, spec.attempts)
    taken = {spec.node}
    normal_span = (a.end - 25.0 - a.run) if mi.mode == MI_OK else (a.end - a.run) * 0.3
    out = []
    for rank in range(1, mi.instances):
        prep = a.prep + rng.uniform(0.0, 3.0)
        run = max(prep + rng.uniform(1.0, 6.0), min(a.run + rng.uniform(0.0, 4.0), a.end - 1.0))
        if mi.mode == MI_OK:
            end, outcome, code = a.end - rng.uniform(1.0, 20.0), SUCCESS, 0
        elif mi.mode == MI_ALL_FAIL:
            end, outcome, code = a.end - rng.uniform(0.5, 3.0), EXIT, 1
        elif mi.mode == MI_STRAGGLER:
            if rank == mi.bad_rank:
                end, outcome, code = a.end - rng.uniform(1.0, 3.0), SUCCESS, 0
            else:
                end, outcome, code = a.run + normal_span * rng.uniform(0.9, 1.0), SUCCESS, 0
        elif rank == mi.bad_rank:  # MI_RANK_FAILS: this rank dies, the rest hang until the wall clock
            end, outcome, code = a.run + (a.end - a.run) * rng.uniform(0.12, 0.22), EXIT, 139
        else:
            end, outcome, code = a.end, TIMEOUT, 137
        end = max(end, run + 0.5)
        node = (mi.node_base + rank) % len(pool.node_ids)
        if span is not None:  # every rank on its own node, one that is up while the task runs
            node = pool.place(node, span[0], span[1] + RANK_MARGIN, frozenset(taken))
        taken.add(node)
        out.append(SubtaskSpec(rank, node, prep, run, end, outcome, code))
    return tuple(out)


def plan_rerun(seed: int, plan: JobPlan, spec: TaskSpec, earliest: float, n: int) -> tuple[Attempt, ...]:
    """The run an operator's reactivation (the ``n``-th run of the task) starts: one attempt, a
    moment after ``earliest``, as long as the task's last planned attempt. What failed by its
    exit code or its wall clock may not fail again (a seeded roll); a missing blob or program
    does, every time."""
    rng = random.Random(mix(seed, plan.index, spec.index, 0x2EAC, n))
    last = spec.attempts[-1]
    prep = earliest + rng.uniform(1.0, RETRY_GAP)
    run = prep + rng.uniform(0.3, 2.0)
    length = last.end - last.run
    healed = rng.random() < 0.75
    outcome, code = last.outcome, last.exit_code
    if outcome in (EXIT, TIMEOUT) and healed:
        if outcome == TIMEOUT:
            length *= 0.7
        outcome, code = SUCCESS, 0
    return (Attempt(prep, run, run + max(length, 0.5), outcome, code),)
