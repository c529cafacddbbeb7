"""The world seen at sim time t: a job, task or rank's state read off its plan and schedule.

Pure functions: nothing here draws, caches or remembers. ``term`` is when the job starts
terminating (INF: never), which the world works out (a TaskFailed job's depends on its
failing task's schedule).
"""

from __future__ import annotations

from collections.abc import Iterable

from batchtui.sim.schedule import (
    INF,
    SUCCESS,
    TERMINATED,
    USER_TERMINATE,
    Attempt,
    Counts,
    JobPlan,
    JobView,
    SubtaskSpec,
    SubtaskView,
    TaskSpec,
    TaskView,
)


def job_transitions(plan: JobPlan, term: float) -> list[tuple[float, str]]:
    """Every (instant, state) the job goes through, in order; a delete cuts what follows it."""
    transitions: list[tuple[float, str]] = [(plan.start, "active")]
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
    return transitions


def job_view(plan: JobPlan, term: float, t: float) -> JobView:
    transitions = job_transitions(plan, term)
    k = 0
    for idx, (when, _) in enumerate(transitions):
        if when <= t:
            k = idx
    when, state = transitions[k]
    prev = transitions[k - 1] if k > 0 else None
    # lastModified moves only on changes made through the API (disable, enable, terminate, delete)
    last_modified = plan.created + 0.6
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


def effective_attempts(plan: JobPlan, term: float, spec: TaskSpec) -> tuple[Attempt, ...]:
    """The schedule as the job's own history bends it: disabling delays, termination cuts."""
    attempts = spec.attempts
    if plan.disable_at < INF and attempts and attempts[0].prep >= plan.disable_at:
        if plan.enable_at == INF:
            return ()
        shift = plan.enable_at + plan.disable_delay - plan.disable_at
        attempts = tuple(
            Attempt(a.prep + shift, a.run + shift, a.end + shift, a.outcome, a.exit_code) for a in attempts
        )
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


def task_view(spec: TaskSpec, attempts: tuple[Attempt, ...], t: float) -> TaskView:
    """The task at ``t`` under its effective ``attempts``."""
    started = [a for a in attempts if a.prep <= t]
    retry_count = max(0, len(started) - 1)
    last_retry = started[-1].prep if retry_count else None
    if not started:
        return TaskView(spec, "active", spec.created, None, None, None, None, None, None, 0, None, None)
    a = started[-1]
    k = len(started) - 1

    def view(state: str, since: float, prev: str, prev_since: float, start: float | None) -> TaskView:
        return TaskView(
            spec, state, since, prev, prev_since, start, None, None, None, retry_count, last_retry, spec.node
        )

    if t < a.run:
        before = attempts[k - 1].end if k else spec.created
        return view("preparing", a.prep, "active", before, attempts[k - 1].run if k else None)
    if t < a.end:
        return view("running", a.run, "preparing", a.prep, a.run)
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
        spec.node,
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
