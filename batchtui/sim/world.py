"""The seeded world: pools, jobs and tasks as pure functions of (seed, config, sim time).

Nothing here ticks. Each job gets a plan when the world is built (a handful of random draws:
its kind, pool, size, when it was created and what will happen to it); each task gets a
schedule the first time anyone looks at its job (when it is prepared, runs, retries, ends and
how). The state of anything at sim time ``t`` is then read off its schedule, so building a
world of 1,000 jobs costs a few milliseconds and a request costs only what it returns.

Times are floats: simulated seconds since the world's start.
"""

from __future__ import annotations

import bisect
import math
import random
from datetime import UTC, datetime

from batchtui.sim.catalog import COORDINATION, KIND_WEIGHTS, KINDS, TOPICS, Pool, build_pools, mix
from batchtui.sim.schedule import (
    ALL_TASKS,
    BLOB,
    CMD,
    DISABLED,
    EXIT,
    INF,
    MI_ALL_FAIL,
    MI_OK,
    MI_RANK_FAILS,
    MI_STRAGGLER,
    OPEN,
    SUCCESS,
    TASK_FAILED,
    TERMINATED,
    TIMEOUT,
    USER_TERMINATE,
    WALL_CLOCK,
    Attempt,
    Counts,
    JobPlan,
    JobView,
    MultiInstance,
    SubtaskSpec,
    SubtaskView,
    TaskSpec,
    TaskView,
)

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


def _random_outcome(roll: float) -> str:
    """How an ordinary task ends: mostly success, a few of each classic failure."""
    for limit, outcome in ((0.03, EXIT), (0.045, BLOB), (0.055, CMD), (0.07, TIMEOUT)):
        if roll < limit:
            return outcome
    return SUCCESS


# --------------------------------------------------------------------------- the world


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
        self.pools = build_pools(seed, self.start, self.instances)
        self._plans: list[JobPlan] = []
        self._by_id: dict[str, JobPlan] = {}
        self._sorted_ids: list[str] = []
        self._subtasks: dict[tuple[int, int], tuple[SubtaskSpec, ...]] = {}
        self._task_index_cache: dict[int, dict[str, TaskSpec]] = {}
        self.deleted_jobs: set[str] = set()
        self.deleted_tasks: set[tuple[str, str]] = set()
        self._counts_memo: dict[str, tuple[float, tuple[Counts, Counts]]] = {}
        for i in range(self.n_initial):
            self._add_plan(self._plan(i))

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
        rng = random.Random(mix(self.seed, i, 0x10B))
        anchored = i < min(self.n_initial, 8)
        anchor_kinds = ("render", "mpi", "genomics", "etl", "render", "ml", "etl", "genomics")
        if anchored:
            kind_name = anchor_kinds[i]
        else:
            kind_name = rng.choices([k for k, _ in KIND_WEIGHTS], [w for _, w in KIND_WEIGHTS])[0]
        kind = KINDS[kind_name]
        topic = rng.choice(TOPICS)
        title = rng.choice(kind.titles).format(t=topic)
        priority = rng.choice((0, 0, 0, 0, 100, 250, 500, -100, 1000))
        wave = rng.uniform(*kind.wave_minutes) * 60.0
        mi_modes: tuple[str, ...] = ()
        if kind.mpi:
            n_tasks = 4 if i == 1 else rng.randint(3, 6)
            parallel = n_tasks  # all solvers run side by side, each on its own set of nodes
            if i == 1:
                mi_modes = (MI_RANK_FAILS, MI_STRAGGLER, MI_OK, "ok-long")
            else:
                mi_modes = tuple(
                    rng.choices((MI_OK, MI_RANK_FAILS, MI_STRAGGLER, MI_ALL_FAIL), (0.6, 0.15, 0.15, 0.1))[0]
                    for _ in range(n_tasks)
                )
        else:
            n_tasks = max(
                1, min(20 * self.tasks_typical, round(self.tasks_typical * rng.lognormvariate(0, 0.6)))
            )
            parallel = rng.randint(*kind.parallel)
        slots = rng.choice(kind.slots)
        max_retries = rng.choice((0, 1, 3, 3))
        planned = math.ceil(n_tasks / parallel) * wave

        # What happens to the job.
        r = rng.random()
        if kind.mpi:
            fate = ALL_TASKS if r < 0.4 else OPEN if r < 0.7 else USER_TERMINATE if r < 0.85 else WALL_CLOCK
        else:
            fate = (
                ALL_TASKS
                if r < 0.35
                else OPEN
                if r < 0.6
                else TASK_FAILED
                if r < 0.7
                else WALL_CLOCK
                if r < 0.78
                else USER_TERMINATE
                if r < 0.88
                else DISABLED
            )
        if i < self.n_initial:
            created = max(rng.uniform(0, 900), self.warmup - rng.uniform(0.05, 2.5) * planned)
        else:
            created = self.warmup + (i - self.n_initial + 1) * self.NEW_JOB_INTERVAL + rng.uniform(-60, 60)
        term_delay = rng.uniform(0.2, 1.5)
        term = INF
        wall_clock: float | None = None
        disable_at = enable_at = INF
        disable_delay = rng.uniform(1, 20)
        delete_at = vanish_at = INF
        failing_task = -1
        term_frac = rng.uniform(0.2, 0.9)
        wc_frac = rng.uniform(0.3, 0.8)
        dis_frac = rng.uniform(0.1, 0.7)
        enable_gap = rng.uniform(600, 3600) if rng.random() < 0.5 else INF
        delete_roll = rng.random()
        delete_gap = rng.uniform(600, 6 * 3600)
        vanish_gap = rng.uniform(15, 120)
        failing_pick = rng.randrange(min(n_tasks, parallel))

        # Anchors: the first jobs are placed so that the frozen world shows every state.
        no_delete = False
        if anchored:
            no_delete = True
            w = self.warmup
            if i == 0:
                fate = ALL_TASKS
                waves = math.ceil(n_tasks / parallel)
                created = w - (min(waves - 1, int(waves * 0.4)) * wave + 0.5 * wave) - 5.02
            elif i == 1:
                fate = OPEN
                created = w - 0.45 * wave - 5.02
            elif i == 2:
                fate = ALL_TASKS
                created = w - planned * 1.5 - 600
            elif i == 3:
                fate = USER_TERMINATE
                created = w - 30 - 0.5 * planned
                term_delay = 300.0
            elif i == 4:
                fate = DISABLED
                created = w - 900 - 0.3 * planned
                enable_gap = INF
            elif i == 5:
                fate = OPEN
                created = w - 0.7 * planned
            elif i == 6:
                fate = TASK_FAILED
                created = w - 1.2 * planned - 600
            elif i == 7:
                fate = WALL_CLOCK
                wc_frac = 0.5
                created = w - 0.5 * planned - 3600
        start = created + rng.uniform(0.01, 0.03)
        if fate == ALL_TASKS:
            term = start + planned + rng.uniform(0.5, 5)
        elif fate == USER_TERMINATE:
            term = start + planned * term_frac
        elif fate == WALL_CLOCK:
            wall_clock = max(60.0, math.floor(planned * wc_frac / 60) * 60)
            term = start + wall_clock
        elif fate == DISABLED:
            disable_at = start + planned * dis_frac
            enable_at = disable_at + enable_gap
        elif fate == TASK_FAILED:
            failing_task = failing_pick
            term = INF  # known once the failing task's schedule exists
        # Anchored events still land on uneven instants, as real ones do (own RNG: drawing from
        # rng here would shift every later draw, node offsets included, of every job).
        frac = random.Random(mix(self.seed, i, 0xF4AC)).random()
        if anchored and i == 3:
            term = self.warmup - 30 - frac
        if anchored and i == 4:
            disable_at = self.warmup - 900 - frac
            enable_at = INF
        if anchored and i == 5:
            delete_at = self.warmup - 20 - frac
            vanish_at = delete_at + 120
        elif not no_delete:
            # Jobs submitted after the warm-up are all cleaned up again in time, so that a world
            # left running for days keeps a working set about the size it started with.
            later = i >= self.n_initial
            p_terminal, p_open = (1.0, 1.0) if later else (0.3, 0.1)
            if fate in (ALL_TASKS, USER_TERMINATE, WALL_CLOCK) and delete_roll < p_terminal:
                delete_at = term + term_delay + delete_gap
            elif fate == TASK_FAILED and delete_roll < p_terminal:
                # its failing task runs in the first wave, so this is always after it ended
                delete_at = start + planned + 60 + delete_gap
            elif fate in (OPEN, DISABLED) and delete_roll < p_open:
                delete_at = start + planned * (0.5 + 2.5 * (delete_roll / p_open))
            if delete_at < INF:
                vanish_at = delete_at + vanish_gap
        return JobPlan(
            index=i,
            id=f"{kind.prefix}-{i:04d}",
            kind=kind,
            display_name=title,
            topic=topic,
            priority=priority,
            created=created,
            start=start,
            n_tasks=n_tasks,
            parallel=parallel,
            wave=wave,
            slots=slots,
            max_retries=max_retries,
            fate=fate,
            term=term,
            term_delay=term_delay,
            wall_clock=wall_clock,
            disable_at=disable_at,
            enable_at=enable_at,
            disable_delay=disable_delay,
            delete_at=delete_at,
            vanish_at=vanish_at,
            node_offset=rng.randrange(1 << 16),
            failing_task=failing_task,
            mi_modes=mi_modes,
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
        rng = random.Random(mix(self.seed, plan.index, j, 0x7A5C))
        kind = plan.kind
        pool = self.pools[kind.pool]
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
            return self._mi_task(plan, j, task_id, command, created, prep, prep_dur, budget, rng, pool)
        roll = rng.random()
        if plan.fate == TASK_FAILED:
            outcome = EXIT if j == plan.failing_task else SUCCESS
        else:
            outcome = _random_outcome(roll)
        retry_roll = rng.random()
        run_total = rng.uniform(0.6, 0.93) * budget
        attempts: list[Attempt] = []
        wall_clock: float | None = None
        resource_file: tuple[str, str] | None = None
        node = (plan.node_offset + lane) % len(pool.node_ids)
        run_at = prep + prep_dur
        if outcome in (BLOB, CMD):
            if outcome == BLOB:
                name = f"inputs/{plan.topic}/{task_id}.tar.gz"
                resource_file = (name, f"https://stdemodata.blob.core.windows.net/{name}")
            end = run_at + (rng.uniform(0.5, 4) if outcome == BLOB else rng.uniform(0.1, 0.6))
            attempts.append(Attempt(prep, run_at, end, outcome, None))
        elif outcome == TIMEOUT:
            room = budget * 0.8
            wall_clock = max(5.0, math.floor(room / 60) * 60 if room >= 60 else math.floor(room))
            attempts.append(Attempt(prep, run_at, run_at + wall_clock, TIMEOUT, 137))
        else:
            if outcome == EXIT:
                failures = plan.max_retries + 1
            elif plan.max_retries and retry_roll < 0.12:
                failures = 1 + int(retry_roll / 0.12 * plan.max_retries) % plan.max_retries
            else:
                failures = 0
            n_attempts = failures + (0 if outcome == EXIT else 1)
            gap = 3.0
            each = max(1.0, (run_total - (n_attempts - 1) * (gap + 1.0)) / n_attempts)
            t0 = prep
            for a in range(n_attempts):
                a_prep_dur = prep_dur if a == 0 else rng.uniform(0.3, 1.0)
                a_run = t0 + a_prep_dur
                a_end = a_run + each * rng.uniform(0.8, 1.0)
                if a < failures:
                    code = rng.choice((1, 1, 2, 137, 139, 255))
                    attempts.append(Attempt(t0, a_run, a_end, EXIT, code))
                else:
                    attempts.append(Attempt(t0, a_run, a_end, SUCCESS, 0))
                t0 = a_end + rng.uniform(1.0, gap)
        return TaskSpec(
            index=j,
            id=task_id,
            display_name=f"{kind.task_prefix.capitalize()} {j}",
            command_line=command,
            created=created,
            slots=slots,
            max_retries=plan.max_retries,
            wall_clock=wall_clock,
            attempts=tuple(attempts),
            node=node,
            resource_file=resource_file,
        )

    def _mi_task(
        self,
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
    ) -> TaskSpec:
        low = min(2, self.instances)
        instances = self.instances if j == 0 else rng.randint(low, max(low, min(self.instances, 16)))
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
        return TaskSpec(
            index=j,
            id=task_id,
            display_name=f"{plan.display_name} - solver {j} ({instances} ranks)",
            command_line=command,
            created=created,
            slots=1,  # multi-instance tasks must use one slot
            max_retries=0,
            wall_clock=wall_clock,
            attempts=(Attempt(prep, run_at, end, outcome, code),),
            node=node_base,
            resource_file=None,
            mi=MultiInstance(instances, mode, bad_rank, node_base),
        )

    def subtasks_of(self, plan: JobPlan, spec: TaskSpec) -> tuple[SubtaskSpec, ...]:
        """Ranks 1..N-1 (the primary, rank 0, is the task itself), each on its own node."""
        mi = spec.mi
        if mi is None:
            return ()
        key = (plan.index, spec.index)
        cached = self._subtasks.get(key)
        if cached is not None:
            return cached
        rng = random.Random(mix(self.seed, plan.index, spec.index, 0x5B7))
        n_nodes = len(self.pools[plan.kind.pool].node_ids)
        a = spec.attempts[0]
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
            out.append(SubtaskSpec(rank, (mi.node_base + rank) % n_nodes, prep, run, end, outcome, code))
        result = tuple(out)
        self._subtasks[key] = result
        return result

    # ---------------------------------------------------------------- lookups

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

    # ---------------------------------------------------------------- job state

    def job_view(self, plan: JobPlan, t: float) -> JobView:
        transitions: list[tuple[float, str]] = [(plan.start, "active")]
        last_modified = plan.created + 0.6
        term = self.termination(plan)
        if plan.disable_at < INF:
            transitions.append((plan.disable_at, "disabling"))
            transitions.append((plan.disable_at + plan.disable_delay, "disabled"))
            if plan.enable_at < INF:
                transitions.append((plan.enable_at, "enabling"))
                transitions.append((plan.enable_at + plan.disable_delay / 2, "active"))
        if term < INF:
            transitions.append((term, "terminating"))
            transitions.append((term + plan.term_delay, "completed"))
        if plan.delete_at < INF:
            transitions = [tr for tr in transitions if tr[0] < plan.delete_at]
            transitions.append((plan.delete_at, "deleting"))
        k = 0
        for idx, (when, _) in enumerate(transitions):
            if when <= t:
                k = idx
        when, state = transitions[k]
        prev = transitions[k - 1] if k > 0 else None
        # lastModified moves only on changes made through the API (disable, enable, terminate, delete)
        for tr_time, tr_state in transitions[1 : k + 1]:
            if tr_state in ("disabling", "enabling", "deleting") or (
                tr_state == "terminating" and plan.fate == USER_TERMINATE
            ):
                last_modified = tr_time
        end_time = reason = None
        if any(s == "completed" for _, s in transitions[: k + 1]):
            end_time = term + plan.term_delay
            reason = plan.fate
        return JobView(
            plan=plan,
            state=state if when <= t else "active",
            state_time=when,
            previous_state=prev[1] if prev else None,
            previous_time=prev[0] if prev else None,
            last_modified=last_modified,
            end_time=end_time,
            terminate_reason=reason,
        )

    # ---------------------------------------------------------------- task state

    def effective_attempts(self, plan: JobPlan, spec: TaskSpec) -> tuple[Attempt, ...]:
        """The schedule as the job's own history bends it: disabling delays, termination cuts."""
        attempts = spec.attempts
        if plan.disable_at < INF and attempts and attempts[0].prep >= plan.disable_at:
            if plan.enable_at == INF:
                return ()
            shift = plan.enable_at + plan.disable_delay - plan.disable_at
            attempts = tuple(
                Attempt(a.prep + shift, a.run + shift, a.end + shift, a.outcome, a.exit_code)
                for a in attempts
            )
        term = self.termination(plan)
        if term < INF and attempts and attempts[-1].end > term:
            cut: list[Attempt] = []
            for a in attempts:
                if a.prep >= term:
                    break
                if a.end > term:
                    cut.append(Attempt(a.prep, min(a.run, term), term, TERMINATED, 137))
                    break
                cut.append(a)
            attempts = tuple(cut)
        return attempts

    def task_view(self, plan: JobPlan, spec: TaskSpec, t: float) -> TaskView:
        attempts = self.effective_attempts(plan, spec)
        started = [a for a in attempts if a.prep <= t]
        retry_count = max(0, len(started) - 1)
        last_retry = started[-1].prep if retry_count else None
        if not started:
            return TaskView(spec, "active", spec.created, None, None, None, None, None, None, 0, None, None)
        a = started[-1]
        k = len(started) - 1
        before = attempts[k - 1].end if k else spec.created
        run_start = a.run if a.run <= t else (attempts[k - 1].run if k else None)
        if t < a.run:
            return TaskView(
                spec,
                "preparing",
                a.prep,
                "active",
                before,
                run_start,
                None,
                None,
                None,
                retry_count,
                last_retry,
                spec.node,
            )
        if t < a.end:
            return TaskView(
                spec,
                "running",
                a.run,
                "preparing",
                a.prep,
                a.run,
                None,
                None,
                None,
                retry_count,
                last_retry,
                spec.node,
            )
        if k < len(attempts) - 1:  # this attempt failed and a retry is queued
            return TaskView(
                spec,
                "active",
                a.end,
                "running",
                a.run,
                a.run,
                None,
                None,
                None,
                retry_count,
                last_retry,
                spec.node,
            )
        return TaskView(
            spec,
            "completed",
            a.end,
            "running",
            a.run,
            a.run,
            a.end,
            a.exit_code,
            a.outcome,
            retry_count,
            last_retry,
            spec.node,
        )

    def task_state(self, plan: JobPlan, spec: TaskSpec, t: float) -> tuple[str, str | None]:
        """(state, outcome) only: the cheap path for task counts."""
        attempts = self.effective_attempts(plan, spec)
        last_started = None
        for idx, a in enumerate(attempts):
            if a.prep <= t:
                last_started = idx
        if last_started is None:
            return "active", None
        a = attempts[last_started]
        if t < a.run:
            return "preparing", None
        if t < a.end:
            return "running", None
        if last_started < len(attempts) - 1:
            return "active", None
        return "completed", a.outcome

    def counts(self, plan: JobPlan, t: float) -> tuple[Counts, Counts]:
        """(taskCounts, taskSlotCounts) for the tasks as they were at ``t``."""
        # The service keeps counters; scanning every task for every request made the
        # simulator, not the client, the cost of a counts-heavy benchmark (~0.4 ms a call).
        # One entry per job, for the last instant asked: a frozen clock always hits it.
        memo = self._counts_memo.get(plan.id)
        if memo is not None and memo[0] == t:
            return memo[1]
        result = self._count(plan, t)
        self._counts_memo[plan.id] = (t, result)
        return result

    def _count(self, plan: JobPlan, t: float) -> tuple[Counts, Counts]:
        c = [0, 0, 0, 0, 0]
        s = [0, 0, 0, 0, 0]
        for spec in self.visible_tasks(plan, t):
            state, outcome = self.task_state(plan, spec, t)
            if state == "active":
                idx = (0,)
            elif state in ("preparing", "running"):
                idx = (1,)
            else:
                idx = (2, 3) if outcome == SUCCESS else (2, 4)
            for n in idx:
                c[n] += 1
                s[n] += spec.slots
        return Counts(*c), Counts(*s)

    def subtask_views(self, plan: JobPlan, spec: TaskSpec, t: float) -> list[SubtaskView]:
        term = self.termination(plan)
        out = []
        for sub in self.subtasks_of(plan, spec):
            if sub.prep > t:
                continue
            end, outcome, code = sub.end, sub.outcome, sub.exit_code
            if term < sub.end:
                end, outcome, code = max(term, sub.run), TERMINATED, 137
            if t < sub.run:
                out.append(SubtaskView(sub, "preparing", sub.prep, None, None, None, None, None))
            elif t < end:
                out.append(SubtaskView(sub, "running", sub.run, "preparing", sub.prep, None, None, None))
            else:
                out.append(SubtaskView(sub, "completed", end, "running", sub.run, end, code, outcome))
        return out

    # ---------------------------------------------------------------- test helpers

    def delete_job(self, job_id: str) -> bool:
        plan = self.plan(job_id)
        if plan is None or plan.id in self.deleted_jobs:
            return False
        self.deleted_jobs.add(plan.id)
        self._counts_memo.pop(plan.id, None)
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
        return True
