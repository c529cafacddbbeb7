"""When to retry a Batch call and how long to wait first.

Kept apart from the client so the rules can be read (and tested) in one place: the service
throttles with 429 ``TooManyRequests`` and 503 ``ServerBusy``, reports transient trouble with
500 (``InternalError``, ``OperationTimedOut``), and gateways in front of it answer 502/504.
Any other 4xx is the caller's mistake and retrying it only adds load.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # total tries, including the first
    base_delay: float = 0.5  # seconds; attempt n waits up to base * 2**n (full jitter)
    max_delay: float = 30.0  # cap on every wait, Retry-After included
    #: a Retry-After longer than this is not waited out inside the call: the call fails at once
    #: (its error carries retry_after) so a dashboard's refresh ends and the rest of the screen
    #: keeps refreshing; None waits it out (capped at max_delay)
    longest_wait: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter exponential backoff for the ``retry_number``-th retry (0-based).

        Full jitter (a uniform pick in [0, ceiling]) spreads a burst of throttled requests
        out instead of bringing them back in lock-step.
        """
        ceiling = min(self.max_delay, self.base_delay * (2.0 ** min(retry_number, 30)))
        return ceiling * rand()

    def delay(
        self,
        retry_number: int,
        retry_after: float | None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """The wait before the next try: the server's ``Retry-After`` if it sent one, capped;
        None when that is longer than ``longest_wait`` (no retry within this call)."""
        if retry_after is not None and self.longest_wait is not None and retry_after > self.longest_wait:
            return None
        if retry_after is not None:
            return min(self.max_delay, max(0.0, retry_after))
        return self.backoff(retry_number, rand)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait according to the response headers, or None.

    ``Retry-After`` may be delta-seconds or an HTTP date (both seen in the legacy .NET SDK's
    tests); azure-core also honours the millisecond variants, so we do too.
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) / 1000.0)
            except ValueError:
                pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no zone information
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
