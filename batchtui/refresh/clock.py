"""The data clock: wall time in UTC (the demo and the tests swap in the simulator's clock)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
