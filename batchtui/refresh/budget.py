"""What the dashboard costs the account: requests and bytes per minute over the last minutes.

Sampled from the client's running counters after every poll (no clock of its own, no extra
work per request), so an operator can see that leaving batchtui open does not hammer the
account (issue 15.6).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW = 300.0  # seconds


@dataclass(frozen=True)
class Budget:
    requests_per_minute: float
    kib_per_minute: float
    over: float  # seconds the figures cover (less than the window just after start)

    @property
    def text(self) -> str:
        span = f"{self.over / 60:.0f} min" if self.over >= 90 else f"{self.over:.0f} s"
        return (
            f"{self.requests_per_minute:,.1f} requests and {self.kib_per_minute:,.1f} KiB "
            f"a minute (last {span})"
        )


class BudgetMeter:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._samples: deque[tuple[float, int, int]] = deque()

    def sample(self, at: float, requests: int, received: int) -> None:
        self._samples.append((at, requests, received))
        # Keep one sample at or before the window's start, so the figures cover all of it.
        while len(self._samples) > 2 and self._samples[1][0] <= at - self.window:
            self._samples.popleft()

    def budget(self) -> Budget | None:
        if len(self._samples) < 2:
            return None
        (t0, r0, b0), (t1, r1, b1) = self._samples[0], self._samples[-1]
        seconds = t1 - t0
        if seconds <= 0:
            return None
        per_minute = 60.0 / seconds
        return Budget((r1 - r0) * per_minute, (b1 - b0) / 1024 * per_minute, seconds)
