"""Throttling, account-wide: the service's Retry-After honoured, else one probe an interval.

A 429 is the *account* being told to slow down, so every view of it waits together. While it
waits, nothing but one probe an interval goes out (:meth:`BatchClient.probe`, the smallest read
there is, sent once with no retry): the account is not hammered, and the moment a probe gets
through every view refreshes at once, so the screen is fresh within one interval of the
service recovering. A ``Retry-After`` is the service saying when to come back: nothing, not
even a probe, goes before it.

A storm that lets some requests through (half of them, say) would otherwise bring the full
refresh back on every lucky probe and meet the next 429s straight away: each such relapse
(a view throttled again soon after a probe let it through) makes the next full refresh wait
for one more probe to get through, up to :data:`MOST_RELAPSES`. A hard throttle that ends
never relapses, so its recovery is the first probe's.

``ctrl+r`` is the operator's own call and goes through the gate; so does a view whose poll
has no client to probe with (then that view's own poll is the probe).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from batchtui.batch.errors import BatchClientError, BatchServiceError
from batchtui.refresh.timer import Timer

log = logging.getLogger(__name__)

#: the most extra probes a relapsing storm asks for before the full refresh resumes
MOST_RELAPSES = 2
#: a view throttled within this many intervals of a probe letting it through has relapsed
RELAPSE_INTERVALS = 2.0


def throttle_retry_after(error: BaseException | None) -> float | None:
    """The Retry-After of a 429 among a poll's failures, if the service gave one."""
    if isinstance(error, BatchServiceError) and (error.status == 429 or error.kind == "throttled"):
        return error.retry_after
    return None


class ThrottleGate:
    """Whether the views of one account may poll now, and the probe that decides it."""

    def __init__(
        self,
        timer: Timer,
        interval: Callable[[], float],
        probe: Callable[[], Awaitable[object]] | None,
        on_resume: Callable[[], None],
    ) -> None:
        self._timer = timer
        self._interval = interval
        self._probe = probe
        self._on_resume = on_resume
        self.active = False  # the account is throttled: views wait for a probe
        self.resumed = False  # a probe got through: the views poll, their outcome decides
        self.relapses = 0  # how many extra probes must get through before a full refresh
        self._owed = 0  # of those, still to come in this spell
        self.hold_until = -math.inf  # monotonic: nothing goes before (Retry-After)
        self.epoch = 0  # bumped each time the gate closes; a poll begun before says nothing
        self.probes = 0  # probes sent (tests and the soak bench count them)
        self._last_try = -math.inf  # when a probe (or the throttled poll) last went
        self._resumed_at: float | None = None
        self._inflight: asyncio.Task[bool] | None = None

    # ------------------------------------------------------------------ what polls report

    def note(self, throttled: bool, retry_after: float | None, epoch: int) -> None:
        """A view's poll (begun at ``epoch``) ended, with a 429 among its answers or not."""
        now = self._timer.monotonic()
        if throttled:
            recent = (
                self._resumed_at is not None and now - self._resumed_at <= RELAPSE_INTERVALS * self._base()
            )
            if recent and (self.resumed or not self.active):
                self.relapses = min(self.relapses + 1, MOST_RELAPSES)
            if not self.active or self.resumed:
                self.epoch += 1
                self._owed = self.relapses
            self.active, self.resumed = True, False
            self._last_try = max(self._last_try, now)
            if retry_after is not None and retry_after > 0:
                self.hold_until = max(self.hold_until, now + retry_after)
            return
        if not self.active:
            if self._resumed_at is not None and now - self._resumed_at > RELAPSE_INTERVALS * self._base():
                self.relapses, self._resumed_at = 0, None  # calm again: a storm is over
            return
        if not self.resumed and epoch == self.epoch:
            self._resume(now)  # a poll sent through the gate (ctrl+r) got through: as a probe
        if self.resumed:
            self.active = self.resumed = False

    @property
    def storming(self) -> bool:
        """Throttled now, or let through so lately that a 429 would be a relapse."""
        if self.active:
            return True
        at = self._resumed_at
        return at is not None and self._timer.monotonic() - at <= RELAPSE_INTERVALS * self._base()

    # ------------------------------------------------------------------ what views ask

    async def admit(self) -> bool:
        """May a view whose turn has come poll now? Sends the probe when one is due."""
        if not self.active or self.resumed:
            return True
        if self._inflight is not None:
            return await asyncio.shield(self._inflight)
        now = self._timer.monotonic()
        if now < self.hold_until or now - self._last_try < self._base() * 0.999:
            return False
        self._last_try = now
        if self._probe is None:
            return True  # no client to probe with: this view's own poll is the probe
        task = asyncio.get_running_loop().create_task(self._send_probe(), name="throttle probe")
        self._inflight = task
        task.add_done_callback(self._probe_done)
        return await asyncio.shield(task)

    def _probe_done(self, task: asyncio.Task[bool]) -> None:
        if self._inflight is task:
            self._inflight = None

    def wait(self) -> float:
        """Seconds before a held view should ask again (the hold's end, or the next probe)."""
        now = self._timer.monotonic()
        due = max(self.hold_until, self._last_try + self._base())
        return max(due - now, 0.05 * self._base())

    # ------------------------------------------------------------------ the probe

    def _base(self) -> float:
        return self._interval()

    async def _send_probe(self) -> bool:
        assert self._probe is not None
        self.probes += 1
        try:
            await self._probe()
        except BatchServiceError as exc:
            if exc.status == 429 or exc.kind == "throttled":
                if exc.retry_after is not None and exc.retry_after > 0:
                    self.hold_until = max(self.hold_until, self._timer.monotonic() + exc.retry_after)
                return False
            # Anything else (down, refused): not throttling; the views poll and say what it is.
        except BatchClientError:
            pass
        except Exception:  # noqa: BLE001 - a probe's bug must not stop every view
            log.exception("the throttle probe failed unexpectedly")
        if not self.active or self.resumed:
            return True
        if self._owed:
            self._owed -= 1  # a relapsing storm: one more probe must get through first
            return False
        self._resume(self._timer.monotonic())
        return True

    def _resume(self, now: float) -> None:
        self.resumed = True
        self._resumed_at = now
        self.hold_until = -math.inf
        self._on_resume()
