"""The refresh engine: one loop per open view, one pacing policy, snapshots up.

A screen states what it shows by opening a poller (the job list, a job's tasks, a task's
ranks, a log tail, a pool's nodes) and telling it its intents (filter, load more, pause);
the engine decides when each poller reads, and hands every result to the screen's sink as an
immutable snapshot. Screens never call the client. No Textual here: the UI passes plain
callables, and tests drive the engine with a :class:`~batchtui.refresh.timer.ManualTimer`.

Each poll runs as its own task, so a refresh-now (``ctrl+r``) that arrives while a poll is
asleep before a retry cuts that sleep (:meth:`RefreshEngine.retry_sleep`) and the retry goes
at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from batchtui.batch.errors import BatchClientError
from batchtui.refresh.budget import BudgetMeter
from batchtui.refresh.pacing import Pacer, trouble_of
from batchtui.refresh.timer import RealTimer, Timer

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

log = logging.getLogger(__name__)

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)

#: why a poll runs: "timer", "now" (ctrl+r, back on screen), or a poller's own intent
#: ("filter", "more", "focus", ...)
Reason = str


class PartialFailure(Exception):
    """Raised by a poll that has something to show although its requests failed.

    The engine hands ``snapshot`` to the screen first (e.g. the job list with the counts that
    could not be read marked), then paces and reports by ``error`` as for any failure.
    """

    def __init__(self, snapshot: object, error: BaseException) -> None:
        super().__init__(str(error))
        self.snapshot = snapshot
        self.error = error


class Poller(Protocol[S_co]):
    """What reads one view's data. Raise BatchClientError when nothing useful came back."""

    async def poll(self, reason: Reason) -> S_co: ...

    def interval(self, base: float) -> float:
        """The interval this poller wants now (e.g. slower once its job has completed)."""
        ...


@dataclass(frozen=True)
class PollOutcome:
    """What one poll of any view brought: for the account's own bookkeeping (history, events,
    health), which watches every poll of its engine without a request of its own."""

    poller: object
    snapshot: object | None  # None: nothing to show came back
    error: BaseException | None
    at: datetime  # on the engine's data clock
    rate_limited: bool  # the client was answered 429/503 with Retry-After during the poll


@dataclass(frozen=True)
class Pace:
    """How the loop will wait after a poll: for the status line ("slowing down, next try in 40 s")."""

    wait: float
    interval: float  # the poller's normal interval at this moment
    trouble: str | None  # set when ``wait`` is longer than the interval, and why


class PollHandle(Generic[S]):
    """One open view's loop; the screen keeps it and closes it when it goes away."""

    def __init__(
        self,
        engine: RefreshEngine,
        poller: Poller[S],
        on_snapshot: Callable[[S], object],
        on_error: Callable[[BaseException, datetime], object],
        on_pace: Callable[[Pace], object] | None,
        active: Callable[[], bool],
    ) -> None:
        self.engine = engine
        self.poller = poller
        self._on_snapshot = on_snapshot
        self._on_error = on_error
        self._on_pace = on_pace
        self._active = active
        self.paused = False
        self.polls = 0  # completed poll attempts (tests wait on it)
        self.pacer = Pacer()
        self.pace = Pace(0.0, 0.0, None)
        self._wake = asyncio.Event()
        self._reason: Reason = "timer"
        self._task: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        return self._task is None or self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"poll {self.poller!r}")

    def refresh_now(self, reason: Reason = "now") -> None:
        """Poll now (coalesces with one already asked for); cut a sleeping retry short."""
        if not (self._wake.is_set() and self._reason == "now"):
            self._reason = reason
        self._wake.set()
        if reason == "now":
            self.engine.cut_retries()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if not paused:
            self.refresh_now()

    def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _loop(self) -> None:
        timer = self.engine.timer
        reason: Reason = "timer"
        wait = self.poller.interval(self.engine.interval)
        while True:
            self._wake.clear()
            if reason != "timer" or (not self.paused and self._active()):
                wait = await self._poll_once(reason)
            elif not self.pacer.steps:
                # Skipped (paused, or covered by another screen): wait a normal interval; a
                # backed-off wait stays as it was.
                wait = self.poller.interval(self.engine.interval)
            woken = await timer.wait(wait, self._wake)
            reason = self._reason if woken else "timer"
            self._reason = "timer"

    async def _poll_once(self, reason: Reason) -> float:
        stats = self.engine.client.stats if self.engine.client is not None else None
        limited = stats.rate_limited if stats is not None else 0
        error: BaseException | None = None
        shown: object | None = None
        try:
            snapshot = await self.poller.poll(reason)
        except asyncio.CancelledError:
            raise
        except PartialFailure as partial:
            error, shown = partial.error, partial.snapshot
            self._deliver(self._on_snapshot, partial.snapshot)
            self._deliver(self._on_error, error, self.engine.now())
        except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
            error = exc
            if not isinstance(exc, BatchClientError):
                log.error("refresh failed unexpectedly: %r", exc)
            self._deliver(self._on_error, exc, self.engine.now())
        else:
            shown = snapshot
            self._deliver(self._on_snapshot, snapshot)
        self.polls += 1
        if stats is not None:
            self.engine.budget.sample(self.engine.timer.monotonic(), stats.requests, stats.bytes_received)
        rate_limited = stats is not None and stats.rate_limited > limited
        if self.engine.observers:
            outcome = PollOutcome(self.poller, shown, error, self.engine.now(), rate_limited)
            for observer in tuple(self.engine.observers):
                self._deliver(observer, outcome)
        base = self.poller.interval(self.engine.interval)  # the poll may have changed it
        wait = self.pacer.after(base, trouble_of(error, rate_limited))
        self.pace = Pace(wait, base, self.pacer.trouble if wait > base else None)
        if self._on_pace is not None:
            self._deliver(self._on_pace, self.pace)
        return wait

    @staticmethod
    def _deliver(sink: Callable[..., object], *args: object) -> None:
        try:
            sink(*args)
        except Exception:  # a sink torn down with its screen must not stop the loop
            log.exception("a refresh sink failed")


class RefreshEngine:
    """Every poller of one account: one client, one clock, one pacing policy."""

    def __init__(
        self,
        client: BatchClient | None,
        *,
        interval: float = 5.0,
        timer: Timer | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        from batchtui.refresh.clock import utcnow

        self.client = client
        self.interval = max(float(interval), 0.1)
        self.timer: Timer = timer or RealTimer()
        self.now: Callable[[], datetime] = now or utcnow
        self._handles: list[PollHandle[object]] = []
        self._cut = asyncio.Event()
        #: requests and bytes per minute over the last minutes (shown on the help screen)
        self.budget = BudgetMeter()
        #: told every poll's outcome, whichever view polled (the account's history and alerts)
        self.observers: list[Callable[[PollOutcome], object]] = []

    def open(
        self,
        poller: Poller[S],
        on_snapshot: Callable[[S], object],
        on_error: Callable[[BaseException, datetime], object],
        *,
        on_pace: Callable[[Pace], object] | None = None,
        active: Callable[[], bool] = lambda: True,
    ) -> PollHandle[S]:
        """Start polling for a view; the first poll runs at once."""
        handle = PollHandle(self, poller, on_snapshot, on_error, on_pace, active)
        self._handles = [h for h in self._handles if not h.closed]
        self._handles.append(handle)  # type: ignore[arg-type]
        handle.start()
        return handle

    @property
    def open_handles(self) -> int:
        return sum(1 for h in self._handles if not h.closed)

    def refresh_all(self) -> None:
        """Every open view polls now (after an action, what changed is re-read at once)."""
        for handle in self._handles:
            if not handle.closed:
                handle.refresh_now("now")

    def close_all(self) -> None:
        for handle in self._handles:
            handle.close()
        self._handles = []

    # ------------------------------------------------------------------ retries

    async def retry_sleep(self, seconds: float) -> None:
        """The client's wait before a retry; :meth:`cut_retries` ends every such wait at once."""
        await self.timer.wait(seconds, self._cut)

    def cut_retries(self) -> None:
        # Set and replace: the sleepers that saw this event wake; later ones wait afresh.
        self._cut.set()
        self._cut = asyncio.Event()
