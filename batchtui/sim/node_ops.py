"""What an operator's node action does to the tasks on the node: a *blackout*.

Reboot, disable scheduling and remove-from-pool all open a stretch in which the node takes no
new task (``start`` to ``end``; INF: until scheduling is enabled again, or for good once the node
leaves). What happens to the task in progress when it opens is the action's option
(NEXT-APIS §4, the service's nodeRebootOption / nodeDisableSchedulingOption /
nodeDeallocationOption):

- ``requeue``: it stops at once and goes back to the queue; it runs again, from the start and
  without counting a retry, a moment later on another node;
- ``terminate``: it stops at once and completes as failed (exit 137, as a killed process);
- ``taskcompletion`` / ``retaineddata`` (``WAIT`` here): it runs to its end.

An attempt that would have started on the node during the blackout starts on another node
instead (the service would simply have given it to one). The world stays a pure function of its
records: :func:`bend` is applied whenever a task's attempts are read, and nothing before a
blackout's start changes.

A multi-instance task is moved by its primary's node only; a blackout on one of its ranks'
nodes stops (requeue, terminate) the attempt in progress, and the rerun keeps its ranks' nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from batchtui.sim.fleet import INF
from batchtui.sim.schedule import REQUEUED, TERMINATED, Attempt

REQUEUE = "requeue"
TERMINATE = "terminate"
WAIT = "wait"  # taskcompletion, retaineddata: what runs finishes
KILLED = 137
RESUME = 3.0  # sim seconds a requeued task waits before another node picks it up
MAX_MOVES = 8  # a task bounced between blacked-out nodes more than this stays where it is

REBOOT_OPTIONS = ("requeue", "terminate", "taskcompletion", "retaineddata")
DISABLE_OPTIONS = ("requeue", "terminate", "taskcompletion")
DEALLOCATION_OPTIONS = REBOOT_OPTIONS


def mode_of(option: str) -> str:
    """The service's option word -> what happens to the task in progress."""
    return {"requeue": REQUEUE, "terminate": TERMINATE}.get(option, WAIT)


@dataclass(frozen=True, slots=True)
class Blackout:
    """From ``start`` to ``end`` the node takes no new task; ``mode``: what happens to the one
    in progress at ``start``."""

    start: float
    end: float
    mode: str
    kind: str  # reboot, disable, remove


BlackoutsOf = Callable[[int], Sequence[Blackout]]
Place = Callable[[int, float, float], int]  # (from node, prep, end) -> another node


def _hit(blackouts: Sequence[Blackout], a: Attempt) -> Blackout | None:
    """The earliest blackout that the attempt reaches into (None: it runs untouched)."""
    best = None
    for b in blackouts:
        if b.start < a.end and b.end > a.prep and (best is None or b.start < best.start):
            best = b
    return best


def _shift(attempts: Sequence[Attempt], by: float, node: int) -> list[Attempt]:
    return [
        Attempt(a.prep + by, a.run + by, a.end + by, a.outcome, a.exit_code, a.ran, node) for a in attempts
    ]


def bend(
    attempts: tuple[Attempt, ...],
    home: int,
    blackouts_of: BlackoutsOf,
    place: Place,
    *,
    rank_nodes: Sequence[int] = (),
) -> tuple[Attempt, ...]:
    """The attempts as the node actions on ``home`` (and its ranks' ``rank_nodes``) bend them."""
    pending = list(attempts)
    out: list[Attempt] = []
    moves = 0
    while pending:
        a = pending[0]
        if not a.ran:
            out.append(pending.pop(0))
            continue
        node = a.on(home)
        own = blackouts_of(node)
        ranks = [b for k in rank_nodes for b in blackouts_of(k) if b.start > a.prep]
        hit = _hit([*own, *ranks], a)
        if hit is None:
            out.append(pending.pop(0))
            continue
        s = hit.start
        if a.prep >= s:  # it would start while the node takes nothing: another node takes it
            if hit not in own or moves >= MAX_MOVES:
                out.append(pending.pop(0))  # a rank's node: the rerun keeps its ranks (see above)
                continue
            moves += 1
            other = place(node, a.prep, a.end)
            pending = [replace(x, node=other) for x in pending]
            continue
        if hit.mode == WAIT:
            out.append(pending.pop(0))
            continue
        ran = a.run < s
        if hit.mode == TERMINATE:
            out.append(Attempt(a.prep, min(a.run, s), s, TERMINATED, KILLED if ran else None, node=a.node))
            break
        out.append(Attempt(a.prep, min(a.run, s), s, REQUEUED, None, node=a.node))
        # back to the queue: the same attempt and what follows it, a moment later elsewhere
        target = node if rank_nodes else place(node, s + RESUME, s + RESUME + (a.end - a.prep))
        pending = _shift(pending, s + RESUME - a.prep, target if target != home else -1)
    return tuple(out)


def running_end(ends: Sequence[float], t: float) -> float:
    """When the last of the tasks running at ``t`` (ending at ``ends``) is done: ``t`` if none."""
    return max((e for e in ends if e > t), default=t)


def closed(blackouts: list[Blackout], kind: str, at: float) -> list[Blackout]:
    """The open blackouts of ``kind`` ended at ``at`` (scheduling enabled again)."""
    return [replace(b, end=at) if b.kind == kind and b.end == INF and b.start <= at else b for b in blackouts]
