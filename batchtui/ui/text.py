"""Service text made safe to show, and the small formatters every screen shares.

Everything the Batch service sends (ids, display names, failure messages, command lines,
node URLs) is data. It must reach the screen as exactly those characters: never parsed as
Rich/Textual markup, and with control characters (ANSI escapes, CR, BEL, ...) made visible
instead of acted upon, so a hostile payload cannot restyle, move or clear the terminal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from batchtui.sanitize import clean

__all__ = [
    "clean",
    "literal",
    "fmt_count",
    "fmt_duration",
    "fmt_interval",
    "fmt_age",
    "runtime",
]


def literal(value: object, style: str = "", *, single_line: bool = True, limit: int | None = None) -> Text:
    """A Rich ``Text`` holding service text literally (no markup is ever parsed)."""
    s = clean(value, single_line=single_line)
    if limit is not None and len(s) > limit:
        s = s[: max(limit - 1, 0)] + "…"
    return Text(s, style=style, no_wrap=single_line, end="")


_UNITS = ((10**18, "E"), (10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"))


def fmt_count(n: int) -> str:
    """A count in at most 7 cells: exact up to 999,999, then 1.2M, 34G ... 999E, >999E.

    The service's counts are int64 sent as text; a broken or hostile answer may send a
    300-digit or negative one, which must not push every other column off the table.
    """
    if -99_999 <= n <= 999_999:
        return f"{n:,}"
    sign = "-" if n < 0 else ""
    size = abs(n)
    if size >= 1000 * 10**18:
        return f"{'<-' if n < 0 else '>'}999E"
    for unit_size, unit in _UNITS:
        if size >= unit_size:
            value = size / unit_size
            return f"{sign}{value:.1f}{unit}" if value < 9.95 else f"{sign}{int(value)}{unit}"
    return f"{sign}{size // 1000}k"  # -100,000 to -999,999


def fmt_duration(delta: timedelta | float | None) -> str:
    """Compact human duration: 45s, 12m03s, 3h05m, 4d02h."""
    if delta is None:
        return ""
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if seconds < 0:
        seconds = 0
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    if d > 9999:
        return "unlimited"
    return f"{d}d{h:02d}h"


def fmt_interval(seconds: float) -> str:
    """A refresh interval: sub-second ones keep their tenths (``--refresh 0.2`` is not "0s")."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}".rstrip("0").rstrip(".") + "s"
    return fmt_duration(seconds)


def fmt_age(when: datetime | None, now: datetime) -> str:
    """How long ago ``when`` was, relative to ``now`` (both aware UTC)."""
    if when is None:
        return ""
    return fmt_duration(now - when)


def runtime(start: datetime | None, end: datetime | None, now: datetime) -> timedelta | None:
    """Run time so far (or in total once ended)."""
    if start is None:
        return None
    return (end or now) - start
