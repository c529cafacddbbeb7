"""The job reads of the client: list (paged), get, and a job's task counts."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from batchtui.batch.listing import ListingCore
from batchtui.batch.models import (
    Job,
    Page,
    TaskCountsResult,
    parse_job,
    parse_job_page,
    parse_task_counts,
)
from batchtui.batch.paging import ListLimits
from batchtui.batch.urls import join_select, segment


class JobReads(ListingCore):
    """``list_jobs``, ``iter_job_pages``, ``get_job``, ``get_task_counts``."""

    async def list_jobs(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = None,
        limits: ListLimits | None = None,
    ) -> list[Job]:
        """All jobs (following ``odata.nextLink`` to the end), or the first ``limit``.

        Past ``limits`` (the client's by default) it raises ListingTooLong holding the jobs read.
        """
        if limit is not None and max_results is None:
            max_results = max(1, min(limit, 1000))
        return await self._collect(
            self.iter_job_pages(filter=filter, select=select, max_results=max_results, limits=limits), limit
        )

    def iter_job_pages(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limits: ListLimits | None = None,
    ) -> AsyncGenerator[Page[Job], None]:
        """Pages of jobs, one GET per page, fetched only as the iterator is advanced.

        Past ``limits`` it raises ListingTooLong after the pages it yielded."""
        params = {"maxresults": max_results, "$filter": filter, "$select": join_select(select)}
        return self._pages("list_jobs", "/jobs", params, parse_job_page, limits)

    async def get_job(self, job_id: str, *, select: Sequence[str] | None = None) -> Job:
        path = f"/jobs/{segment(job_id, 'job id')}"
        body = await self._get_json("get_job", self._url(path, {"$select": join_select(select)}))
        return self._parse("get_job", parse_job, body)

    async def get_task_counts(self, job_id: str) -> TaskCountsResult:
        path = f"/jobs/{segment(job_id, 'job id')}/taskcounts"
        body = await self._get_json("get_task_counts", self._url(path, {}))
        return self._parse("get_task_counts", parse_task_counts, body)
