"""A large count tile for the kiosk: one job's progress readable from across the room.

The percentage complete in big digits, a bar of succeeded / failed / running / active, the four
numbers, and the trend (tasks a minute, ETA, sparklines of completions and failures, stalled).
The job id and account are the border's title: service text, shown literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Digits

from batchtui.batch.models import TaskCounts
from batchtui.refresh.history import Trend
from batchtui.ui.text import clean, fmt_count, fmt_duration
from batchtui.ui.widgets.count_bar import (
    BAR_ORDER,
    COUNT_CLASSES,
    COUNT_RULES,
    EMPTY,
    FULL,
    allocate,
    bar_values,
)
from batchtui.ui.widgets.sparkline import rate_text, sparkline, worth_showing


@dataclass(frozen=True)
class TileData:
    account: str
    job_id: str
    state: str | None
    counts: TaskCounts | None
    trend: Trend | None = None
    several: bool = False  # several accounts: the account is named on the tile


class _TileLines(Widget):
    """The tile's text lines, drawn from its data on the Line API's terms (no markup)."""

    DEFAULT_CSS = """
    _TileLines {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        COUNT_RULES
    }
    """.replace("COUNT_RULES", COUNT_RULES)
    COMPONENT_CLASSES: ClassVar[set[str]] = set(COUNT_CLASSES)

    def __init__(self) -> None:
        super().__init__()
        self.data: TileData | None = None

    def show(self, data: TileData) -> None:
        if data != self.data:
            self.data = data
            self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self._lines(max(width, 10)))

    def render(self) -> Content:
        return Content("\n").join(self._lines(max(self.content_region.width, 10)))

    def _lines(self, width: int) -> list[Content]:
        d = self.data
        if d is None or not self.is_mounted:
            return [Content("")]
        st = self.get_visual_style
        if d.counts is None:
            return [Content.styled("counts not read yet", "$text-muted")]
        c = d.counts
        cells = allocate(bar_values(c), width)
        bar: list[tuple[str, object]] = [
            (FULL * n, st(f"count-bar--{name}")) for name, n in zip(BAR_ORDER, cells, strict=True) if n
        ]
        if width - sum(cells):
            bar.append((EMPTY * (width - sum(cells)), st("count-bar--track")))
        numbers = Content.assemble(
            (f"active {fmt_count(c.active)}", st("count-bar--active")),
            "  ",
            (f"running {fmt_count(c.running)}", st("count-bar--running")),
            "  ",
            (f"ok {fmt_count(c.succeeded)}", st("count-bar--succeeded")),
            "  ",
            (f"failed {fmt_count(c.failed)}", st("count-bar--failed")),
        )
        lines = [Content.assemble(*bar), numbers]  # type: ignore[arg-type]
        t = d.trend
        if worth_showing(t) and t is not None and d.state != "completed":
            parts: list[str | tuple[str, object]] = []
            if t.per_minute is not None:
                parts.append(rate_text(t.per_minute))
            if t.eta_seconds:
                parts.append(f" · ETA {fmt_duration(t.eta_seconds)}")
            if t.stalled:
                parts.append(("  ⚠ stalled", st("count-bar--warning")))
            lines.append(Content.assemble(*parts))  # type: ignore[arg-type]
            spark = max(min(len(t.completions), (width - len("done ") - len(" fail ")) // 2), 0)
            if spark >= 6:
                lines.append(
                    Content.assemble(
                        ("done ", st("count-bar--dim")),
                        (sparkline(t.completions, spark), st("count-bar--succeeded")),
                        (" fail ", st("count-bar--dim")),
                        (sparkline(t.failures, spark), st("count-bar--failed")),
                    )
                )
        return lines


class CountTile(Vertical):
    DEFAULT_CSS = """
    CountTile {
        height: auto;
        border: round $primary 60%;
        padding: 0 1;
        border-title-style: bold;
        &.-current { border: heavy $accent; }
        & Digits { width: auto; }
    }
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.data: TileData | None = None
        self._digits = Digits("")
        self._lines = _TileLines()

    def compose(self) -> ComposeResult:
        yield self._digits
        yield self._lines

    def show(self, data: TileData, *, current: bool) -> None:
        self.data = data
        self.set_class(current, "-current")
        title = clean(data.job_id)
        self.border_title = Content(f"{title} · {clean(data.account)}" if data.several else title)
        self.border_subtitle = Content(clean(data.state or ""))
        pct = "" if data.counts is None else f"{data.counts.percent_complete:.0f}%"
        self._digits.update(pct)
        self._lines.show(data)
