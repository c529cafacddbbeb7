"""What the app keeps per account, outside the app class: the accounts it opens
(:class:`AccountSpec`), and what flows from each account's client and engine to the screens
(a retry for the status line, each poll seen, whether its jobs screen is reading it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from batchtui.refresh.account import Account
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PollOutcome

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.ui.app import BatchApp


@dataclass(frozen=True)
class AccountSpec:
    """One account to open: its name (the profile, or the account), its client, its clock."""

    name: str
    client: BatchClient
    label: str | None = None  # for the status line; the name when None
    now: Callable[[], datetime] = utcnow
    keep_history: bool = True  # False: the demo's world restarts each run, its trend with it


def label_for(client: BatchClient) -> str:
    return client.account or urlsplit(client.endpoint).hostname or ""


def jobs_screen_reads(app: BatchApp, account: Account) -> bool:
    """Whether ``account``'s jobs screen is polling now (shown, or under a modal)."""
    from batchtui.ui.screens.jobs import JobsScreen

    return any(
        isinstance(s, JobsScreen) and s.account is account and s.handle is not None and not s.covered()
        for s in app.screen_stack
    )


def show_retry(app: BatchApp, why: str, seconds: float) -> None:
    from batchtui.ui.screens.base import PollingScreen

    # The topmost live screen is the one whose status line the operator sees (a modal
    # such as the task details leaves the screen under it visible).
    for screen in reversed(app.screen_stack):
        if isinstance(screen, PollingScreen) and screen.is_mounted:
            try:
                screen.status.retrying(why, seconds)
            except Exception:  # noqa: BLE001, S110 - a screen half torn down has no status line
                pass
            return


def observed(app: BatchApp, account: Account, outcome: PollOutcome) -> None:
    from batchtui.refresh.views import SubtasksSnapshot
    from batchtui.ui.ranks import collect_ranks

    app.call_later(app.polled.publish, account)
    snap = outcome.snapshot
    if not isinstance(snap, SubtasksSnapshot):
        return
    ranks = collect_ranks(snap.task, snap.subtasks)
    failed = [str(r.id) for r in ranks if r.failed]
    running = sum(1 for r in ranks if r.category == "running")
    account.ranks_seen(snap.job_id, snap.task_id, failed, running, outcome.at)
