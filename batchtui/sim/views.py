"""The world seen at sim time t: a job, task or rank's state read off its timeline and schedule.

Pure functions: nothing here draws, caches or remembers. A job is read off its timeline and a
task off its effective attempts (history.py builds both: the plan, bent by what operators did);
``term`` is when the job starts terminating (INF: never).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from batchtui.sim.schedule import (
    REQUEUED,
    SUCCESS,
    TERMINATED,
    Attempt,
    Counts,
    JobPlan,
    JobView,
    SubtaskSpec,
    SubtaskView,
    TaskSpec,
    TaskView,
)

if TYPE_CHECKING:
    from batchtui.sim.history import Timeline


def job_view(timeline: Timeline, plan: JobPlan, t: float) -> JobView:
    """The job at ``t`` on its timeline (history.job_timeline: the plan, bent by operators)."""
    transitions = timeline.transitions
    k = 0
    for idx, (when, _) in enumerate(transitions):
        if when <= t:
            k = idx
    when, state = transitions[k]
    prev = transitions[k - 1] if k > 0 else None
    # lastModified moves only on changes made through the API (disable, enable, terminate, delete)
    last_modified = plan.created + 0.6
    for change in timeline.changes:
        if change <= t:
            last_modified = change
    done = timeline.end is not None and timeline.end <= t
    return JobView(
        plan=plan,
        state=state if when <= t else "active",
        state_time=when,
        previous_state=prev[1] if prev else None,
        previous_time=prev[0] if prev else None,
        last_modified=last_modified,
        end_time=timeline.end if done else None,
        terminate_reason=timeline.reason if done else None,
    )


def task_view(
    spec: TaskSpec,
    attempts: tuple[Attempt, ...],
    t: float,
    *,
    since: float | None = None,
    after: float | None = None,
    modified: float | None = None,
) -> TaskView:
    """The task at ``t`` under its effective ``attempts``.

    ``since``/``after``: a run that began with a reactivation at ``since`` (the task had
    completed at ``after``); ``modified``: when an operator last changed the task.
    """
    origin = spec.created if since is None else since
    started = [a for a in attempts if a.prep <= t]
    # A restart after a requeue is not a retry, nor is a termination that never ran.
    retries = [a for i, a in enumerate(started) if i and a.ran and started[i - 1].outcome != REQUEUED]
    retry_count = len(retries)
    last_retry = retries[-1].prep if retries else None
    requeues = sum(1 for a in started if a.outcome == REQUEUED and a.end <= t)
    mod = modified if modified is not None and modified <= t else None
    if not started:
        if after is None:
            return TaskView(spec, "active", spec.created, None, None, None, None, None, None, 0, None, None)
        return TaskView(
            spec, "active", origin, "completed", after, None, None, None, None, 0, None, None, requeues, mod
        )
    a = started[-1]
    k = len(started) - 1

    def view(state: str, since: float, prev: str, prev_since: float, start: float | None) -> TaskView:
        return TaskView(
            spec,
            state,
            since,
            prev,
            prev_since,
            start,
            None,
            None,
            None,
            retry_count,
            last_retry,
            a.on(spec.node),
            requeues,
            mod,
        )

    if not a.ran:  # terminated while it waited: completed without running (again)
        ran_before = [x for x in started[:-1] if x.ran]
        return TaskView(
            spec,
            "completed",
            a.end,
            "active",
            started[-2].end if k else origin,
            ran_before[-1].run if ran_before else None,
            a.end,
            None,
            a.outcome,
            retry_count,
            last_retry,
            ran_before[-1].on(spec.node) if ran_before else None,
            requeues,
            mod,
        )
    if t < a.run:
        before = attempts[k - 1].end if k else origin
        return view("preparing", a.prep, "active", before, attempts[k - 1].run if k else None)
    if t < a.end:
        return view("running", a.run, "preparing", a.prep, a.run)
    if a.outcome == REQUEUED:  # stopped by a disable: waits for the job to be enabled
        ran = a.run < a.end
        return view("active", a.end, "running" if ran else "preparing", a.run if ran else a.prep, a.run)
    if k < len(attempts) - 1:  # this attempt failed and a retry is queued
        return view("active", a.end, "running", a.run, a.run)
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
        a.on(spec.node),
        requeues,
        mod,
    )


def task_state(attempts: tuple[Attempt, ...], t: float) -> tuple[str, str | None]:
    """(state, outcome) only: the cheap path for task counts."""
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


def count_tasks(states: Iterable[tuple[str, str | None, int]]) -> tuple[Counts, Counts]:
    """(taskCounts, taskSlotCounts) of tasks given as (state, outcome, slots)."""
    c = [0, 0, 0, 0, 0]  # active, running, completed, succeeded, failed
    s = [0, 0, 0, 0, 0]
    for state, outcome, slots in states:
        if state == "active":
            idx: tuple[int, ...] = (0,)
        elif state in ("preparing", "running"):
            idx = (1,)
        else:
            idx = (2, 3) if outcome == SUCCESS else (2, 4)
        for n in idx:
            c[n] += 1
            s[n] += slots
    return Counts(*c), Counts(*s)


def subtask_views(subtasks: tuple[SubtaskSpec, ...], term: float, t: float) -> list[SubtaskView]:
    """The ranks that have started by ``t``; a job terminated under them cuts them short."""
    out = []
    for sub in subtasks:
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
