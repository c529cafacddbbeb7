"""A job's timeline and a task's runs: the seeded plan, bent by what operators did (overlay.py).

Pure functions, as views.py: the same plan and the same records always give the same
timeline. A job's timeline is its planned events (the plan's own disable and enable, its fate)
merged in time order with the operator's (terminate, disable, enable); an event the job's state
at that instant does not allow is skipped, as the service would refuse it. A task's attempts are
its schedule with the job's disable windows and termination applied, then the operator's own
terminate and reactivate on the task; each reactivation starts a new run.

Nothing is rewritten backwards: every change lands at the instant it was made, so the world
read at an earlier instant is the world as it was then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from batchtui.sim import views
from batchtui.sim.overlay import (
    DISABLE,
    ENABLE,
    REACTIVATE,
    REQUEUE,
    TERMINATE,
    TERMINATE_TASKS,
    JobOp,
    TaskOp,
)
from batchtui.sim.schedule import (
    ALL_TASKS,
    INF,
    REQUEUED,
    SUCCESS,
    TASK_FAILED,
    TERMINATED,
    USER_TERMINATE,
    Attempt,
    JobPlan,
    SubtaskSpec,
    SubtaskView,
    TaskSpec,
    TaskView,
)

PLANNED = "planned"  # the plan's own disable: a task not started by then waits for the enable
OP_RESUME = 1.0  # after an operator's enable, waiting tasks start this much later
KILLED = 137  # the exit code of a task process stopped under it (SIGKILL)


@dataclass(frozen=True, slots=True)
class Window:
    """The job was disabled at ``start``; its waiting tasks may start again at ``resume``."""

    start: float
    mode: str  # PLANNED, or the operator's disableTasks: requeue / terminate / wait
    resume: float = INF  # INF: never enabled (so far)


@dataclass(frozen=True, slots=True)
class Timeline:
    transitions: tuple[tuple[float, str], ...]  # (instant, state), in order
    term: float  # when the job started terminating (INF: never)
    end: float | None  # when it completed (None: never, or deleted first)
    reason: str | None  # its terminateReason once completed
    windows: tuple[Window, ...]  # the disables its tasks wait through, in order
    changes: tuple[float, ...]  # instants of changes made through the API (lastModified)


@dataclass(frozen=True, slots=True)
class Run:
    """A task's attempts since it was created, or since an operator reactivated it."""

    since: float
    attempts: tuple[Attempt, ...]
    after: float | None = None  # reactivated: when the task had completed before
    modified: float | None = None  # when an operator last changed it


# ------------------------------------------------------------------------------------ jobs


class _Timeline:
    """A timeline being built, event by event, in time order."""

    def __init__(self, plan: JobPlan) -> None:
        self.transitions: list[tuple[float, str]] = [(plan.start, "active")]
        self.api_made: set[int] = set()  # indexes of terminating transitions made through the API
        self.windows: list[Window] = []
        self.term = INF
        self.reason: str | None = None

    def state_at(self, t: float) -> str:
        state = self.transitions[0][1]
        for when, s in self.transitions:
            if when <= t:
                state = s
        return state

    def go(self, at: float, first: str, then: str, settle: float) -> None:
        """``first`` at ``at`` and ``then`` ``settle`` later; what was to follow ``at`` is off."""
        head, *rest = self.transitions
        self.transitions = [head, *(tr for tr in rest if tr[0] <= at)]
        self.api_made = {i for i in self.api_made if i < len(self.transitions)}
        self.transitions += [(at, first), (at + settle, then)]

    def terminate(self, at: float, reason: str, settle: float, *, api_made: bool) -> None:
        self.go(at, "terminating", then="completed", settle=settle)
        if api_made:
            self.api_made.add(len(self.transitions) - 2)
        self.term = at
        self.reason = reason


def job_timeline(plan: JobPlan, planned_term: float, ops: Sequence[JobOp]) -> Timeline:
    """The job's states over time: its plan (``planned_term``: when its fate strikes) and ``ops``."""
    b = _Timeline(plan)
    # (instant, planned first at a tie, order, kind, arg, settle)
    events: list[tuple[float, int, int, str, str, float]] = []
    if plan.disable_at < INF:
        events.append((plan.disable_at, 0, 0, DISABLE, PLANNED, plan.disable_delay))
        if plan.enable_at < INF:
            events.append((plan.enable_at, 0, 1, ENABLE, PLANNED, plan.disable_delay / 2))
    events += [(op.at, 1, i, op.kind, op.arg, op.settle) for i, op in enumerate(ops)]
    events.sort(key=lambda e: e[:3])
    # A fate that waits on the tasks (all done, or one failed) waits through a disable as they do.
    pending = planned_term
    follows_tasks = plan.fate in (ALL_TASKS, TASK_FAILED)
    paused_left: float | None = None
    for at, order, _, kind, arg, settle in events:
        if pending <= at:
            _fate(b, plan, pending)
            pending = INF
        state = b.state_at(at)
        if kind == DISABLE and state in ("active", "enabling"):
            b.go(at, "disabling", then="disabled", settle=settle)
            b.windows.append(Window(at, arg))
            if follows_tasks and pending < INF:
                paused_left, pending = pending - at, INF
        elif kind == ENABLE and state in ("disabling", "disabled"):
            b.go(at, "enabling", then="active", settle=settle)
            resume = at + (plan.disable_delay if arg == PLANNED else OP_RESUME)
            if b.windows and b.windows[-1].resume == INF:
                b.windows[-1] = replace(b.windows[-1], resume=resume)
            if paused_left is not None:
                pending, paused_left = resume + paused_left, None
        elif kind == TERMINATE and order == 1 and state in ("active", "enabling", "disabling", "disabled"):
            b.terminate(at, arg or USER_TERMINATE, settle, api_made=True)
            pending, paused_left = INF, None
    if pending < INF:
        _fate(b, plan, pending)
    transitions = b.transitions
    api_made = b.api_made
    if plan.delete_at < INF:
        kept = [tr for tr in transitions if tr[0] < plan.delete_at]
        api_made = {i for i in api_made if i < len(kept)}
        transitions = [*kept, (plan.delete_at, "deleting")]
    changes = tuple(
        when
        for i, (when, state) in enumerate(transitions)
        if i and (state in ("disabling", "enabling", "deleting") or i in api_made)
    )
    end = next((when for when, state in transitions if state == "completed"), None)
    return Timeline(
        tuple(transitions),
        b.term,
        end,
        b.reason if end is not None else None,
        tuple(b.windows),
        changes,
    )


def _fate(b: _Timeline, plan: JobPlan, at: float) -> None:
    """The plan's own end strikes at ``at``, unless the job has already ended."""
    if b.state_at(at) in ("active", "enabling", "disabling", "disabled"):
        b.terminate(at, plan.fate, plan.term_delay, api_made=plan.fate == USER_TERMINATE)


# ------------------------------------------------------------------------------------ tasks


def _shifted(attempts: Sequence[Attempt], by: float) -> tuple[Attempt, ...]:
    return tuple(
        Attempt(a.prep + by, a.run + by, a.end + by, a.outcome, a.exit_code, a.ran, a.node) for a in attempts
    )


def apply_window(attempts: tuple[Attempt, ...], w: Window) -> tuple[Attempt, ...]:
    """The attempts as a disable at ``w.start`` (and the enable after it) bends them."""
    if w.mode == PLANNED:  # the plan's disable: a task that had not started waits whole
        if attempts and attempts[0].prep >= w.start:
            if w.resume == INF:
                return ()
            shift = w.resume - w.start
            return _shifted(attempts, shift)
        return attempts
    out: list[Attempt] = []
    for i, a in enumerate(attempts):
        if a.prep >= w.start:  # not started when the job was disabled: it waits, as do the rest
            if w.resume < INF:
                out += _shifted(attempts[i:], w.resume - w.start)
            break
        if a.end <= w.start or w.mode not in (REQUEUE, TERMINATE_TASKS):
            out.append(a)  # done before, or left to finish (wait)
            continue
        ran = a.run < w.start
        if w.mode == TERMINATE_TASKS:
            out.append(
                Attempt(
                    a.prep, min(a.run, w.start), w.start, TERMINATED, KILLED if ran else None, node=a.node
                )
            )
            break
        out.append(Attempt(a.prep, min(a.run, w.start), w.start, REQUEUED, None, node=a.node))
        if w.resume < INF:  # it starts over once the job is enabled
            out += _shifted(attempts[i:], w.resume - a.prep)
        break
    return tuple(out)


def cut_at_term(attempts: tuple[Attempt, ...], term: float) -> tuple[Attempt, ...]:
    """A job terminating at ``term`` stops the attempt running then; later ones never start."""
    if term < INF and attempts and attempts[-1].end > term:
        cut: list[Attempt] = []
        for a in attempts:
            if a.prep >= term:
                break
            if a.end > term:
                cut.append(Attempt(a.prep, min(a.run, term), term, TERMINATED, KILLED, node=a.node))
                break
            cut.append(a)
        attempts = tuple(cut)
    return attempts


def effective_attempts(attempts: tuple[Attempt, ...], timeline: Timeline) -> tuple[Attempt, ...]:
    """The schedule as the job's own history bends it: disabling delays, termination cuts."""
    if not timeline.windows and timeline.term == INF:
        return attempts  # most jobs, most of the time
    for w in timeline.windows:
        attempts = apply_window(attempts, w)
    return cut_at_term(attempts, timeline.term)


def terminate_attempts(attempts: tuple[Attempt, ...], at: float) -> tuple[Attempt, ...]:
    """An operator terminates the task at ``at``: the attempt in progress stops, none follows."""
    out: list[Attempt] = []
    for a in attempts:
        if a.prep > at:
            break
        if a.end <= at:
            out.append(a)
            continue
        ran = a.run < at
        out.append(Attempt(a.prep, min(a.run, at), at, TERMINATED, KILLED if ran else None, node=a.node))
        return tuple(out)
    # it was waiting (to start, for a retry, or for its job to be enabled): it never runs again
    out.append(Attempt(at, at, at, TERMINATED, None, ran=False))
    return tuple(out)


def open_window(timeline: Timeline, at: float) -> Window | None:
    """The disable the job is under at ``at``, if any."""
    for w in timeline.windows:
        if w.start <= at < w.resume:
            return w
    return None


Rerun = Callable[[Run, float, int], tuple[Attempt, ...]]  # (run before, earliest start, run number)
Bend = Callable[[tuple[Attempt, ...]], tuple[Attempt, ...]]  # what node actions do to attempts


def task_runs(
    spec: TaskSpec, timeline: Timeline, ops: Sequence[TaskOp], rerun: Rerun, bend: Bend | None = None
) -> tuple[Run, ...]:
    """The task's runs: its schedule under the job's history and the node actions on the nodes
    it runs on (``bend``, node_ops), then the operator's actions on the task itself."""

    def effective(attempts: tuple[Attempt, ...], under: Timeline) -> tuple[Attempt, ...]:
        attempts = effective_attempts(attempts, under)
        # a task moved or delayed by a node action still ends with its job
        return cut_at_term(bend(attempts), under.term) if bend is not None else attempts

    runs = [Run(spec.created, effective(spec.attempts, timeline))]
    for op in ops:
        cur = runs[-1]
        if op.kind == TERMINATE:
            runs[-1] = Run(cur.since, terminate_attempts(cur.attempts, op.at), cur.after, op.at)
        elif op.kind == REACTIVATE:
            done_at = cur.attempts[-1].end if cur.attempts else op.at
            w = open_window(timeline, op.at)  # reactivated under a disable: it waits for the enable
            earliest = op.at if w is None else w.resume
            fresh = rerun(cur, earliest, len(runs)) if earliest < INF else ()
            later = Timeline(
                (), timeline.term, None, None, tuple(x for x in timeline.windows if x.start > op.at), ()
            )
            runs.append(Run(op.at, effective(fresh, later), done_at, op.at))
    return tuple(runs)


def run_at(runs: Sequence[Run], t: float) -> Run:
    """The run the task is in at ``t``."""
    current = runs[0]
    for run in runs[1:]:
        if run.since <= t:
            current = run
    return current


def view_of(spec: TaskSpec, runs: Sequence[Run], t: float) -> TaskView:
    run = run_at(runs, t)
    return views.task_view(spec, run.attempts, t, since=run.since, after=run.after, modified=run.modified)


def in_progress_end(run: Run, t: float) -> float | None:
    """When the attempt in progress at ``t`` will end (None: nothing in progress)."""
    for a in run.attempts:
        if a.ran and a.prep <= t < a.end:
            return a.end
    return None


def rank_views(subtasks: tuple[SubtaskSpec, ...], spec: TaskSpec, run: Run, t: float) -> list[SubtaskView]:
    """The ranks of the primary's latest attempt: they start with it and stop when it is stopped."""
    started = [a for a in run.attempts if a.ran and a.prep <= t]
    if not started or not spec.attempts:
        return []
    a = started[-1]
    shift = a.prep - spec.attempts[0].prep
    cut = a.end if a.outcome in (TERMINATED, REQUEUED) else INF
    healed = a.outcome == SUCCESS and spec.attempts[0].outcome != SUCCESS
    moved = []
    for s in subtasks:
        prep, start, end = s.prep + shift, s.run + shift, s.end + shift
        outcome, code = s.outcome, s.exit_code
        if healed:  # a rerun that succeeds: every rank does
            end, outcome, code = max(start + 0.5, min(end, a.end - 1.0)), SUCCESS, 0
        moved.append(SubtaskSpec(s.id, s.node, prep, start, end, outcome, code))
    return views.subtask_views(tuple(moved), cut, t)
