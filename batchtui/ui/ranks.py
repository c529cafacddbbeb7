"""The ranks of a multi-instance (MPI) task: a one-line summary and the classic failures.

Pure (no Textual) so the arithmetic is tested on its own. A rank is one instance of the
task: the subtasks the service lists under ``subtasksinfo`` and, when the service leaves it
out of that list (it lists ids 1..n-1), the primary, described by the task itself.

Two failure shapes matter to an MPI operator because nothing else points at them:
- one rank failed while the others keep running: MPI jobs usually hang then, burning nodes;
- a straggler: one rank still running long after its peers finished successfully.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from batchtui.batch.task_models import Subtask, Task
from batchtui.ui.text import fmt_duration

# Display order of the summary after "N/M running"; unknown service states follow.
CATEGORY_ORDER = ("failed", "preparing", "succeeded", "waiting")


@dataclass(frozen=True, slots=True)
class Rank:
    """One instance of a multi-instance task, whichever API described it."""

    id: int
    state: str | None
    result: str | None = None
    exit_code: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    node_id: str | None = None
    failure_code: str | None = None
    primary: bool = False

    @property
    def category(self) -> str:
        """running / preparing / failed / succeeded / waiting, or the service's own state."""
        state = (self.state or "").lower()
        if state in ("", "active"):
            return "waiting"
        if state == "completed":
            return "failed" if self.failed else "succeeded"
        return state

    @property
    def failed(self) -> bool:
        if (self.state or "").lower() != "completed":
            return False
        if self.result is not None:
            return self.result.lower() == "failure"
        # An older or $select'ed payload may lack `result`: fall back to the exit code.
        return self.failure_code is not None or (self.exit_code not in (None, 0))

    @property
    def in_flight(self) -> bool:
        return self.category in ("running", "preparing")


def rank_from_subtask(subtask: Subtask) -> Rank:
    return Rank(
        id=subtask.id if subtask.id is not None else -1,
        state=subtask.state,
        result=subtask.result,
        exit_code=subtask.exit_code,
        start_time=subtask.start_time,
        end_time=subtask.end_time,
        node_id=subtask.node_info.node_id if subtask.node_info else None,
        failure_code=subtask.failure_info.code if subtask.failure_info else None,
    )


def rank_from_primary(task: Task) -> Rank:
    info = task.execution_info
    return Rank(
        id=0,
        state=task.state,
        result=info.result if info else None,
        exit_code=info.exit_code if info else None,
        start_time=info.start_time if info else None,
        end_time=info.end_time if info else None,
        node_id=task.node_info.node_id if task.node_info else None,
        failure_code=info.failure_info.code if info and info.failure_info else None,
        primary=True,
    )


def needs_primary(task: Task, subtasks: Sequence[Subtask]) -> bool:
    """Whether the primary is missing from ``subtasks`` and must be shown from the task."""
    if any(s.id == 0 for s in subtasks):
        return False
    n = task.multi_instance_settings.number_of_instances if task.multi_instance_settings else None
    return n is None or len(subtasks) < n


def collect_ranks(task: Task | None, subtasks: Sequence[Subtask]) -> list[Rank]:
    """Every known rank, primary first, then subtasks by id."""
    ranks = sorted((rank_from_subtask(s) for s in subtasks), key=lambda r: r.id)
    if task is not None and needs_primary(task, subtasks):
        ranks.insert(0, rank_from_primary(task))
    return ranks


@dataclass(frozen=True, slots=True)
class RankSummary:
    total: int
    counts: tuple[tuple[str, int], ...]  # (category, n) in display order, n > 0

    def count(self, category: str) -> int:
        return dict(self.counts).get(category, 0)

    @property
    def text(self) -> str:
        parts = [f"{self.count('running')}/{self.total} running"]
        parts += [f"{n} {category}" for category, n in self.counts if category != "running"]
        return ", ".join(parts)


def summarize(ranks: Iterable[Rank], number_of_instances: int | None) -> RankSummary:
    """E.g. "6/8 running, 1 failed, 1 preparing". Ranks not listed yet count as waiting."""
    counts: dict[str, int] = {}
    listed = 0
    for rank in ranks:
        listed += 1
        counts[rank.category] = counts.get(rank.category, 0) + 1
    total = max(number_of_instances or 0, listed)
    if total > listed:
        counts["waiting"] = counts.get("waiting", 0) + total - listed
    known = ["running", *CATEGORY_ORDER]
    ordered = [(c, counts[c]) for c in known if counts.get(c)]
    ordered += sorted((c, n) for c, n in counts.items() if c not in known and n)
    return RankSummary(total=total, counts=tuple(ordered))


@dataclass(frozen=True, slots=True)
class RankAlert:
    kind: Literal["rank-failed", "straggler"]
    rank_ids: tuple[int, ...]
    message: str


def _ids(ranks: Sequence[Rank]) -> str:
    word = "rank" if len(ranks) == 1 else "ranks"
    shown = ", ".join(str(r.id) for r in ranks[:6])
    more = f" (+{len(ranks) - 6} more)" if len(ranks) > 6 else ""
    return f"{word} {shown}{more}"


def _why(rank: Rank) -> str:
    bits = []
    if rank.exit_code is not None:
        bits.append(f"exit {rank.exit_code}")
    if rank.failure_code:
        bits.append(rank.failure_code)
    return f" ({', '.join(bits)})" if bits else ""


def failed_while_running(ranks: Sequence[Rank]) -> RankAlert | None:
    failed = [r for r in ranks if r.failed]
    in_flight = [r for r in ranks if r.in_flight]
    if not failed or not in_flight:
        return None
    why = _why(failed[0]) if len(failed) == 1 else ""
    verb = "keeps" if len(in_flight) == 1 else "keep"
    others = f"{len(in_flight)} other{'s' if len(in_flight) != 1 else ''}"
    return RankAlert(
        kind="rank-failed",
        rank_ids=tuple(r.id for r in failed),
        message=f"{_ids(failed)} failed{why} while {others} {verb} running: the MPI job may hang",
    )


def stragglers(
    ranks: Sequence[Rank],
    now: datetime,
    *,
    factor: float = 1.5,
    min_gap: timedelta = timedelta(seconds=60),
) -> RankAlert | None:
    """Ranks still running for ``factor`` × (and ``min_gap`` past) the median of their
    successfully completed peers. MPI ranks normally finish within seconds of each other,
    so half as long again as the peers is already far longer.

    Failed peers are left out of the baseline: a rank that crashed after 3 s says nothing
    about how long the work takes. The primary is left out altogether: it runs mpirun (or
    the like), which waits for every rank, so it is always as slow as the slowest one and
    flagging it would only repeat the real straggler."""
    ranks = [r for r in ranks if not r.primary]
    done = [
        r.end_time - r.start_time
        for r in ranks
        if r.category == "succeeded" and r.start_time is not None and r.end_time is not None
    ]
    if not done:
        return None
    # median of timedeltas, in seconds (statistics is typed for numbers only)
    baseline = timedelta(seconds=statistics.median(d.total_seconds() for d in done))
    limit = max(baseline * factor, baseline + min_gap)
    slow = [
        r
        for r in ranks
        if r.category == "running" and r.start_time is not None and now - r.start_time >= limit
    ]
    if not slow:
        return None
    longest = max(now - r.start_time for r in slow if r.start_time is not None)
    peers = f"{len(done)} completed peer{'s' if len(done) != 1 else ''}"
    return RankAlert(
        kind="straggler",
        rank_ids=tuple(r.id for r in slow),
        message=(
            f"straggler: {_ids(slow)} still running after {fmt_duration(longest)}; "
            f"{peers} took {fmt_duration(baseline)} (median)"
        ),
    )


def detect_alerts(ranks: Sequence[Rank], now: datetime) -> list[RankAlert]:
    """The classic MPI failure shapes present in ``ranks`` right now."""
    return [a for a in (failed_while_running(ranks), stragglers(ranks, now)) if a is not None]
