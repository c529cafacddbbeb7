"""A job's failures, grouped to find the bad node: by failure code and exit code, and by node.

The failed tasks are read with ``$filter=executionInfo/result eq 'failure'`` and a narrow
``$select`` (id, executionInfo, nodeInfo: ~0.5 KB a task), paged at 1,000 and bounded: a job
of 100,000 tasks is a few pages, and past :data:`MAX_FAILURES` the summary says it counted only
that many. They are re-read only when the job's failed count moves (the tasks screen tells the
poller what its counts say) or on ctrl+r; otherwise a poll answers from what it has.

The grouping is pure (:func:`summarize`), so the subtasks screen groups its ranks with it too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchtui.batch.task_models import Task

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

FAILURE_FILTER = "executionInfo/result eq 'failure'"
FAILURE_SELECT: tuple[str, ...] = ("id", "executionInfo", "nodeInfo")
MAX_FAILURES = 20_000
PAGE = 1000
#: a node is called out as likely bad when it holds at least this many failures...
BAD_NODE_MIN = 3
#: ...and at least this share of them
BAD_NODE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed task or rank: what the grouping needs of it."""

    what: str  # the task id (or rank number)
    code: str | None  # failureInfo.code (FailureExitCode, TaskEnded, ...)
    exit_code: int | None
    pool_id: str | None
    node_id: str | None


@dataclass(frozen=True, slots=True)
class Group:
    code: str | None
    exit_code: int | None
    count: int
    nodes: int  # on how many distinct nodes


@dataclass(frozen=True, slots=True)
class NodeShare:
    pool_id: str | None
    node_id: str
    count: int
    exits: tuple[tuple[int | None, int], ...]  # (exit code, count), most common first


@dataclass(frozen=True, slots=True)
class FailureSummary:
    total: int  # failures counted
    complete: bool  # False: more failures than were read
    groups: tuple[Group, ...]  # by (code, exit code), largest first
    by_node: tuple[NodeShare, ...]  # largest first
    bad_node: NodeShare | None  # one node holding most of the failures
    rest: tuple[Group, ...]  # the groups of the failures that are not on the bad node

    def parts(self, noun: str = "failed") -> list[tuple[str, str]]:
        """The line in pieces, each with what it is ("total", "bad", "group"), for a screen to
        style; the bad node comes right after the total, so a cut line still shows it."""
        if not self.total:
            return []
        out = [(f"{self.total:,}{'' if self.complete else '+'} {noun}", "total")]
        bad = self.bad_node
        if bad is not None:
            exit_code = bad.exits[0][0] if bad.exits else None
            where = f"{bad.count:,} on {bad.node_id}"
            out.append((where + (f" (exit {exit_code})" if exit_code is not None else ""), "bad"))
        for g in self.rest[:3]:
            out.append((_group_text(g), "group"))
        if len(self.rest) > 3:
            out.append((f"{sum(g.count for g in self.rest[3:]):,} other", "group"))
        return out

    def line(self, noun: str = "failed") -> str:
        """ "18 failed · 15 on tvm-…-07 (exit 137) · 3 exit 1 on 3 nodes"."""
        return " · ".join(text for text, _ in self.parts(noun))


def _group_text(g: Group) -> str:
    what = f"exit {g.exit_code}" if g.exit_code is not None else (g.code or "no code")
    if g.code not in (None, "FailureExitCode") and g.exit_code is not None:
        what = f"{g.code} (exit {g.exit_code})"
    where = f"on {g.nodes} node{'s' if g.nodes != 1 else ''}" if g.nodes else "before reaching a node"
    return f"{g.count:,} {what} {where}"


def _groups(failures: Iterable[Failure]) -> list[Group]:
    counts: Counter[tuple[str | None, int | None]] = Counter()
    nodes: dict[tuple[str | None, int | None], set[str]] = {}
    for f in failures:
        key = (f.code, f.exit_code)
        counts[key] += 1
        if f.node_id:
            nodes.setdefault(key, set()).add(f.node_id)
    return [
        Group(code, exit_code, n, len(nodes.get((code, exit_code), ())))
        for (code, exit_code), n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    ]


def summarize(failures: Iterable[Failure], *, complete: bool = True) -> FailureSummary:
    items = tuple(failures)
    per_node: dict[tuple[str | None, str], Counter[int | None]] = {}
    for f in items:
        if f.node_id:
            per_node.setdefault((f.pool_id, f.node_id), Counter())[f.exit_code] += 1
    shares = sorted(
        (
            NodeShare(pool, node, sum(exits.values()), tuple(exits.most_common()))
            for (pool, node), exits in per_node.items()
        ),
        key=lambda s: (-s.count, s.node_id),
    )
    bad = None
    if shares and shares[0].count >= BAD_NODE_MIN and shares[0].count >= BAD_NODE_SHARE * len(items):
        if len(shares) == 1 or shares[0].count > shares[1].count:
            bad = shares[0]
    groups = tuple(_groups(items))
    rest = groups if bad is None else tuple(_groups(f for f in items if f.node_id != bad.node_id))
    return FailureSummary(
        total=len(items), complete=complete, groups=groups, by_node=tuple(shares), bad_node=bad, rest=rest
    )


def task_failure(task: Task) -> Failure:
    info = task.execution_info
    node = task.node_info
    return Failure(
        what=task.id or "",
        code=info.failure_info.code if info and info.failure_info else None,
        exit_code=info.exit_code if info else None,
        pool_id=node.pool_id if node else None,
        node_id=node.node_id if node else None,
    )


@dataclass(frozen=True)
class FailuresSnapshot:
    job_id: str
    summary: FailureSummary
    fetched_at: datetime


class FailuresPoller:
    """The failed tasks of one job, summarized; re-read when the failed count says so."""

    def __init__(
        self, client: BatchClient, job_id: str, now: Callable[[], datetime], cap: int = MAX_FAILURES
    ) -> None:
        self.client = client
        self.job_id = job_id
        self.now = now
        self.cap = cap
        #: the job's failed count as the tasks screen last saw it (an intent: read when it moves)
        self.expected: int | None = None
        self._read_at: int | None = None
        self._summary: FailureSummary | None = None

    def __repr__(self) -> str:
        return f"FailuresPoller({self.job_id!r})"

    def interval(self, base: float) -> float:
        return base * 6  # a backstop: the screen wakes it when the failed count moves

    async def poll(self, reason: str) -> FailuresSnapshot:
        if self._summary is not None and reason != "now" and self.expected == self._read_at:
            return FailuresSnapshot(self.job_id, self._summary, self.now())
        expected = self.expected
        failures: list[Failure] = []
        complete = True
        pages = self.client.iter_task_pages(
            self.job_id, filter=FAILURE_FILTER, select=FAILURE_SELECT, max_results=PAGE
        )
        try:
            async for page in pages:
                failures.extend(task_failure(t) for t in page.items)
                if len(failures) >= self.cap:
                    complete = len(failures) == self.cap and page.next_link is None
                    break
        finally:
            await pages.aclose()
        self._summary = summarize(failures[: self.cap], complete=complete)
        self._read_at = expected
        return FailuresSnapshot(self.job_id, self._summary, self.now())
