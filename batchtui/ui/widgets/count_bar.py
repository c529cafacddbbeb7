"""The task-count bar of the selected job: where its tasks are, at a glance.

One stacked bar for tasks and one for task slots (succeeded, failed, running, active from
the left, so the filled part reads as progress), the numbers, the percentage complete, when
the counts were read, and the caveat that the service's counts can lag (``c`` recounts
exactly by listing the tasks; progress is shown while it pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

from batchtui.batch.models import TaskCounts, TaskCountsResult
from batchtui.refresh.history import Trend
from batchtui.ui.text import clean, fmt_count, fmt_duration
from batchtui.ui.when import when_text
from batchtui.ui.widgets.sparkline import trend_line, worth_showing

# Order of the segments in a bar (left to right) and of the numbers in the legend.
BAR_ORDER: tuple[str, ...] = ("succeeded", "failed", "running", "active")
LEGEND_ORDER: tuple[str, ...] = ("active", "running", "succeeded", "failed")
FULL = "█"
EMPTY = "·"


def allocate(values: Sequence[int], width: int) -> list[int]:
    """Split ``width`` cells in proportion to ``values`` (largest remainder).

    A non-zero value gets at least one cell whenever there is room, so a single failure
    among thousands of successes is still visible.
    """
    total = sum(values)
    if total <= 0 or width <= 0:
        return [0] * len(values)
    exact = [v * width / total for v in values]
    cells = [int(x) for x in exact]
    order = sorted(range(len(values)), key=lambda i: exact[i] - cells[i], reverse=True)
    for i in order[: width - sum(cells)]:
        cells[i] += 1
    # Steal a cell from the widest segment for any non-zero value that got none.
    for i, v in enumerate(values):
        if v > 0 and cells[i] == 0:
            widest = max(range(len(cells)), key=lambda j: cells[j])
            if cells[widest] > 1:
                cells[widest] -= 1
                cells[i] = 1
    return cells


def bar_values(counts: TaskCounts) -> list[int]:
    # A negative count (a broken answer) takes no room rather than eating its neighbours'.
    return [max(getattr(counts, name), 0) for name in BAR_ORDER]


@dataclass(frozen=True)
class Recount:
    """Where an exact recount of ``job_id`` is: running (``result`` None) or done."""

    job_id: str
    listed: int = 0
    pages: int = 0
    result: TaskCountsResult | None = None
    at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class BarData:
    job_id: str | None = None
    counts: TaskCountsResult | None = None
    fetched_at: datetime | None = None
    error: str | None = None  # why the last read of this job's counts failed
    rate: float | None = None  # completions per minute, from the monitor's history
    recount: Recount | None = None
    final: bool = False  # the job completed; its counts will not be read again
    trend: Trend | None = None  # from the account's counts history (throughput, ETA, stall)
    recount_hint: bool = True  # say that c recounts exactly (not on the kiosk, which has no keys)
    queued: str | None = None  # why a job with active tasks runs none of them (from its pool)


#: the styles of the counts' colours, shared by the bar and the kiosk's tiles (the theme's
#: semantic state colours), as component classes so that themes and ``:light`` apply to both
COUNT_CLASSES = frozenset(
    f"count-bar--{name}"
    for name in ("active", "running", "succeeded", "failed", "track", "title", "dim", "warning")
)
COUNT_RULES = """
        & > .count-bar--active { color: $state-active; }
        & > .count-bar--running { color: $state-running; }
        & > .count-bar--succeeded { color: $state-succeeded; }
        & > .count-bar--failed { color: $state-failed; text-style: bold; }
        & > .count-bar--track { color: $foreground-disabled; }
        & > .count-bar--title { text-style: bold; }
        & > .count-bar--dim { color: $foreground-muted; }
        & > .count-bar--warning { color: $warning; text-style: bold; }
"""


class CountBar(Widget):
    DEFAULT_CSS = """
    CountBar {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        border-top: solid $primary 40%;
        background: $surface;
        &.-collapsed { border-top: none; }
        COUNT_RULES
    }
    """.replace("COUNT_RULES", COUNT_RULES)
    COMPONENT_CLASSES: ClassVar[set[str]] = set(COUNT_CLASSES)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data = BarData()
        self.compact = False  # short terminals: the caveat joins the title line
        self.collapsed = False  # very short terminals: the title line alone, rows come first

    def set_compact(self, compact: bool) -> None:
        if compact != self.compact:
            self.compact = compact
            self.refresh(layout=True)

    def set_collapsed(self, collapsed: bool) -> None:
        if collapsed != self.collapsed:
            self.collapsed = collapsed
            self.set_class(collapsed, "-collapsed")
            self.refresh(layout=True)

    def show(self, data: BarData) -> None:
        """Show ``data``; repaints only if something differs."""
        if data != self.data:
            self.data = data
            self.refresh(layout=True)

    # ------------------------------------------------------------------ rendering

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines(max(width, 20)))

    def render(self) -> Content:
        return Content("\n").join(self._lines(max(self.content_region.width, 20)))

    def _bar(self, label: str, counts: TaskCounts, width: int) -> list[Content]:
        st = self.get_visual_style
        pct = f" {counts.percent_complete:5.1f}%"
        bar_width = max(width - len(label) - len(pct) - 2, 4)
        parts: list[str | tuple[str, object] | Content] = [(label, st("count-bar--title")), "▕"]
        cells = allocate(bar_values(counts), bar_width)
        for name, n in zip(BAR_ORDER, cells, strict=True):
            if n:
                parts.append((FULL * n, st(f"count-bar--{name}")))
        rest = bar_width - sum(cells)
        if rest:
            parts.append((EMPTY * rest, st("count-bar--track")))
        parts.extend(["▏", pct])
        legend: list[str | tuple[str, object]] = [" " * len(label)]
        for i, name in enumerate(LEGEND_ORDER):
            value = getattr(counts, name)
            legend.append(("■ ", st(f"count-bar--{name}")))
            legend.append(f"{name} {fmt_count(value)}")
            if i < len(LEGEND_ORDER) - 1:
                legend.append("   ")
        legend.append((f"   of {fmt_count(counts.total)}", st("count-bar--dim")))
        return [Content.assemble(*parts), Content.assemble(*legend)]  # type: ignore[arg-type]

    def _lines(self, width: int) -> list[Content]:
        st = self.get_visual_style if self.is_mounted else None
        d = self.data
        if st is None:
            return [Content("")]
        if d.job_id is None:
            return [Content.assemble(("No job selected", st("count-bar--dim")))]
        title: list[str | tuple[str, object]] = [(clean(d.job_id), st("count-bar--title"))]
        lines: list[Content] = []
        if self.collapsed and d.error is not None:
            title.append(("  ⚠ counts could not be read", st("count-bar--warning")))
            return [Content.assemble(*title)]  # type: ignore[arg-type]
        if d.counts is None:
            title.append(("  counts not read yet" if d.error is None else "", st("count-bar--dim")))
            lines.append(Content.assemble(*title))  # type: ignore[arg-type]
            if self.collapsed:
                return lines
        else:
            tc = d.counts.task_counts
            title.append(f"  {tc.percent_complete:.0f}% complete · {fmt_count(tc.total)} tasks")
            if d.rate is not None:
                rate = f"{d.rate:,.1f}" if d.rate < 1000 else fmt_count(round(d.rate))
                title.append(f" · {rate} completed/min")
            trend = d.trend if worth_showing(d.trend) and not d.final else None
            if trend is not None and (self.compact or self.collapsed):
                # No line to spare for the sparklines: the ETA and a stall join the title.
                if trend.eta_seconds:
                    title.append(f" · ETA {fmt_duration(trend.eta_seconds)}")
                if trend.stalled:
                    title.append(("  ⚠ stalled", st("count-bar--warning")))
            if d.queued is not None and (self.compact or self.collapsed):
                # No line of its own: the bar keeps its height (a taller bar re-lays the table).
                title.append((f"  ⚠ nothing runs: {clean(d.queued)}", st("count-bar--warning")))
            elif self.compact and not d.recount and d.error is None:
                when = f"read {when_text(self, d.fetched_at)}, " if d.fetched_at else ""
                title.append(
                    (f"  ({when}can lag{'; c: exact' if d.recount_hint else ''})", st("count-bar--dim"))
                )
            lines.append(Content.assemble(*title))  # type: ignore[arg-type]
            if self.collapsed:
                return lines
            lines.extend(self._bar("tasks ", tc, width))
            lines.extend(self._bar("slots ", d.counts.task_slot_counts, width))
            if trend is not None and not self.compact:
                lines.append(trend_line(trend, st, width, label="trend "))
        if d.error is not None:
            lines.append(
                Content.assemble(("⚠ counts could not be read: ", st("count-bar--warning")), clean(d.error))
            )
        if not (self.compact and d.counts is not None and not d.recount and d.error is None):
            lines.append(self._caveat(d))
        return lines

    def _caveat(self, d: BarData) -> Content:
        st = self.get_visual_style
        rc = d.recount if d.recount and d.recount.job_id == d.job_id else None
        if rc is not None and rc.error is not None:
            return Content.assemble(("⚠ recount failed: ", st("count-bar--warning")), clean(rc.error))
        if rc is not None and rc.result is None:
            return Content.assemble(
                ("recounting… ", st("count-bar--warning")),
                f"{rc.listed:,} tasks listed ({rc.pages} page{'s' if rc.pages != 1 else ''})",
            )
        if rc is not None and rc.result is not None:
            c = rc.result.task_counts
            at = when_text(self, rc.at)
            parts: list[str | tuple[str, object]] = [(f"exact at {at}: ", st("count-bar--title"))]
            for name in LEGEND_ORDER:
                parts.append((f"{name} {getattr(c, name):,}  ", st(f"count-bar--{name}")))
            parts.append((f"({rc.listed:,} tasks listed; c again)", st("count-bar--dim")))
            return Content.assemble(*parts)  # type: ignore[arg-type]
        if d.queued is not None:  # why nothing runs says more than the caveat, in its place
            return Content.assemble(
                ("⚠ nothing runs: ", st("count-bar--warning")), (clean(d.queued), st("count-bar--warning"))
            )
        when = f"counts read at {when_text(self, d.fetched_at)}" if d.fetched_at else "counts"
        tail = " (job completed: final)" if d.final else ""
        hint = ": c recounts exactly" if d.recount_hint else ""
        return Content.assemble((f"{when}{tail} · the service's counts can lag{hint}", st("count-bar--dim")))
