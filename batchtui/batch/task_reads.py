"""The task reads of the client: a job's tasks (paged, resumable), one task, its subtasks."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from batchtui.batch.listing import ListingCore
from batchtui.batch.models import Page
from batchtui.batch.paging import ListLimits
from batchtui.batch.urls import join_select, segment

if TYPE_CHECKING:
    from batchtui.batch.task_models import Subtask, Task

# The task models are imported by the first task read: --once reads none (task_models.py).


class TaskReads(ListingCore):
    """``list_tasks``, ``iter_task_pages``, ``get_task``, ``list_subtasks``."""

    async def list_tasks(
        self,
        job_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = None,
        limits: ListLimits | None = None,
    ) -> list[Task]:
        """All tasks of a job (following ``odata.nextLink``), or the first ``limit``."""
        if limit is not None and max_results is None:
            max_results = max(1, min(limit, 1000))
        pages = self.iter_task_pages(
            job_id, filter=filter, select=select, max_results=max_results, limits=limits
        )
        return await self._collect(pages, limit)

    def iter_task_pages(
        self,
        job_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        after: str | None = None,
        limits: ListLimits | None = None,
    ) -> AsyncGenerator[Page[Task], None]:
        """Pages of a job's tasks; ``after``: the nextLink an earlier listing stopped at (its
        query is in the link, so the other arguments are not sent again)."""
        from batchtui.batch.task_models import parse_task_page

        path = f"/jobs/{segment(job_id, 'job id')}/tasks"
        params = {"maxresults": max_results, "$filter": filter, "$select": join_select(select)}
        return self._pages("list_tasks", path, params, parse_task_page, limits, start=after)

    async def get_task(self, job_id: str, task_id: str, *, select: Sequence[str] | None = None) -> Task:
        from batchtui.batch.task_models import parse_task

        path = f"/jobs/{segment(job_id, 'job id')}/tasks/{segment(task_id, 'task id')}"
        body = await self._get_json("get_task", self._url(path, {"$select": join_select(select)}))
        return self._parse("get_task", parse_task, body)

    async def list_subtasks(
        self,
        job_id: str,
        task_id: str,
        *,
        select: Sequence[str] | None = None,
        limits: ListLimits | None = None,
    ) -> list[Subtask]:
        """The subtasks (ranks) of a multi-instance task, all pages."""
        from batchtui.batch.task_models import parse_subtask_page

        path = f"/jobs/{segment(job_id, 'job id')}/tasks/{segment(task_id, 'task id')}/subtasksinfo"
        params = {"$select": join_select(select)}
        return await self._collect(
            self._pages("list_subtasks", path, params, parse_subtask_page, limits), None
        )
