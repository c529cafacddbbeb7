"""Trends in a line of text: sparklines of completions and failures, throughput, ETA, a stall.

Plain functions that return :class:`~textual.content.Content` (never markup), so the count bar
and the kiosk's tiles draw them in their own lines. The sparkline scales to the largest bucket
shown; a bucket with anything in it gets at least the lowest bar, so one failure among
thousands of completions is still seen; an empty one is a dot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.content import Content

from batchtui.refresh.history import Trend
from batchtui.ui.text import fmt_count, fmt_duration

BARS = "▁▂▃▄▅▆▇█"
EMPTY = "·"

Style = Callable[[str], object]


def sparkline(values: Sequence[int], width: int | None = None) -> str:
    """One character per value (the last ``width`` values when given), scaled to the largest."""
    shown = list(values[-width:] if width else values)
    top = max(shown, default=0)
    if top <= 0:
        return EMPTY * len(shown)
    out = []
    for v in shown:
        if v <= 0:
            out.append(EMPTY)
        else:
            out.append(BARS[min(len(BARS) - 1, max(0, round(v / top * (len(BARS) - 1))))])
    return "".join(out)


def rate_text(per_minute: float) -> str:
    return f"{per_minute:,.1f}/min" if per_minute < 1000 else f"{fmt_count(round(per_minute))}/min"


def worth_showing(trend: Trend | None) -> bool:
    """Whether the history says anything yet (one reading tells no trend)."""
    return trend is not None and (
        trend.per_minute is not None or trend.stalled or any(trend.completions) or any(trend.failures)
    )


def trend_line(trend: Trend, style: Style, width: int, *, label: str = "trend ") -> Content:
    """``trend  6.0/min · ETA 8m20s · done ▁▂▅▇ · failed ··▃· · last 30 min``, fitted to ``width``."""
    parts: list[tuple[str, object] | str] = [(label, style("count-bar--title"))]
    if trend.per_minute is not None:
        parts.append(rate_text(trend.per_minute))
    if trend.eta_seconds:  # none yet, or nothing left (the title says 100%)
        parts.append(f" · ETA {fmt_duration(trend.eta_seconds)}")
    if trend.stalled:
        parts.append(("  ⚠ stalled: nothing completed lately while tasks wait", style("count-bar--warning")))
    used = sum(len(p if isinstance(p, str) else p[0]) for p in parts)
    n = len(trend.completions)
    room = (width - used - len(" · done ") - len(" · failed ") - len(" · last 99 min")) // 2
    spark = min(n, max(room, 0))
    if spark >= 8:
        minutes = round(spark * _bucket_minutes(trend))
        parts += [
            " · done ",
            (sparkline(trend.completions, spark), style("count-bar--succeeded")),
            " · failed ",
            (sparkline(trend.failures, spark), style("count-bar--failed")),
            (f" · last {minutes} min", style("count-bar--dim")),
        ]
    return Content.assemble(*parts)  # type: ignore[arg-type]


def _bucket_minutes(trend: Trend) -> float:
    return trend.bucket / 60.0
