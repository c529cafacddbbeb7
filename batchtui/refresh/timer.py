"""Time as the refresh engine sees it: a monotonic clock and a wait that a wake-up can cut.

Production uses :class:`RealTimer`. Tests use :class:`ManualTimer`, where time moves only when
the test says so: "after 20 intervals of a throttling storm the simulator saw N requests" is
then a count, not a rate that a busy CI machine can push over a threshold.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Timer(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def wait(self, seconds: float, wake: asyncio.Event) -> bool:
        """Wait ``seconds`` or until ``wake`` is set; True when woken."""
        ...


class RealTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def wait(self, seconds: float, wake: asyncio.Event) -> bool:
        if wake.is_set():
            return True
        try:
            await asyncio.wait_for(wake.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            return False
        return True


class ManualTimer:
    """A clock that a test moves with :meth:`advance`; waits end when their deadline passes."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    def __call__(self) -> float:  # usable wherever a ``monotonic`` callable is expected
        return self.now

    @property
    def sleeping(self) -> int:
        """How many waits are pending (a poller that waits is idle until its deadline)."""
        return sum(1 for _, fut in self._sleepers if not fut.done())

    def next_deadline(self) -> float | None:
        pending = [d for d, fut in self._sleepers if not fut.done()]
        return min(pending) if pending else None

    async def wait(self, seconds: float, wake: asyncio.Event) -> bool:
        if wake.is_set():
            return True
        loop = asyncio.get_running_loop()
        entry = (self.now + max(seconds, 0.0), loop.create_future())
        self._sleepers.append(entry)
        woken = asyncio.ensure_future(wake.wait())
        try:
            done, _ = await asyncio.wait({entry[1], woken}, return_when=asyncio.FIRST_COMPLETED)
            return woken in done and not entry[1].done()
        finally:
            woken.cancel()
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        """Move time on; every wait whose deadline has come ends."""
        self.now += seconds
        for deadline, fut in list(self._sleepers):
            if deadline <= self.now and not fut.done():
                fut.set_result(None)
