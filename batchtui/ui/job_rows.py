"""The rows of the jobs table: columns and their widths, cells, sort values, reuse.

An account may hold 10,000 jobs, refreshed every few seconds, most of them unchanged: the
row of a job whose counts, age and pin did not change is reused as it was
(tests/test_jobs_row_cache.py, bench/apply_cost.py).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text

from batchtui.batch.models import Job, TaskCounts
from batchtui.job_order import job_rank
from batchtui.refresh.jobs import CountsEntry, JobsSnapshot
from batchtui.ui.pinning import pin_row
from batchtui.ui.text import fmt_age, fmt_count, literal
from batchtui.ui.widgets.count_bar import BAR_ORDER, allocate, bar_values
from batchtui.ui.widgets.keyed_table import Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Job"),
    ("name", "Display name"),
    ("state", "State"),
    ("pool", "Pool"),
    ("priority", "Prio"),
    ("age", "Age"),
    ("active", "Act"),
    ("running", "Run"),
    ("succeeded", "OK"),
    ("failed", "Fail"),
    ("bar", "Progress"),
)
# Rough cell widths (content + padding) and which columns go first when the terminal is narrow:
# id, state, the counts and the bar are what a glance needs.
_WIDTH = {
    "id": 26,
    "name": 26,
    "state": 13,
    "pool": 18,
    "priority": 6,
    "age": 8,
    "active": 6,
    "running": 6,
    "succeeded": 7,
    "failed": 6,
    "bar": 12,
}
_DROP_ORDER = ("priority", "pool", "age", "name")
SORTS: tuple[str, ...] = ("active first", "newest", "failures", "id", "priority")
INLINE_BAR = 8

_STATE_STYLE = {
    "active": "active",
    "enabling": "active",
    "terminating": "warning",
    "disabling": "disabled",
    "disabled": "disabled",
    "deleting": "disabled",
    "completed": "completed",
}


def fit_columns(width: int, widths: dict[str, int] | None = None) -> list[str]:
    """The columns that fit ``width`` cells, dropping the least needed first."""
    need = widths or _WIDTH
    room = width - 3  # the vertical scrollbar (2) and a cell of slack
    keys = [k for k, _ in COLUMNS]
    dropped: list[str] = []
    for drop in _DROP_ORDER:
        if sum(need.get(k, _WIDTH[k]) for k in keys) <= room:
            break
        keys.remove(drop)
        dropped.append(drop)
    # A narrow column dropped early may fit again once a wide one is gone.
    for back in reversed(dropped[:-1]):
        if sum(need.get(k, _WIDTH[k]) for k in keys) + need.get(back, _WIDTH[back]) <= room:
            keys.append(back)
    order = [k for k, _ in COLUMNS]
    return sorted(keys, key=order.index)


@dataclass(frozen=True)
class CachedRow:
    """A job's row and what it was built from, to reuse it while none of that changed."""

    job: Job
    entry: CountsEntry | None
    age: str
    pinned: bool
    row: Row


def job_rows(
    snap: JobsSnapshot,
    now: datetime,
    *,
    pins: Container[str],
    last: Mapping[str, CachedRow],
    style: Callable[[str], Style],
) -> tuple[list[Row], dict[str, CachedRow]]:
    """The rows of ``snap``'s jobs, and what they were built from (``last`` of the next pass).

    A row whose job, counts, age and pin are those of ``last`` is that same object.
    """
    cache: dict[str, CachedRow] = {}
    rows: list[Row] = []
    # Resolved once per pass: a theme style lookup (and query_one) per cell cost ~0.1 ms
    # per row, 1 s for the first screen of 10,000 jobs (bench/ten_thousand.py).
    for job in snap.jobs:
        if not job.id:
            continue
        entry = snap.counts.get(job.id)
        age = fmt_age(job.creation_time, now)
        pinned = job.id in pins
        hit = last.get(job.id)
        # `is` first: between list fetches the Job objects are the same ones (== compares every field).
        same_job = hit is not None and (hit.job is job or hit.job == job)
        if hit is not None and same_job and hit.entry is entry and hit.age == age and hit.pinned == pinned:
            cache[job.id] = hit  # no new object per unchanged row: less for the GC to scan
            rows.append(hit.row)
            continue
        row = pin_row(job_row(job, entry, age, style), pinned, style=style)
        cache[job.id] = CachedRow(job, entry, age, pinned, row)
        rows.append(row)
    return rows, cache  # only jobs still listed: nothing accumulates


def job_row(job: Job, entry: CountsEntry | None, age: str, style: Callable[[str], Style]) -> Row:
    dim = style("dim")
    state = job.state or ""
    counts = entry.result.task_counts if entry and entry.result else None
    number_cells: list[Text] = []
    for name in ("active", "running", "succeeded", "failed"):
        if counts is None:
            number_cells.append(Text("·", style=dim, justify="right"))
            continue
        value = getattr(counts, name)
        cell_style = style(name) if value else dim
        number_cells.append(Text(fmt_count(value), style=cell_style, justify="right"))
    scheduling_error = job.execution_info.scheduling_error if job.execution_info else None
    trouble = bool((counts and counts.failed) or scheduling_error or (entry and entry.error))
    state_cell = literal(state, "")
    state_cell.stylize(style(_STATE_STYLE.get(state, "dim")))
    if scheduling_error is not None:
        state_cell.append(" ⚠", style=style("failed"))
    created = job.creation_time.timestamp() if job.creation_time else 0.0
    return Row(
        key=job.id or "",
        cells=(
            literal(job.id, limit=24),
            literal(job.display_name, limit=18),
            state_cell,
            literal(job.effective_pool_id, limit=16),
            Text("" if job.priority is None else str(job.priority), justify="right"),
            Text(age, justify="right"),
            *number_cells,
            inline_bar(counts, dim, style),
        ),
        sort_values={
            "active first": (job_rank(job), job.id or ""),
            "newest": -created,
            "failures": (-(counts.failed if counts else 0), job_rank(job)),
            "id": job.id or "",
            "priority": (-(job.priority or 0), job_rank(job)),
        },
        trouble=trouble,
        search=" ".join(filter(None, (job.id, job.display_name, state, job.effective_pool_id))),
    )


def inline_bar(counts: TaskCounts | None, dim: Style, style: Callable[[str], Style]) -> Text:
    if counts is None or counts.total == 0:
        return Text("·" * INLINE_BAR if counts is None else "no tasks".ljust(INLINE_BAR), style=dim)
    bar = Text()
    cells = allocate(bar_values(counts), INLINE_BAR)
    for name, n in zip(BAR_ORDER, cells, strict=True):
        if n:
            bar.append("█" * n, style=style(name))
    rest = INLINE_BAR - sum(cells)
    if rest:
        bar.append("·" * rest, style=dim)
    return bar
