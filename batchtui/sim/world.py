"""The seeded world: pools, nodes, jobs and tasks as pure functions of (seed, config, sim time).

Nothing here ticks. Each job gets a plan when the world is built (job_plans: a handful of
random draws: its kind, pool, size, when it was created and what will happen to it); each task
gets a schedule the first time anyone looks at its job (task_plans: when it is prepared, runs,
retries, ends and how). The state of anything at sim time ``t`` is then read off its schedule
(views), so building a world of 1,000 jobs costs a few milliseconds and a request costs only
what it returns. This module holds the plans, builds schedules on first use and keeps what the
API changed: deletes, and the operator's actions (overlay.py), which bend a job's timeline and
its tasks' runs from the instant they were made (history.py).

Times are floats: simulated seconds since the world's start.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime

from batchtui.sim import history, node_ops, views
from batchtui.sim.catalog import COORDINATION
from batchtui.sim.fleet import Pool, build_pools
from batchtui.sim.history import Run, Timeline
from batchtui.sim.job_plans import plan_job
from batchtui.sim.nodes import Nodes
from batchtui.sim.overlay import JobOp, Overlay, TaskOp
from batchtui.sim.schedule import (
    ALL_TASKS,
    BLOB,
    CMD,
    EXIT,
    INF,
    SUCCESS,
    TASK_FAILED,
    TERMINATED,
    TIMEOUT,
    Attempt,
    Counts,
    JobPlan,
    JobView,
    SubtaskSpec,
    SubtaskView,
    TaskSpec,
    TaskView,
)
from batchtui.sim.task_plans import plan_rerun, plan_subtasks, plan_task

__all__ = [  # wire.py reads the outcome and fate names through this module
    "ALL_TASKS",
    "BLOB",
    "CMD",
    "COORDINATION",
    "EXIT",
    "SUCCESS",
    "TASK_FAILED",
    "TERMINATED",
    "TIMEOUT",
    "Counts",
    "JobPlan",
    "JobView",
    "SubtaskView",
    "TaskSpec",
    "TaskView",
    "World",
]


class World:
    """Plans for every job, schedules built on first use, and state read off them at time t."""

    NEW_JOB_INTERVAL = 300.0  # sim seconds between jobs submitted after the warm-up

    def __init__(
        self,
        *,
        seed: int,
        jobs: int,
        tasks: int,
        instances: int,
        start: datetime,
        warmup: float,
    ) -> None:
        self.seed = seed
        self.n_initial = max(0, jobs)
        self.tasks_typical = max(1, tasks)
        self.instances = max(1, instances)
        self.start = start.astimezone(UTC)
        self.warmup = warmup
        self.pools: dict[str, Pool] = build_pools(seed, self.start, self.instances, warmup)
        self._plans: list[JobPlan] = []
        self._by_id: dict[str, JobPlan] = {}
        self._sorted_ids: list[str] = []
        self._subtasks: dict[tuple[int, int], tuple[SubtaskSpec, ...]] = {}
        self._task_index_cache: dict[int, dict[str, TaskSpec]] = {}
        self.deleted_jobs: set[str] = set()
        self.deleted_tasks: set[tuple[str, str]] = set()
        self._counts_memo: dict[str, tuple[float, tuple[Counts, Counts]]] = {}
        # Moves when something changes what ran where (a delete): the node indexes rebuild.
        self.revision = 0
        self.overlay = Overlay()
        # job id -> (how many operator records it had, its timeline): rebuilt when one is added
        self._timelines: dict[str, tuple[int, Timeline]] = {}
        for i in range(self.n_initial):
            self._add_plan(self._plan(i))
        #: pools and nodes at time t (and what the API changed on nodes)
        self.nodes = Nodes(self)

    # ---------------------------------------------------------------- plans

    def _add_plan(self, plan: JobPlan) -> None:
        self._plans.append(plan)
        self._by_id[plan.id.lower()] = plan
        bisect.insort(self._sorted_ids, plan.id)

    def _ensure_until(self, t: float) -> None:
        """Jobs keep arriving after the warm-up: plan every job submitted by time ``t``."""
        if t <= self.warmup:
            return
        wanted = self.n_initial + int((t - self.warmup) // self.NEW_JOB_INTERVAL)
        while len(self._plans) < wanted:
            self._add_plan(self._plan(len(self._plans)))

    def _plan(self, i: int) -> JobPlan:
        return plan_job(
            self.seed,
            i,
            n_initial=self.n_initial,
            tasks_typical=self.tasks_typical,
            warmup=self.warmup,
            interval=self.NEW_JOB_INTERVAL,
        )

    # ---------------------------------------------------------------- task schedules

    def tasks_of(self, plan: JobPlan) -> list[TaskSpec]:
        if plan.tasks is None:
            plan.tasks = [self._task_spec(plan, j) for j in range(plan.n_tasks)]
        return plan.tasks

    def termination(self, plan: JobPlan) -> float:
        """When the job starts terminating (INF: never)."""
        if plan.fate == TASK_FAILED and plan.term == INF:
            # Each task has its own RNG, so the failing task's schedule is known without
            # building the other (possibly thousands of) tasks of the job.
            failing = self._task_spec(plan, plan.failing_task)
            plan.term = failing.attempts[-1].end + plan.term_delay
        return plan.term

    def _task_spec(self, plan: JobPlan, j: int) -> TaskSpec:
        if plan.tasks is not None:
            return plan.tasks[j]
        return plan_task(self.seed, self.pools[plan.kind.pool], self.instances, plan, j)

    def subtasks_of(self, plan: JobPlan, spec: TaskSpec) -> tuple[SubtaskSpec, ...]:
        """Ranks 1..N-1 (the primary, rank 0, is the task itself), each on its own node."""
        if spec.mi is None:
            return ()
        key = (plan.index, spec.index)
        cached = self._subtasks.get(key)
        if cached is None:
            cached = plan_subtasks(self.seed, self.pools[plan.kind.pool], plan, spec)
            self._subtasks[key] = cached
        return cached

    # ---------------------------------------------------------------- lookups

    def all_plans(self) -> list[JobPlan]:
        """Every job planned so far, visible or not, in submission order."""
        return self._plans

    def plan(self, job_id: str) -> JobPlan | None:
        return self._by_id.get(job_id.lower())

    def visible(self, plan: JobPlan, t: float) -> bool:
        return plan.created <= t < plan.vanish_at and plan.id not in self.deleted_jobs

    def job_ids_after(self, t: float, after: str | None = None) -> list[str]:
        """Ids of the jobs that exist at ``t``, in the service's order (by id), after ``after``."""
        self._ensure_until(t)
        start = 0 if after is None else bisect.bisect_right(self._sorted_ids, after)
        out = []
        for job_id in self._sorted_ids[start:]:
            plan = self._by_id[job_id.lower()]
            if self.visible(plan, t):
                out.append(job_id)
        return out

    def find_job(self, job_id: str, t: float) -> JobPlan | None:
        self._ensure_until(t)
        plan = self.plan(job_id)
        if plan is None or not self.visible(plan, t):
            return None
        return plan

    def find_task(self, plan: JobPlan, task_id: str, t: float) -> TaskSpec | None:
        spec = self._task_index(plan).get(task_id.lower())
        if spec is None or spec.created > t or (plan.id, spec.id) in self.deleted_tasks:
            return None
        return spec

    def _task_index(self, plan: JobPlan) -> dict[str, TaskSpec]:
        index = self._task_index_cache.get(plan.index)
        if index is None:
            index = {s.id.lower(): s for s in self.tasks_of(plan)}
            self._task_index_cache[plan.index] = index
        return index

    def visible_tasks(self, plan: JobPlan, t: float) -> list[TaskSpec]:
        return [
            s for s in self.tasks_of(plan) if s.created <= t and (plan.id, s.id) not in self.deleted_tasks
        ]

    # ---------------------------------------------------------------- state at time t

    def timeline(self, plan: JobPlan) -> Timeline:
        """The job's states over time: its plan, and what operators did to it."""
        touched = self.overlay.touched(plan.id)
        hit = self._timelines.get(plan.id)
        if hit is not None and hit[0] == touched:
            return hit[1]
        if len(self._timelines) > 50_000:
            self._timelines.clear()  # a world left running for months: rebuilt on demand
        timeline = history.job_timeline(plan, self.termination(plan), self.overlay.job_ops(plan.id))
        self._timelines[plan.id] = (touched, timeline)
        return timeline

    def job_view(self, plan: JobPlan, t: float) -> JobView:
        return views.job_view(self.timeline(plan), plan, t)

    def bent(self, plan: JobPlan) -> bool:
        """Operators changed the job, its tasks or a node of its pool: its tasks are read the
        long way (their runs), not off the plan."""
        return bool(self.overlay.touched(plan.id)) or plan.kind.pool in self.nodes.bent_pools

    def bent_task(self, plan: JobPlan, spec: TaskSpec) -> bool:
        """The task is read the long way: operators changed its job or it, or a node it runs on."""
        return bool(self.overlay.touched(plan.id)) or self._node_bend(plan, spec) is not None

    def _node_bend(self, plan: JobPlan, spec: TaskSpec) -> history.Bend | None:
        """What the node actions on the task's nodes do to its attempts (None: nothing). Only
        a task whose own or ranks' node was acted on is moved or stopped (a moved attempt
        starts from such a node), so every other task of the pool keeps its cheap path."""
        pool_id = plan.kind.pool
        if pool_id not in self.nodes.bent_pools:
            return None
        of = self.nodes.blackouts_of(pool_id)
        ranks = tuple(s.node for s in self.subtasks_of(plan, spec)) if spec.mi is not None else ()
        if not of(spec.node) and not any(of(k) for k in ranks):
            return None
        pool = self.pools[pool_id]
        size = len(pool.nodes)

        def place(k: int, a: float, b: float) -> int:
            return pool.place((k + 1) % size, a, b, frozenset({k}))

        def bent(attempts: tuple[Attempt, ...]) -> tuple[Attempt, ...]:
            return node_ops.bend(attempts, spec.node, of, place, rank_nodes=ranks)

        return bent

    def runs(self, plan: JobPlan, spec: TaskSpec) -> tuple[Run, ...]:
        """The task's runs: its schedule under the job's history, then what operators did to it."""
        timeline = self.timeline(plan)
        if not self.bent_task(plan, spec):
            return (Run(spec.created, history.effective_attempts(spec.attempts, timeline)),)

        def rerun(_before: Run, earliest: float, n: int) -> tuple[Attempt, ...]:
            return plan_rerun(self.seed, plan, spec, earliest, n)

        ops = self.overlay.task_ops(plan.id, spec.id)
        return history.task_runs(spec, timeline, ops, rerun, self._node_bend(plan, spec))

    def task_node(self, plan: JobPlan, spec: TaskSpec, t: float) -> int:
        """The node the task's latest attempt started by ``t`` ran on (its own before that)."""
        if not self.bent_task(plan, spec):
            return spec.node
        started = [a for a in self.effective_attempts(plan, spec) if a.prep <= t]
        return started[-1].on(spec.node) if started else spec.node

    def effective_attempts(self, plan: JobPlan, spec: TaskSpec) -> tuple[Attempt, ...]:
        """Every attempt the task has made or will make, across its runs (for statistics)."""
        return tuple(a for run in self.runs(plan, spec) for a in run.attempts if a.ran)

    def task_view(self, plan: JobPlan, spec: TaskSpec, t: float) -> TaskView:
        if not self.bent_task(plan, spec):  # the common path: one run, as planned
            attempts = history.effective_attempts(spec.attempts, self.timeline(plan))
            return views.task_view(spec, attempts, t)
        return history.view_of(spec, self.runs(plan, spec), t)

    def task_state(self, plan: JobPlan, spec: TaskSpec, t: float) -> tuple[str, str | None]:
        """(state, outcome) only: the cheap path for task counts."""
        if not self.bent_task(plan, spec):
            return views.task_state(history.effective_attempts(spec.attempts, self.timeline(plan)), t)
        view = self.task_view(plan, spec, t)
        return view.state, view.outcome

    def counts(self, plan: JobPlan, t: float) -> tuple[Counts, Counts]:
        """(taskCounts, taskSlotCounts) for the tasks as they were at ``t``."""
        # The service keeps counters; scanning every task for every request made the
        # simulator, not the client, the cost of a counts-heavy benchmark (~0.4 ms a call).
        # One entry per job, for the last instant asked: a frozen clock always hits it.
        memo = self._counts_memo.get(plan.id)
        if memo is not None and memo[0] == t:
            return memo[1]
        specs = self.visible_tasks(plan, t)
        if self.bent(plan):
            states = ((*self.task_state(plan, spec, t), spec.slots) for spec in specs)
        else:  # the common path, resolved once per job rather than once per task
            timeline = self.timeline(plan)
            effective, state = history.effective_attempts, views.task_state
            states = ((*state(effective(spec.attempts, timeline), t), spec.slots) for spec in specs)
        result = views.count_tasks(states)
        self._counts_memo[plan.id] = (t, result)
        return result

    def subtask_views(self, plan: JobPlan, spec: TaskSpec, t: float) -> list[SubtaskView]:
        subtasks = self.subtasks_of(plan, spec)
        if not self.bent_task(plan, spec):
            return views.subtask_views(subtasks, self.timeline(plan).term, t)
        return history.rank_views(subtasks, spec, history.run_at(self.runs(plan, spec), t), t)

    # ---------------------------------------------------------------- operator actions

    def record_job_op(self, plan: JobPlan, op: JobOp) -> None:
        self.overlay.add_job_op(plan.id, op)
        self._counts_memo.pop(plan.id, None)
        self.revision += 1  # what ran where changed: the node indexes rebuild

    def record_task_op(self, plan: JobPlan, spec: TaskSpec, op: TaskOp) -> None:
        self.overlay.add_task_op(plan.id, spec.id, op)
        self._counts_memo.pop(plan.id, None)
        self.revision += 1

    def node_tasks_changed(self) -> None:
        """A node action moved or stopped tasks: counts and node indexes are read afresh."""
        self._counts_memo.clear()
        self.revision += 1

    # ---------------------------------------------------------------- deletes (tests and demos)

    def delete_job(self, job_id: str) -> bool:
        plan = self.plan(job_id)
        if plan is None or plan.id in self.deleted_jobs:
            return False
        self.deleted_jobs.add(plan.id)
        self._counts_memo.pop(plan.id, None)
        self.revision += 1
        return True

    def delete_task(self, job_id: str, task_id: str) -> bool:
        plan = self.plan(job_id)
        if plan is None:
            return False
        spec = self._task_index(plan).get(task_id.lower())
        if spec is None:
            return False
        self.deleted_tasks.add((plan.id, spec.id))
        self._counts_memo.pop(plan.id, None)
        self.revision += 1
        return True

    def delete_pool(self, pool_id: str) -> bool:
        """The pool is gone (its jobs stay, as the service keeps them)."""
        if pool_id not in self.pools or pool_id in self.nodes.deleted_pools:
            return False
        self.nodes.deleted_pools.add(pool_id)
        return True

    def remove_node(self, pool_id: str, node_id: str, t: float) -> bool:
        """The node leaves its pool at ``t`` (removed, resized away): its files go with it."""
        return self.nodes.remove(pool_id, node_id, t)

    def node_gone(self, pool_id: str, node: int, t: float | None = None) -> bool:
        """Node number ``node`` of the pool is no longer in it at ``t`` (None: at all)."""
        return self.nodes.gone(pool_id, node, t)
