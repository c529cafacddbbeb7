"""The line at the bottom of every screen: whose data this is, how fresh, and what went wrong.

Freshness is always visible ("updated 3s ago"); the line turns to a warning when the data is
stale (older than two refresh intervals) or the last refresh failed, and says why. The last
good data stays on screen in the meantime; this line is what tells the operator to doubt it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

from batchtui.batch.errors import BatchClientError, TransportError
from batchtui.ui.text import clean, fmt_duration, fmt_interval
from batchtui.ui.when import when_text

STALE_INTERVALS = 2.0
#: longest error text shown: the service's (or a proxy's) message can be arbitrarily long
ERROR_LIMIT = 400
#: seconds past its due time a "retrying" notice may stay without news of the outcome
RETRY_SHOWN_AFTER = 15.0
#: seconds of "loading…" before the line says how long it has been waiting for a first answer
SLOW_FIRST_LOAD = 3.0


def _cut(text: str, limit: int = ERROR_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(error: BaseException) -> str:
    """One line saying why a refresh failed (service text made safe, and cut to fit)."""
    if isinstance(error, BatchClientError):
        kind = error.kind
        text = _cut(clean(str(error)))
        return f"{kind}: {text}" if text and not text.startswith(kind) else (text or kind)
    return _cut(f"internal error: {type(error).__name__}: {clean(str(error))}")


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        color: $foreground;
        &.-warning { background: $warning 25%; }
        &.-error { background: $error 25%; }
        & > .status-line--account { text-style: bold; }
        & > .status-line--dim { color: $foreground-muted; }
        & > .status-line--warning { color: $warning; text-style: bold; }
        & > .status-line--error { color: $error; text-style: bold; }
        & > .status-line--paused { color: $accent; text-style: bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-line--account",
        "status-line--dim",
        "status-line--warning",
        "status-line--error",
        "status-line--paused",
    }

    def __init__(
        self,
        account: str = "",
        interval: float = 5.0,
        *,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] | None = None,
        id: str | None = None,
    ) -> None:
        """``now``: the clock the data lives on (the demo's runs fast); ``monotonic``: real
        seconds, for freshness ("updated 3s ago"). Tests pass frozen ones."""
        super().__init__(id=id)
        self.account = account
        self.interval = interval
        self._now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self._monotonic: Callable[[], float] = monotonic or time.monotonic
        self.last_ok: datetime | None = None
        self._ok_at: float | None = None  # monotonic seconds of last_ok (freshness is real time)
        self.error: BaseException | None = None
        self.error_at: datetime | None = None
        self.offline_since: datetime | None = None
        self.is_paused = False
        self.note_text = ""
        # A request being retried right now: (why, monotonic time of the next attempt).
        self.retry: tuple[str, float] | None = None
        # The poll loop slowing down: (why, monotonic time of the next refresh).
        self.slowdown: tuple[str, float] | None = None
        self._plain = ""
        self._since: float | None = None  # monotonic time the line (and its screen) appeared

    def on_mount(self) -> None:
        self._since = self.monotonic()
        # Only the age text moves between refreshes; repaint only when it changes.
        self.set_interval(1.0, self._tick)
        self._tick()

    def now(self) -> datetime:
        return self._now()

    def monotonic(self) -> float:
        # Freshness is measured in real seconds, whatever clock the data lives on.
        return self._monotonic()

    # ------------------------------------------------------------------ what screens call

    def ok(self, fetched_at: datetime) -> None:
        self.last_ok = fetched_at
        self._ok_at = self.monotonic()
        self.error = None
        self.error_at = None
        self.offline_since = None
        self.retry = None
        self._tick()

    def failed(self, error: BaseException, at: datetime | None = None) -> None:
        at = at or self.now()
        down = isinstance(error, TransportError) or (
            isinstance(error, BatchClientError) and error.kind == "unavailable"
        )
        if down and self.offline_since is None:
            self.offline_since = at
        self.error = error
        self.error_at = at
        self.retry = None  # the client has given up on this one
        self._tick()

    def retrying(self, why: str, seconds: float) -> None:
        """A request failed (``why``: "throttled", "offline", ...) and is tried again in ``seconds``."""
        self.retry = (why, self.monotonic() + max(0.0, seconds))
        self._tick()

    def slowing_down(self, why: str | None, seconds: float = 0.0) -> None:
        """The screen waits ``seconds`` (longer than usual) before its next refresh, or not (None)."""
        self.slowdown = None if why is None else (why, self.monotonic() + max(0.0, seconds))
        self._tick()

    def paused(self, value: bool) -> None:
        self.is_paused = value
        self._tick()

    def note(self, text: str) -> None:
        self.note_text = text
        self._tick()

    # ------------------------------------------------------------------ state

    @property
    def is_stale(self) -> bool:
        if self._ok_at is None:
            return False
        return self.monotonic() - self._ok_at > STALE_INTERVALS * self.interval

    @property
    def is_warning(self) -> bool:
        return (
            self.error is not None
            or self.retry is not None
            or self.slowdown is not None
            or (self.is_stale and not self.is_paused)
        )

    def _in(self, at: float) -> str:
        left = at - self.monotonic()
        return "now" if left <= 0 else f"in {math.ceil(left - 1e-9)} s"

    @property
    def plain(self) -> str:
        return self._plain

    def _tick(self) -> None:
        content = self._build()
        self.set_class(self.error is not None and self.offline_since is not None, "-error")
        self.set_class(self.is_warning and self.offline_since is None, "-warning")
        # The screen dims its data while it cannot be trusted (see PollingScreen's CSS).
        if self.is_mounted:
            self.screen.set_class(self.is_warning, "-stale")
        if content.plain != self._plain:
            self._plain = content.plain
            self.refresh()

    def _age(self) -> str:
        if self._ok_at is None:
            waited = 0.0 if self._since is None else self.monotonic() - self._since
            if waited < SLOW_FIRST_LOAD or self.error is not None:
                return "loading…"
            return f"still waiting for the first answer, {fmt_duration(waited)}"
        return f"updated {fmt_duration(self.monotonic() - self._ok_at)} ago"

    def _build(self) -> Content:
        if not self.is_mounted:
            return Content("")
        st = self.get_visual_style
        parts: list[str | tuple[str, object]] = []
        reason = ""
        if self.error is not None:
            if self.offline_since is not None:
                since = when_text(self, self.offline_since)
                parts.append((f"⚠ offline since {since}", st("status-line--error")))
            else:
                parts.append(("⚠ refresh failed", st("status-line--warning")))
            parts.append(" · ")
            reason = describe_error(self.error)
        if self.retry is not None and self.monotonic() - self.retry[1] > RETRY_SHOWN_AFTER:
            self.retry = None  # that retry's outcome went elsewhere (a superseded refresh)
        if self.retry is not None:
            why, at = self.retry
            text = f"retrying {self._in(at)}"
            if self.error is None:
                text = f"⚠ {why}, {text}"
            parts += [(text, st("status-line--warning")), " · "]
        elif self.slowdown is not None and not self.is_paused:
            why, at = self.slowdown
            # With an error on the line the reason is already there; alone it needs saying.
            text = f"slowing down, next try {self._in(at)}"
            if self.error is None:
                text = f"⚠ {why}: {text}"
            parts += [(text, st("status-line--warning")), " · "]
        elif self.error is None and self.is_stale and not self.is_paused:
            parts.append(("⚠ stale", st("status-line--warning")))
            parts.append(" · ")
        if self.is_paused:
            parts.append(("PAUSED (p resumes)", st("status-line--paused")))
            parts.append(" · ")
        # Freshness before anything long: a narrow terminal cuts the end of the line.
        parts.append(self._age())
        if reason:
            parts.append(f" · {reason}")
        if self.account:
            parts.append(" · ")
            parts.append((clean(self.account), st("status-line--account")))
        parts.append(f" · every {fmt_interval(self.interval)}")
        if self.note_text:
            parts.append((f" · {self.note_text}", st("status-line--dim")))
        return Content.assemble(*parts)  # type: ignore[arg-type]

    def render(self) -> Content:
        return self._build()
