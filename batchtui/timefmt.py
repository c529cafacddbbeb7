"""Moments shown to the operator, formatted in one place (issue 14.6).

The service's times are UTC; an operator reads the clock on the wall. So a moment is shown
in the machine's local time by default, or in UTC (``--utc``, ``utc = true`` in config.toml)
and then labelled so. Only the time of day is shown for a moment of today; any other day gets
its date too, so the start of a three-day outage reads as such. No UI import: ``--once`` and
the dashboard share it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def fmt_when(
    when: datetime | None,
    now: datetime | None = None,
    *,
    utc: bool = False,
    date: bool = False,
) -> str:
    """``18:36:58`` today, ``2024-05-01 18:36:58`` on another day (always with ``date``).

    ``now`` (aware) decides what "today" is, in the same zone; in UTC the text ends in " UTC".
    A naive ``when`` is taken to be UTC, as every time the client parses is.
    """
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    zone = UTC if utc else None  # None: the machine's local zone
    try:
        shown = when.astimezone(zone)
        today = (now or datetime.now(UTC)).astimezone(zone).date()
    except (OverflowError, OSError, ValueError):  # year 1 or 9999 at the edge of a zone
        shown, today = when.astimezone(UTC), None
        utc = True
    text = f"{shown.hour:02d}:{shown.minute:02d}:{shown.second:02d}"
    if date or shown.date() != today:
        text = f"{shown.year:04d}-{shown.month:02d}-{shown.day:02d} {text}"
    return f"{text} UTC" if utc else text
