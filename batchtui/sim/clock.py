"""The virtual clock: simulated seconds since the world's start, scaled from real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimClock:
    """Sim time = warm-up + (real elapsed) * time_scale + manual advances.

    Everything in the world is a pure function of :meth:`seconds`, so freezing the clock
    (time_scale 0) freezes the world, and advancing it moves every job and task on at once.
    """

    def __init__(
        self,
        start: datetime,
        warmup: float,
        time_scale: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.start = start.astimezone(UTC)
        self.warmup = float(warmup)
        self.time_scale = float(time_scale)
        self._now = now
        self._t0 = now()
        self._advanced = 0.0

    def seconds(self) -> float:
        """Simulated seconds since :attr:`start`."""
        return self.warmup + (self._now() - self._t0) * self.time_scale + self._advanced

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds())

    def advance(self, seconds: float) -> None:
        """Move the world on by ``seconds`` of simulated time (negative values are refused)."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forwards")
        self._advanced += float(seconds)
