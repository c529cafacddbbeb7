"""``batchtui --once``: the dashboard's data, fetched once and printed.

Kept free of any UI import so that a cron job or a CI step pays only for httpx: the job
list is one paged call, then every listed job's task counts are fetched concurrently
(the client bounds how many are in flight). The pools' node counts are one more paged call
(``/nodecounts``), printed with the counts spelled as that call spells them.
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
from batchtui.batch.node_counts import PoolNodeCounts
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
    pools: tuple[PoolNodeCounts, ...] = ()
    pools_error: str | None = None  # the node counts could not be read (the jobs still print)


async def _counts(client: BatchClient, job: Job) -> JobCounts:
    try:
        return JobCounts(job, await client.get_task_counts(job.id or ""), None)
    except BatchClientError as exc:
        return JobCounts(job, None, str(exc))


async def _pools(client: BatchClient) -> tuple[tuple[PoolNodeCounts, ...], str | None]:
    try:
        counts = await client.list_pool_node_counts(max_results=1000)
    except BatchClientError as exc:
        return (), str(exc)
    return tuple(sorted(counts, key=lambda c: c.pool_id or "")), None


async def collect(client: BatchClient, *, state: str | None = None) -> OnceResult:
    jobs = await client.list_jobs(filter=state_filter(state), select=JOB_SELECT)
    jobs = default_job_order(jobs)
    # The node counts go with the counts, not before the job list: an account (or a proxy)
    # that cannot list jobs is not asked for more.
    pools = asyncio.ensure_future(_pools(client))
    rows = await asyncio.gather(*(_counts(client, job) for job in jobs))
    pool_counts, pools_error = await pools
    return OnceResult(
        endpoint=client.endpoint,
        account=client.account,
        fetched_at=datetime.now(UTC),
        jobs=tuple(rows),
        pools=pool_counts,
        pools_error=pools_error,
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
        "pools": [
            {"id": c.pool_id, "dedicated": c.dedicated.to_wire(), "lowPriority": c.low_priority.to_wire()}
            for c in result.pools
        ],
    }
    if result.pools_error is not None:
        doc["poolsError"] = result.pools_error
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


def _aligned(rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i]) for i in range(len(r))]
        lines.append("  ".join(cells).rstrip())
    return lines


_POOL_COLUMNS = ("POOL", "DEDICATED", "SPOT", "IDLE", "RUNNING", "STARTING", "SICK", "NOTE")
#: /nodecounts keys of nodes on their way up, and of sick nodes with how the note words them
_STARTING = ("creating", "starting", "waitingForStartTask", "rebooting", "reimaging")
_SICK = (
    ("startTaskFailed", "start task failed"),
    ("unusable", "unusable"),
    ("unknown", "lost contact"),
    ("offline", "offline"),
    ("preempted", "preempted"),
)


def _pool_row(c: PoolNodeCounts) -> Sequence[str]:
    note = ", ".join(f"{n} {word}" for key, word in _SICK if (n := c.get(key)))
    return [
        _cell(c.pool_id),
        str(c.dedicated.total),
        str(c.low_priority.total),
        str(c.get("idle")),
        str(c.get("running")),
        str(sum(c.get(k) for k in _STARTING)),
        str(c.sick),
        _cell(note, 200),
    ]


def render_table(result: OnceResult) -> str:
    lines = _aligned([list(_COLUMNS), *(_table_row(r) for r in result.jobs)], {3, 4, 5, 6, 7})
    if result.pools:
        lines.append("")
        lines.extend(
            _aligned([list(_POOL_COLUMNS), *(_pool_row(c) for c in result.pools)], {1, 2, 3, 4, 5, 6})
        )
    failed = sum(1 for r in result.jobs if r.counts is None)
    footer = f"{len(result.jobs)} jobs · {clean(result.account or result.endpoint)}"
    if failed:
        footer += f" · counts unavailable for {failed}"
    sick = sum(c.sick for c in result.pools)
    footer += f" · {len(result.pools)} pools" + (f" ({sick} sick nodes)" if sick else "")
    if result.pools_error is not None:
        footer += f" · node counts unavailable: {_cell(result.pools_error, 200)}"
    lines.append(footer)
    return "\n".join(lines)
