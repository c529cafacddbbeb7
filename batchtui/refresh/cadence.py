"""How often a job's task counts are worth reading (issue 15.2).

Counts that stay the same are read less and less often — every ``min_gap`` ticks at first,
then twice as far apart after each unchanged read, up to ``max_gap`` ticks (about a minute) —
and every ``min_gap`` ticks again as soon as they change or the job changes state. The
selected job is not governed here: the monitor reads it every tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

QUIET_MAX_SECONDS = 60.0


@dataclass
class CountsCadence:
    min_gap: int = 3  # ticks: the pace of a job whose counts move (the old list cadence)
    max_gap: int = 12  # ticks: ~a minute at a 5 s refresh
    _gap: dict[str, int] = field(default_factory=dict)
    _due: dict[str, int] = field(default_factory=dict)
    _state: dict[str, str | None] = field(default_factory=dict)

    def pace(self, interval: float) -> None:
        """The refresh interval in force: the longest gap stays about a minute."""
        self.max_gap = max(self.min_gap, math.ceil(QUIET_MAX_SECONDS / max(interval, 0.1)))

    def due(self, job_id: str, tick: int) -> bool:
        return self._due.get(job_id, tick) <= tick

    def read(self, job_id: str, tick: int, *, changed: bool) -> None:
        """A read at ``tick``; ``changed``: the counts differ from the last ones read."""
        gap = (
            self.min_gap
            if changed
            else min(max(self._gap.get(job_id, self.min_gap) * 2, self.min_gap), self.max_gap)
        )
        self._gap[job_id] = gap
        self._due[job_id] = tick + gap

    def job_seen(self, job_id: str, state: str | None) -> None:
        """The job list says ``state``: a job that changed state has its counts read at once."""
        before = self._state.get(job_id, state)
        self._state[job_id] = state
        if before != state:
            self._gap[job_id] = self.min_gap
            self._due[job_id] = -1

    def forget(self, keep: set[str]) -> None:
        for table in (self._gap, self._due, self._state):
            for gone in [k for k in table if k not in keep]:
                del table[gone]

    def gap(self, job_id: str) -> int:
        return self._gap.get(job_id, self.min_gap)
