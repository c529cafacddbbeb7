"""``batchtui --once``: the dashboard's data, fetched once and printed.

Kept free of any UI import so that a cron job or a CI step pays only for httpx: the job
list is one paged call, then every listed job's task counts are fetched concurrently
(the client bounds how many are in flight).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from batchtui.batch.client import BatchClient
from batchtui.batch.errors import BatchClientError
from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.job_order import default_job_order, state_filter
from batchtui.sanitize import clean

#: What the job list asks for: only the columns --once prints.
JOB_SELECT = ("id", "displayName", "state", "poolInfo", "creationTime", "executionInfo")


@dataclass(frozen=True, slots=True)
class JobCounts:
    job: Job
    counts: TaskCountsResult | None
    error: str | None


@dataclass(frozen=True, slots=True)
class OnceResult:
    endpoint: str
    account: str | None
    fetched_at: datetime
    jobs: tuple[JobCounts, ...]


async def _counts(client: BatchClient, job: Job) -> JobCounts:
    try:
        return JobCounts(job, await client.get_task_counts(job.id or ""), None)
    except BatchClientError as exc:
        return JobCounts(job, None, str(exc))


async def collect(client: BatchClient, *, state: str | None = None) -> OnceResult:
    jobs = await client.list_jobs(filter=state_filter(state), select=JOB_SELECT)
    jobs = default_job_order(jobs)
    rows = await asyncio.gather(*(_counts(client, job) for job in jobs))
    return OnceResult(
        endpoint=client.endpoint,
        account=client.account,
        fetched_at=datetime.now(UTC),
        jobs=tuple(rows),
    )


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _counts_json(counts: TaskCounts | None) -> dict[str, int] | None:
    return None if counts is None else counts.to_wire()


def render_json(result: OnceResult) -> str:
    doc = {
        "endpoint": result.endpoint,
        "account": result.account,
        "fetched_at": _iso(result.fetched_at),
        "jobs": [
            {
                "id": row.job.id,
                "displayName": row.job.display_name,
                "state": row.job.state,
                "poolId": row.job.effective_pool_id,
                "creationTime": _iso(row.job.creation_time),
                "taskCounts": _counts_json(row.counts.task_counts if row.counts else None),
                "taskSlotCounts": _counts_json(row.counts.task_slot_counts if row.counts else None),
                "error": row.error,
            }
            for row in result.jobs
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


_COLUMNS = ("JOB", "STATE", "POOL", "ACTIVE", "RUNNING", "SUCCEEDED", "FAILED", "DONE%", "NOTE")


def _table_row(row: JobCounts) -> Sequence[str]:
    job = row.job
    c = row.counts.task_counts if row.counts else None
    numbers: list[str] = (
        [str(c.active), str(c.running), str(c.succeeded), str(c.failed), f"{c.percent_complete:.0f}"]
        if c
        else ["-"] * 5
    )
    note = row.error or ""
    return [_cell(job.id), _cell(job.state), _cell(job.effective_pool_id), *numbers, _cell(note, 200)]


def _cell(value: object, limit: int = 64) -> str:
    # Batch ids are at most 64 characters; a longer value (a proxy's page, a hostile payload)
    # would widen every line of the table to its length.
    text = clean(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_table(result: OnceResult) -> str:
    rows = [list(_COLUMNS), *(_table_row(r) for r in result.jobs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    right = {3, 4, 5, 6, 7}
    lines = []
    for r in rows:
        cells = [r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i]) for i in range(len(_COLUMNS))]
        lines.append("  ".join(cells).rstrip())
    failed = sum(1 for r in result.jobs if r.counts is None)
    footer = f"{len(result.jobs)} jobs · {clean(result.account or result.endpoint)}"
    if failed:
        footer += f" · counts unavailable for {failed}"
    lines.append(footer)
    return "\n".join(lines)
