"""What the jobs poller hands the screens: the snapshot of a tick and what it knows of each job's
counts (immutable), and the exact recount that lists a job's tasks to sum them. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchtui.batch.errors import BatchClientError
from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.batch.paging import ListLimits

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

#: what an exact recount needs from each task
RECOUNT_SELECT: tuple[str, ...] = ("id", "state", "executionInfo", "requiredSlots")
#: a recount keeps only its sums, not the tasks: it may page further than a list kept in memory
RECOUNT_LIMITS = ListLimits(max_pages=2_000, max_items=2_000_000, max_seconds=900.0)


@dataclass(frozen=True)
class CountsEntry:
    """What is known about one job's task counts."""

    result: TaskCountsResult | None = None
    fetched_at: datetime | None = None
    error: BatchClientError | None = None  # the last read failed (result is the previous good one)
    final: bool = False  # read after the job completed: never fetched again


@dataclass(frozen=True)
class JobsSnapshot:
    jobs: tuple[Job, ...]
    counts: Mapping[str, CountsEntry]
    fetched_at: datetime
    list_fetched_at: datetime | None
    selected: str | None
    history: tuple[tuple[datetime, TaskCounts], ...] = ()  # the selected job's recent samples
    requests: int = 0  # requests this tick made (benchmarks, tests)
    listed: bool = False  # whether this tick fetched the job list
    failures: int = 0  # how many of this tick's requests failed
    failure: BatchClientError | None = None  # one of those failures (the last), to show
    partial: bool = False  # a stage of a tick still running (first paint): more of it follows
    list_error: BatchClientError | None = None  # the last list read stopped at its bounds

    @property
    def all_failed(self) -> bool:
        """Nothing this tick asked for arrived: the data shown is as old as it was."""
        return self.requests > 0 and self.failures >= self.requests

    @property
    def error(self) -> BatchClientError | None:
        """The failure worth showing: the selected job's counts could not be read."""
        entry = self.counts.get(self.selected) if self.selected else None
        return entry.error if entry else None


@dataclass(frozen=True)
class RecountResult:
    result: TaskCountsResult
    listed: int
    pages: int


async def recount_tasks(
    client: BatchClient,
    job_id: str,
    progress: Callable[[int, int], None] | None = None,
    *,
    page_size: int = 1000,
    limits: ListLimits = RECOUNT_LIMITS,
) -> RecountResult:
    """Count a job's tasks by listing them all (the service's /taskcounts can lag)."""
    c = {"active": 0, "running": 0, "completed": 0, "succeeded": 0, "failed": 0}
    s = dict(c)
    listed = pages = 0
    async for page in client.iter_task_pages(
        job_id, select=list(RECOUNT_SELECT), max_results=page_size, limits=limits
    ):
        pages += 1
        for task in page.items:
            listed += 1
            slots = task.required_slots or 1
            bucket = {"active": "active", "preparing": "running", "running": "running"}.get(
                task.state or "", "completed" if task.state == "completed" else None
            )
            if bucket is None:
                continue
            c[bucket] += 1
            s[bucket] += slots
            if bucket == "completed":
                outcome = "failed" if task.result == "failure" else "succeeded"
                c[outcome] += 1
                s[outcome] += slots
        if progress is not None:
            progress(listed, pages)
    return RecountResult(TaskCountsResult(TaskCounts(**c), TaskCounts(**s)), listed, pages)


def completions_per_minute(history: Sequence[tuple[datetime, TaskCounts]]) -> float | None:
    """Completed tasks per minute over the recorded samples, or None with too little history."""
    if len(history) < 2:
        return None
    (t0, c0), (t1, c1) = history[0], history[-1]
    seconds = (t1 - t0).total_seconds()
    if seconds <= 0:
        return None
    return max(c1.completed - c0.completed, 0) * 60.0 / seconds
