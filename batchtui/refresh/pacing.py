"""One pacing policy for every poller: the interval, slower when done, backoff, and recovery.

A rejected credential or a certificate that is not trusted will not fix itself within
seconds, so hammering only fills the service's (and the operator's) logs. Each further
failure doubles the wait up to a cap; the first clean refresh returns to normal at once.
Throttling (429) is the account's, not one view's: refresh/throttle.py holds every view for a
Retry-After or behind one probe an interval. Outages (refused, 503, other 5xx) are not slowed
here: the client already honours Retry-After, and the dashboard must be back within one
interval of the service.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchtui.batch.errors import BatchClientError, BatchServiceError

# trouble -> (first factor, largest factor, cap in seconds)
BACKOFF: dict[str, tuple[float, float, float]] = {
    "auth": (4.0, 64.0, 300.0),
    # a certificate not trusted (or for another host) is fixed by a person, not by time
    "certificate": (4.0, 64.0, 300.0),
}
#: troubles that end at the first clean refresh (the rest ease off a step per clean one)
FIXED_AT_ONCE = frozenset({"auth", "certificate"})


def paced_wait(base: float, trouble: str | None, step: int) -> float:
    """The wait after the ``step``-th consecutive refresh (1-based) that ran into ``trouble``."""
    if trouble not in BACKOFF or step < 1:
        return base
    first, most, cap = BACKOFF[trouble]
    return max(base, min(base * first * 2.0 ** min(step - 1, 30), base * most, cap))


def trouble_of(error: BaseException | None, rate_limited: bool) -> str | None:
    """Which backoff (if any) a refresh's outcome calls for."""
    if isinstance(error, BatchClientError) and error.kind in ("auth", "certificate"):
        return error.kind
    if rate_limited or (isinstance(error, BatchServiceError) and error.status == 429):
        return "throttled"
    return None


@dataclass
class Pacer:
    """The backoff state of one poller."""

    steps: int = 0  # how far the pace is slowed down (0: the normal interval)
    trouble: str | None = None  # what slowed it down

    def after(self, base: float, trouble: str | None) -> float:
        """Record one refresh's outcome; return the wait before the next."""
        if trouble in BACKOFF:
            self.steps += 1
            self.trouble = trouble
        elif self.steps:
            self.steps = 0 if self.trouble in FIXED_AT_ONCE else self.steps - 1
        if not self.steps:
            self.trouble = None
        return paced_wait(base, self.trouble, self.steps)
