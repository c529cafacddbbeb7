"""The nodes seen at sim time t: what each one holds, and its state read off its windows.

Which tasks ran where is fixed by the task schedules, so each pool gets an index once (every
attempt of every task and rank on each node, by start), extended as jobs arrive; a node's state
at ``t`` is then a few bisects: inside one of its windows it is in that window's phase, otherwise
running while it holds a task and idle (or offline, scheduling disabled) when it does not.

``Overrides`` is what the API changed on a node (a reboot, scheduling disabled, a removal):
windows and switches consulted on top of the fleet's own, and the blackouts through which the
world's tasks are kept off the node (node_ops).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from batchtui.sim.fleet import INF, LEAVING, NodeError, NodePlan, Pool, Window
from batchtui.sim.node_ops import Blackout
from batchtui.sim.schedule import SUCCESS, Attempt, JobPlan, TaskSpec

RECENT_TASKS = 10  # recentTasks: the service's length is UNCONFIRMED; a recording shows 5 of 5


@dataclass(frozen=True, slots=True)
class Occupancy:
    """One attempt of a task (or one rank) on a node: held from ``start`` (preparing) to ``end``."""

    start: float
    run: float
    end: float
    outcome: str
    exit_code: int | None
    plan: JobPlan
    spec: TaskSpec
    rank: int  # 0: the task itself (or a multi-instance primary)
    attempt: int
    last: bool  # no later attempt follows (else the task is active again after ``end``)
    slots: int


@dataclass(slots=True)
class _NodeLog:
    entries: list[Occupancy] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    max_end: list[float] = field(default_factory=list)  # running max of end, in start order
    ends: list[float] = field(default_factory=list)  # sorted
    succeeded: list[int] = field(default_factory=lambda: [0])  # successes among the first i ends
    longest: float = 0.0

    def finish(self) -> None:
        self.entries.sort(key=lambda o: (o.start, o.plan.index, o.spec.index, o.rank, o.attempt))
        self.starts = [o.start for o in self.entries]
        top = -INF
        self.max_end = []
        for o in self.entries:
            top = max(top, o.end)
            self.max_end.append(top)
        by_end = sorted(self.entries, key=lambda o: o.end)
        self.ends = [o.end for o in by_end]
        count = 0
        self.succeeded = [0]
        for o in by_end:
            count += o.outcome == SUCCESS
            self.succeeded.append(count)
        self.longest = max((o.end - o.start for o in self.entries), default=0.0)


class PoolIndex:
    """What every node of one pool held, from the plans seen so far."""

    def __init__(self, size: int, revision: int) -> None:
        self.logs = [_NodeLog() for _ in range(size)]
        self.plans = 0  # how many of the world's plans are in
        self.revision = revision

    def add(self, occupancies: Iterable[tuple[int, Occupancy]]) -> None:
        dirty: set[int] = set()
        for node, occ in occupancies:
            if 0 <= node < len(self.logs):
                self.logs[node].entries.append(occ)
                dirty.add(node)
        for node in dirty:
            self.logs[node].finish()


def occupancies(
    plan: JobPlan,
    spec: TaskSpec,
    attempts: tuple[Attempt, ...],
    ranks: Iterable[tuple[int, int, float, float, float, str, int | None]],
) -> Iterator[tuple[int, Occupancy]]:
    """(node, occupancy) of a task's attempts and its ranks, cut where the job vanished."""
    cut = plan.vanish_at
    for i, a in enumerate(attempts):
        if a.prep < cut:
            yield (
                a.on(spec.node),
                Occupancy(
                    a.prep,
                    a.run,
                    min(a.end, cut),
                    a.outcome,
                    a.exit_code,
                    plan,
                    spec,
                    0,
                    i,
                    i == len(attempts) - 1,
                    spec.slots,
                ),
            )
    for rank, node, prep, run, end, outcome, code in ranks:
        if prep < cut:
            yield node, Occupancy(prep, run, min(end, cut), outcome, code, plan, spec, rank, 0, True, 1)


@dataclass(slots=True)
class Overrides:
    """What the API did to one node, consulted by the view at every instant."""

    windows: list[Window] = field(default_factory=list)  # e.g. a reboot asked for
    scheduling: list[tuple[float, bool]] = field(default_factory=list)  # (from, enabled)
    removed: float = INF  # removed from the pool at this instant
    blackouts: list[Blackout] = field(default_factory=list)  # when it takes no new task (node_ops)


@dataclass(frozen=True, slots=True)
class StartTaskView:
    state: str  # running, completed
    start: float
    end: float | None
    failed: bool
    retries: int


@dataclass(frozen=True, slots=True)
class NodeView:
    node: NodePlan
    state: str
    since: float
    scheduling: str  # enabled, disabled
    last_boot: float | None
    start_task: StartTaskView | None
    errors: tuple[NodeError, ...]
    running: tuple[Occupancy, ...]
    total_run: int
    total_succeeded: int
    recent: tuple[Occupancy, ...]


def gone_at(node: NodePlan, extra: Overrides | None) -> float:
    removed = extra.removed + LEAVING if extra is not None and extra.removed < INF else INF
    return min(node.gone_at, removed)


def exists(node: NodePlan, extra: Overrides | None, t: float) -> bool:
    return node.allocated <= t < gone_at(node, extra)


def _latest(pool: Pool, node: NodePlan, extra: Overrides | None, t: float) -> Window | None:
    best = pool.last_window(node, t)
    if extra is not None:
        for w in extra.windows:
            if w.start <= t and (best is None or w.start >= best.start):
                best = w
        if extra.removed <= t and (best is None or extra.removed >= best.start):
            best = Window("leave", extra.removed, (("leavingpool", extra.removed),), INF)
    return best


def _back(pool: Pool, node: NodePlan, extra: Overrides | None, t: float) -> Iterator[Window]:
    """Windows that began by ``t``, latest first."""
    w = _latest(pool, node, extra, t)
    while w is not None:
        yield w
        w = _latest(pool, node, extra, w.start - 1e-6)


def node_view(
    pool: Pool, node: NodePlan, log: _NodeLog, extra: Overrides | None, t: float, *, recent: bool = True
) -> NodeView | None:
    """Node ``node`` at ``t`` (None when it is not in the pool then)."""
    if not exists(node, extra, t):
        return None
    window = _latest(pool, node, extra, t)
    if extra is not None and window is not None and window.kind == "offline":
        # the fleet's own offline node (scheduling disabled long ago) is back once enabled
        back = [at for at, enabled in extra.scheduling if enabled and window.start <= at <= t]
        if back:
            window = replace(window, end=back[0])
    idx = bisect.bisect_right(log.starts, t)
    running: list[Occupancy] = []
    i = idx - 1
    while i >= 0 and log.starts[i] >= t - log.longest:
        if log.entries[i].end > t:
            running.append(log.entries[i])
        i -= 1
    running.reverse()
    errors: tuple[NodeError, ...] = ()
    disabled = False
    if window is not None and t < window.end:
        state, since = window.phase_at(t)
        errors = window.errors
        disabled = window.scheduling_disabled
    else:
        up = window.end if window is not None else node.allocated
        if running:
            state, since = "running", max(up, _busy_since(log, idx, t))
        else:
            last_end = log.max_end[idx - 1] if idx else -INF
            state, since = "idle", max(up, last_end)
    if extra is not None:
        switches = [(at, on) for at, on in extra.scheduling if at <= t]
        if switches and not switches[-1][1]:
            disabled = True
            if state == "idle":  # scheduling disabled and nothing left running
                state, since = "offline", max(since, switches[-1][0])
    boot = next((w.boot for w in _back(pool, node, extra, t) if w.boot is not None and w.boot <= t), None)
    done = bisect.bisect_right(log.ends, t)
    return NodeView(
        node=node,
        state=state,
        since=since,
        scheduling="disabled" if disabled else "enabled",
        last_boot=boot,
        start_task=_start_task(pool, node, extra, t),
        errors=errors,
        running=tuple(running),
        total_run=done,
        total_succeeded=log.succeeded[done],
        recent=_recent(log, idx) if recent else (),
    )


def _busy_since(log: _NodeLog, idx: int, t: float) -> float:
    """When the node last went from holding nothing to holding a task (it holds one at ``t``)."""
    reach = t
    for i in range(idx - 1, -1, -1):
        if log.max_end[i] < reach:
            break  # nothing started earlier lasts into the stretch
        if log.entries[i].end >= reach:
            reach = log.starts[i]
    return reach


def start_task_window(pool: Pool, node: NodePlan, extra: Overrides | None, t: float) -> Window | None:
    """The window of the latest start task that had begun by ``t`` (what ``startTaskInfo``
    and the ``startup`` files describe), or None before the first one."""
    for w in _back(pool, node, extra, t):
        if w.start_task is not None and w.start_task[0] <= t:
            return w
    return None


def _start_task(pool: Pool, node: NodePlan, extra: Overrides | None, t: float) -> StartTaskView | None:
    w = start_task_window(pool, node, extra, t)
    if w is not None and w.start_task is not None:
        st_start, st_end = w.start_task
        if t < st_end:
            return StartTaskView("running", st_start, None, False, 0)
        return StartTaskView(
            "completed", st_start, st_end, w.start_task_failed, 2 if w.start_task_failed else 0
        )
    return None


def _recent(log: _NodeLog, idx: int) -> tuple[Occupancy, ...]:
    seen: set[tuple[int, int, int]] = set()
    out: list[Occupancy] = []
    for i in range(idx - 1, -1, -1):
        o = log.entries[i]
        key = (o.plan.index, o.spec.index, o.rank)
        if key in seen:
            continue
        seen.add(key)
        out.append(o)
        if len(out) == RECENT_TASKS:
            break
    out.reverse()
    return tuple(out)


def task_state(o: Occupancy, t: float) -> str:
    """The state of the task (or rank) an occupancy belongs to, as far as this node knows it."""
    if t < o.run:
        return "preparing"
    if t < o.end:
        return "running"
    return "completed" if o.last else "active"
