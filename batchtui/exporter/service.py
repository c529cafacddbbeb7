"""The exporter proper: one refresh engine and one client per account, one registry, one server.

Accounts are independent: each has its own client (its own connection pool and concurrency
bound), its own engine and its own loop task, so an account that is down, slow or throttled
backs off on its own while the others keep their pace. ``/metrics`` is prometheus_client's WSGI
app on a private :class:`~prometheus_client.CollectorRegistry` (no process or platform
collectors), its answers kept until the feeds change (http.py): its threads only read the feeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, generate_latest

from batchtui.exporter.http import CachedMetricsApp, serve_in_thread
from batchtui.exporter.metrics import AccountFeed, BatchCollector
from batchtui.exporter.poller import AccountPoller, AccountSnapshot
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PollHandle, RefreshEngine
from batchtui.sanitize import clean

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.refresh.timer import Timer

log = logging.getLogger("batchtui.exporter")

DEFAULT_REFRESH = 15.0
DEFAULT_COMPLETED_FOR = timedelta(hours=1)


@dataclass
class Account:
    """One account to export: its label (the ``account`` label), client and data clock."""

    label: str
    client: BatchClient
    now: Callable[[], datetime] = utcnow


class Exporter:
    def __init__(
        self,
        accounts: Sequence[Account],
        *,
        refresh: float = DEFAULT_REFRESH,
        completed_for: timedelta = DEFAULT_COMPLETED_FOR,
        timer: Timer | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        labels = [a.label for a in accounts]
        if len(set(labels)) != len(labels):
            raise ValueError("two accounts with the same name would share their series")
        self.accounts = tuple(accounts)
        self.refresh = refresh
        self.completed_for = completed_for
        self.timer = timer
        self.feeds = tuple(AccountFeed(a.label, wall=wall) for a in accounts)
        self.engines: list[RefreshEngine] = []
        self.handles: list[PollHandle[AccountSnapshot]] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(BatchCollector(lambda: self.feeds))
        self._server: WSGIServer | None = None
        self.http: CachedMetricsApp | None = None
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        """Open every account's poll loop (in the running event loop); the first reads start now."""
        for account, feed in zip(self.accounts, self.feeds, strict=True):
            client = account.client
            client.readonly = True  # the exporter only reads; nothing else may leave it
            engine = RefreshEngine(client, interval=self.refresh, timer=self.timer, now=account.now)
            if client.retry_sleep is asyncio.sleep:
                client.retry_sleep = engine.retry_sleep
            self._unsubscribe.append(client.subscribe(feed.on_request))
            poller = AccountPoller(client, completed_for=self.completed_for, now=account.now)
            on_snapshot, on_error = _reporting(feed)
            self.engines.append(engine)
            self.handles.append(engine.open(poller, on_snapshot, on_error))

    def scrape(self) -> bytes:
        """What ``GET /metrics`` answers, without the HTTP (tests, ``--once``-style checks)."""
        return generate_latest(self.registry)

    def serve_http(self, host: str, port: int) -> tuple[str, int]:
        """Serve ``/metrics`` on ``host:port`` (0: any free port); returns the bound address."""
        self.http = CachedMetricsApp(self.registry, lambda: tuple(f.version for f in self.feeds))
        server = serve_in_thread(self.http, host, port)
        self._server = server
        bound = server.server_address
        return str(bound[0]), int(bound[1])

    async def aclose(self) -> None:
        for engine in self.engines:
            engine.close_all()
        if self._server is not None:
            server, self._server = self._server, None
            # shutdown() waits for serve_forever to notice: off the event loop's thread.
            await asyncio.to_thread(server.shutdown)
            server.server_close()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await asyncio.gather(*(a.client.aclose() for a in self.accounts), return_exceptions=True)


def _reporting(
    feed: AccountFeed,
) -> tuple[Callable[[AccountSnapshot], None], Callable[[BaseException, datetime], None]]:
    """The feed's sinks, saying on stderr when an account goes down and when it is back."""
    state: dict[str, bool | None] = {"up": None}

    def on_snapshot(snapshot: AccountSnapshot) -> None:
        feed.on_snapshot(snapshot)
        if snapshot.up and state["up"] is not True:
            if state["up"] is False:
                log.warning("account %s: read again", feed.account)
            state["up"] = True

    def on_error(error: BaseException, at: datetime) -> None:
        feed.on_error(error, at)
        if state["up"] is not False:
            # Service text is data: control characters are shown, never acted on.
            log.warning("account %s: cannot be read: %s", feed.account, clean(error))
            state["up"] = False

    return on_snapshot, on_error
