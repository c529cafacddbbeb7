"""Alerts that reach the operator: which events alert, and every way they are delivered.

Events come from each account (:mod:`batchtui.refresh.events`); the ones of the five alerting
kinds, for every job or for pinned jobs only (``alerts = "all" | "pinned"``; account events
always), become alerts. Each batch of alerts from one refresh is delivered once: the alert bar
of every screen (it stays until acknowledged, ``a`` or the palette), the terminal bell, a
desktop notification (OSC 9/777/99 for the terminal detected, see :mod:`batchtui.ui.osc`), and
``--on-event CMD`` once per alert with the event as JSON on stdin. A hook that fails or hangs
is reported in the app; it never stops the dashboard, and at most ``HOOKS_AT_ONCE`` run at a
time (a burst queues, up to ``HOOK_QUEUE``; beyond that they are dropped and said so).
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.signal import Signal

from batchtui.refresh.events import ALERT_KINDS, Event
from batchtui.refresh.hooks import run_hook
from batchtui.ui import osc

if TYPE_CHECKING:
    from batchtui.refresh.account import Account
    from batchtui.ui.app import BatchApp

AlertMode = Literal["all", "pinned"]
ALERT_MODES: tuple[str, ...] = ("all", "pinned")
NotifyMode = Literal["auto", "off", "osc9", "osc777", "osc99"]
NOTIFY_MODES: tuple[str, ...] = ("auto", "off", *osc.PROTOCOLS)
SHOWN = 50  # unacknowledged alerts kept (the oldest go first)
HOOKS_AT_ONCE = 4
HOOK_QUEUE = 100

_TITLES = {
    "job-completed": "job completed",
    "task-failed": "tasks failing",
    "rank-failed": "MPI rank failed",
    "account-offline": "account offline",
    "account-online": "account back",
}


@dataclass(frozen=True)
class Alert:
    event: Event
    account: str  # the account's name (several accounts: shown beside the message)

    @property
    def title(self) -> str:
        return _TITLES.get(self.event.kind, self.event.kind)


class AlertCenter:
    def __init__(
        self,
        app: BatchApp,
        *,
        mode: AlertMode = "all",
        hook: str | None = None,
        notify: NotifyMode = "auto",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.mode = mode
        self.hook = hook
        environ = os.environ if env is None else env
        self.protocol: osc.Protocol | None = (
            osc.detect(environ) if notify == "auto" else None if notify == "off" else notify
        )
        self.tmux = osc.in_tmux(environ)
        self.shown: deque[Alert] = deque(maxlen=SHOWN)
        #: published with the alerts shown whenever they change (the alert bars listen)
        self.changed: Signal[tuple[Alert, ...]] = Signal(app, "alerts")
        #: published whenever any account's feed grew (the feed screen listens)
        self.fed: Signal[None] = Signal(app, "feed")
        self.delivered = 0  # desktop notifications written (tests, the help screen)
        self.hooks_run = 0
        self._gate = asyncio.Semaphore(HOOKS_AT_ONCE)
        self._queued = 0

    def wanted(self, account: Account, event: Event) -> bool:
        if event.kind not in ALERT_KINDS:
            return False
        return self.mode == "all" or event.job is None or event.job in account.pins

    def handle(self, account: Account, events: list[Event]) -> None:
        """An account's new events (all of them go to the feed; some alert)."""
        self.fed.publish(None)
        alerts = [Alert(e, account.name) for e in events if self.wanted(account, e)]
        if not alerts:
            return
        self.shown.extendleft(alerts)  # newest first
        self.changed.publish(tuple(self.shown))
        self.app.bell()
        first = alerts[0]
        body = first.event.message if len(alerts) == 1 else f"{first.event.message} (+{len(alerts) - 1} more)"
        title = f"batchtui · {first.title}" + (f" · {account.name}" if len(self.app.accounts) > 1 else "")
        self.delivered += osc.desktop_notify(
            self.app, title, body, self.protocol, tmux=self.tmux, ident=self.delivered + 1
        )
        if self.hook:
            for alert in alerts:
                self._run_hook(alert.event)

    def acknowledge(self) -> int:
        """Clear the alerts shown; how many there were."""
        n = len(self.shown)
        self.shown.clear()
        self.changed.publish(())
        return n

    # ------------------------------------------------------------------ --on-event

    def _run_hook(self, event: Event) -> None:
        if self._queued >= HOOK_QUEUE:
            self.app.notify(
                f"--on-event: more than {HOOK_QUEUE} events waiting; {event.kind} for "
                f"{event.job or event.account} was not handed to the hook",
                title="Hook",
                severity="warning",
                markup=False,
            )
            return
        self._queued += 1
        self.app.run_worker(self._hook(event), group="hooks", exit_on_error=False, name=f"hook {event.kind}")

    async def _hook(self, event: Event) -> None:
        assert self.hook is not None
        try:
            async with self._gate:
                problem = await run_hook(self.hook, event)
        finally:
            self._queued -= 1
        self.hooks_run += 1
        if problem is not None:
            self.app.notify(osc.neutral(problem, 300), title="Hook failed", severity="warning", markup=False)
