"""Pollers for the views under a job: its tasks (filtered, capped) and a task's ranks.

Both read several things at once and show nothing until all of them arrived (a header from
one call and rows from another that disagree would mislead), and both slow down once what
they show can no longer change. A 404 is an answer, not an outage: the screen learns that
its job or task is gone (:func:`is_gone`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from batchtui.batch.errors import BatchServiceError
from batchtui.batch.models import Job, TaskCountsResult
from batchtui.batch.task_models import Subtask, Task
from batchtui.refresh.task_query import TaskQuery

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

# Once a job (or an MPI task and all its ranks) has completed, poll this much slower.
DONE_INTERVAL_FACTOR = 6.0
DONE_INTERVAL_MIN = 30.0


def done_interval(base: float) -> float:
    return max(base * DONE_INTERVAL_FACTOR, DONE_INTERVAL_MIN)


def is_gone(error: BaseException) -> bool:
    """The entity a view shows no longer exists (every call of a view is under its path)."""
    return isinstance(error, BatchServiceError) and error.status == 404


async def gather_all(*calls: Awaitable[Any]) -> list[Any]:
    """Every call's result, or the first failure once all have settled (none left running)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)


@dataclass(frozen=True)
class TasksSnapshot:
    """One refresh of a job's tasks: what the service said, for one query."""

    job_id: str
    query: TaskQuery
    job: Job | None
    counts: TaskCountsResult | None
    tasks: tuple[Task, ...]
    has_more: bool
    fetched_at: datetime


class TasksPoller:
    """A job's tasks under the operator's state filter, up to the query's cap."""

    def __init__(
        self, client: BatchClient, job_id: str, query: TaskQuery, now: Callable[[], datetime]
    ) -> None:
        self.client = client
        self.job_id = job_id
        self.query = query
        self.now = now
        self.job_done = False
        # The last listing, and the nextLink it stopped at: "load more" reads on from there.
        self._listed: tuple[TaskQuery, list[Task], str | None] | None = None

    def __repr__(self) -> str:
        return f"TasksPoller({self.job_id!r})"

    def interval(self, base: float) -> float:
        # A completed job's tasks no longer change (short of a reactivation).
        return done_interval(base) if self.job_done else base

    async def poll(self, reason: str) -> TasksSnapshot:
        query = self.query
        job, counts, (tasks, has_more) = await gather_all(
            self.client.get_job(self.job_id, select=("id", "displayName", "state")),
            self.client.get_task_counts(self.job_id),
            self._list(query),
        )
        self.job_done = job is not None and job.state == "completed"
        return TasksSnapshot(self.job_id, query, job, counts, tuple(tasks), has_more, self.now())

    async def _list(self, query: TaskQuery) -> tuple[list[Task], bool]:
        tasks: list[Task] = []
        after: str | None = None
        held = self._listed
        if held is not None and held[2] is not None and _grown_from(held[0], query):
            # Load more: the rows held stay, only the next block is read.
            tasks, after = list(held[1]), held[2]
        pages = self.client.iter_task_pages(
            self.job_id,
            filter=query.odata_filter,
            select=query.select,
            max_results=query.max_results,
            after=after,
        )
        link: str | None = None
        try:
            async for page in pages:
                tasks.extend(page.items)
                link = page.next_link
                if len(tasks) >= query.cap:
                    # Stop paging at the cap: what lies beyond waits until the operator asks.
                    break
        finally:
            await pages.aclose()
        has_more = len(tasks) > query.cap or link is not None
        kept = tasks[: query.cap]
        # A page cut at the cap cannot be read on from its link: only whole pages are resumable.
        self._listed = (query, kept, link if len(tasks) <= query.cap else None)
        return kept, has_more


def _grown_from(before: TaskQuery, now: TaskQuery) -> bool:
    return before.filter_name == now.filter_name and now.cap > before.cap


def finished(task: Task, subtasks: tuple[Subtask, ...] | list[Subtask]) -> bool:
    """Nothing left to change: the task and every listed rank have completed."""
    return task.state == "completed" and all(s.state == "completed" for s in subtasks)


@dataclass(frozen=True)
class SubtasksSnapshot:
    """One refresh of a multi-instance task: the task (its primary) and its listed subtasks."""

    job_id: str
    task_id: str
    task: Task
    subtasks: tuple[Subtask, ...]
    fetched_at: datetime
    finished: bool


class SubtasksPoller:
    """The ranks of one multi-instance task."""

    def __init__(self, client: BatchClient, job_id: str, task_id: str, now: Callable[[], datetime]) -> None:
        self.client = client
        self.job_id = job_id
        self.task_id = task_id
        self.now = now
        self.is_finished = False

    def __repr__(self) -> str:
        return f"SubtasksPoller({self.job_id!r}, {self.task_id!r})"

    def interval(self, base: float) -> float:
        return done_interval(base) if self.is_finished else base

    async def poll(self, reason: str) -> SubtasksSnapshot:
        task, subtasks = await gather_all(
            self.client.get_task(self.job_id, self.task_id),
            self.client.list_subtasks(self.job_id, self.task_id),
        )
        subs = tuple(subtasks)
        self.is_finished = finished(task, subs)
        return SubtasksSnapshot(self.job_id, self.task_id, task, subs, self.now(), self.is_finished)


@dataclass(frozen=True)
class TaskSnapshot:
    """One task, read whole (every property), for its details."""

    job_id: str
    task: Task
    fetched_at: datetime


class TaskPoller:
    """One task with every property, kept live while its details are open."""

    def __init__(self, client: BatchClient, job_id: str, task_id: str, now: Callable[[], datetime]) -> None:
        self.client = client
        self.job_id = job_id
        self.task_id = task_id
        self.now = now
        self.done = False

    def __repr__(self) -> str:
        return f"TaskPoller({self.job_id!r}, {self.task_id!r})"

    def interval(self, base: float) -> float:
        return done_interval(base) if self.done else base

    async def poll(self, reason: str) -> TaskSnapshot:
        task = await self.client.get_task(self.job_id, self.task_id)
        self.done = task.state == "completed"
        return TaskSnapshot(self.job_id, task, self.now())
