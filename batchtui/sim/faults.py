"""Injected faults: latency, throttling, server errors and scheduled outages.

Decisions come from a seeded RNG so a run with the same seed and the same request sequence
sees the same faults. Outage windows are measured on the simulator's real-time source (not
the simulated clock): an outage of 5 s lasts 5 s of wall time whatever the time scale.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

OUTAGE_KINDS = ("503", "refuse")


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do instead of answering: an HTTP error, or refusing the connection."""

    status: int
    code: str
    message: str
    retry_after: int | None = None
    refuse: bool = False


THROTTLED_MESSAGE = "Request failed as server encountered too many requests. Please try again."
BUSY_MESSAGE = "The server is currently unable to receive requests. Please retry your request."
TIMEOUT_MESSAGE = "The operation could not be completed within the permitted time."


class Faults:
    """Mutable at run time; every attribute change applies to the next request."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        throttle_rate: float = 0.0,
        error_rate: float = 0.0,
        seed: int = 1,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.latency_ms = latency_ms
        self.throttle_rate = throttle_rate
        self.error_rate = error_rate
        #: the Retry-After of every 429, in seconds: None picks 1 to 3 at random, 0 sends none
        self.throttle_retry_after: int | None = None
        self._rng = random.Random(seed * 7919 + 0xFA17)
        self._now = now
        self._outage_until = 0.0
        self._outage_kind = "503"

    def outage(self, seconds: float, kind: str = "503") -> None:
        """Fail every request for ``seconds`` of real time: with 503 ServerBusy, or refused."""
        if kind not in OUTAGE_KINDS:
            raise ValueError(f"outage kind must be one of {', '.join(OUTAGE_KINDS)}")
        self._outage_until = self._now() + max(0.0, float(seconds))
        self._outage_kind = kind

    def clear(self) -> None:
        self.latency_ms = 0.0
        self.throttle_rate = 0.0
        self.error_rate = 0.0
        self.throttle_retry_after = None
        self._outage_until = 0.0

    def outage_remaining(self) -> float:
        return max(0.0, self._outage_until - self._now())

    def refusing(self) -> bool:
        """True while a "refuse" outage is on (the HTTP server closes its listener)."""
        return self._outage_kind == "refuse" and self.outage_remaining() > 0

    @staticmethod
    def busy() -> Fault:
        return Fault(503, "ServerBusy", BUSY_MESSAGE, retry_after=1)

    def decide(self) -> Fault | None:
        """The fault for the next request, or None to answer normally."""
        if self.outage_remaining() > 0:
            if self._outage_kind == "refuse":
                return Fault(0, "ConnectionRefused", "connection refused", refuse=True)
            return Fault(503, "ServerBusy", BUSY_MESSAGE, retry_after=max(1, round(self.outage_remaining())))
        if self.throttle_rate > 0 and self._rng.random() < self.throttle_rate:
            wait = self._rng.randint(1, 3) if self.throttle_retry_after is None else self.throttle_retry_after
            return Fault(429, "TooManyRequests", THROTTLED_MESSAGE, retry_after=wait or None)
        if self.error_rate > 0 and self._rng.random() < self.error_rate:
            if self._rng.random() < 0.5:
                return Fault(503, "ServerBusy", BUSY_MESSAGE)
            return Fault(500, "OperationTimedOut", TIMEOUT_MESSAGE)
        return None
