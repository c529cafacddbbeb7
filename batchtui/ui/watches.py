"""Second pollers a screen opens beside its own: a job's failures (tasks screen) and the pool
under a job that waits with nothing running (jobs screen).

Each is opened only once it has something to say (failures exist; a job waits), follows what
the screen shows (the failed count; the selected job's pool) and is closed with the screen.
Their snapshots come back as messages to the screen, as its own do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchtui.refresh.engine import PollHandle
from batchtui.refresh.failures import FailuresPoller, FailuresSnapshot
from batchtui.refresh.pools import PoolHealth, PoolHealthPoller
from batchtui.ui.messages import FailuresRead, PoolHealthRead

if TYPE_CHECKING:
    from batchtui.ui.screens.base import PollingScreen


class FailuresWatch:
    """A job's failures, read grouped once there are any and again whenever their count moves."""

    def __init__(self, screen: PollingScreen, job_id: str) -> None:
        self.screen = screen
        self.job_id = job_id
        self._poller: FailuresPoller | None = None
        self._handle: PollHandle[FailuresSnapshot] | None = None

    def failed(self, count: int) -> None:
        """The job's failed count as the screen's counts say it now."""
        if self._poller is None or self._handle is None:
            if not count:
                return
            screen = self.screen
            app = screen.batch_app
            self._poller = FailuresPoller(app.client, self.job_id, app.now)
            self._poller.expected = count
            self._handle = app.engine.open(
                self._poller,
                lambda snap: screen.post_message(FailuresRead(snap)),
                lambda _error, _at: None,  # the screen's own refresh reports trouble on its status line
                active=lambda: not screen.covered(),
            )
        elif self._poller.expected != count:
            self._poller.expected = count
            self._handle.refresh_now("failed")

    def refresh_now(self) -> None:
        if self._handle is not None:
            self._handle.refresh_now("now")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


class PoolWatch:
    """The pool of the job the operator looks at, while that job waits with nothing running."""

    def __init__(self, screen: PollingScreen) -> None:
        self.screen = screen
        self.pool_id: str | None = None
        self.health: PoolHealth | None = None
        self._handle: PollHandle[PoolHealth] | None = None

    def watch(self, pool_id: str | None) -> PoolHealth | None:
        """Follow ``pool_id`` (None: nothing); its health once read."""
        if pool_id != self.pool_id:
            self.close()
            self.pool_id = pool_id
            if pool_id is not None:
                screen = self.screen
                app = screen.batch_app
                self._handle = app.engine.open(
                    PoolHealthPoller(app.client, pool_id, app.now),
                    lambda health: screen.post_message(PoolHealthRead(health)),
                    lambda _error, _at: None,  # a hint, not a view: the job list reports trouble
                    active=lambda: not screen.covered(),
                )
        health = self.health
        return health if health is not None and health.pool_id == pool_id else None

    def read(self, health: PoolHealth) -> bool:
        """A poll's answer; True when it is for the pool followed now."""
        if health.pool_id != self.pool_id:
            return False
        self.health = health
        return True

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
