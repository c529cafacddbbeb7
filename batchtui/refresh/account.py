"""One Batch account as the dashboard keeps it: its client, engine, history, pins, events, health.

Each account has its own client (connection pool, concurrency bound, retries) and its own
refresh engine (pacing, backoff), so one that is down, throttled or refused never slows the
others. The account watches every poll of its engine (:attr:`RefreshEngine.observers`), whichever
view made it, and from what came back keeps, without a request of its own:

- the counts history (the monitors record into :attr:`history`), saved in the state directory;
- the change feed and the alerts (:class:`EventDetector`), handed to ``on_events``;
- its health for the accounts overview: ok, throttled, offline, sign-in failed, and how old
  its data is.

When no screen of an account is open (the overview, the kiosk, another account's screens),
:meth:`watch` keeps it read by a job-list monitor of its own. No Textual here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchtui.batch.errors import BatchClientError
from batchtui.refresh.actions import ActionRunner
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PollHandle, PollOutcome, RefreshEngine
from batchtui.refresh.events import Event, EventDetector
from batchtui.refresh.history import HistoryStore
from batchtui.refresh.jobs import JobsMonitor, JobsSnapshot
from batchtui.refresh.pins import PinStore
from batchtui.refresh.timer import Timer

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

#: what the accounts overview says of an account
STATUSES = ("waiting", "ok", "throttled", "offline", "sign-in failed", "error")
_STATUS_OF_KIND = {
    "throttled": "throttled",
    "auth": "sign-in failed",
    "offline": "offline",
    "unavailable": "offline",
}
_NOT_ABOUT_THE_ACCOUNT = {"not found"}  # a view's job or task went away: the account is fine


def state_slug(name: str, endpoint: str) -> str:
    """A directory name for an account: readable, and distinct for distinct endpoints."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:40] or "account"
    digest = hashlib.sha256(endpoint.lower().encode()).hexdigest()[:10]
    return f"{readable}-{digest}"


@dataclass(frozen=True)
class AccountSummary:
    """One row of the accounts overview."""

    name: str
    status: str
    problem: str | None  # the last failure, when the status is not ok
    jobs: int | None  # listed jobs (None: not read yet)
    active_jobs: int | None
    running_tasks: int | None  # over the jobs whose counts were read
    failed_last_hour: int | None
    age: float | None  # seconds since its data was last read (the engine's clock)


class Account:
    def __init__(
        self,
        name: str,
        client: BatchClient,
        *,
        label: str | None = None,
        interval: float = 5.0,
        timer: Timer | None = None,
        now: Callable[[], datetime] = utcnow,
        state_dir: Path | None = None,
        keep_history: bool = True,
        state_filter: str | None = None,
        utc: bool = False,
        rise_by: int = 1,
        offline_after: float = 60.0,
        on_events: Callable[[Account, list[Event]], object] | None = None,
    ) -> None:
        self.name = name  # the profile (or account) name: :ctx NAME, the hooks' "account"
        self.label = label or name  # for the status line ("demo (demo)")
        self.client = client
        self.now = now
        self.state_filter = state_filter
        self.engine = RefreshEngine(client, interval=interval, timer=timer, now=now)
        #: every state change of this account goes through here: sent once, logged, kept in a
        #: history, and the open views re-read at once afterwards
        self.actions = ActionRunner(client, self.engine, now)
        if client.retry_sleep is asyncio.sleep:
            # A retry's wait that ctrl+r can cut short (a client built with its own sleep keeps it).
            client.retry_sleep = self.engine.retry_sleep
        if client.retry.longest_wait is None:
            # A Retry-After longer than an interval is not slept inside a refresh: the refresh
            # ends, the rest of the screen keeps refreshing, and the pacing backs off instead.
            client.retry = dataclasses.replace(client.retry, longest_wait=max(self.engine.interval, 1.0))
        self.on_events = on_events
        folder = state_dir / "accounts" / state_slug(name, client.endpoint) if state_dir else None
        #: None: the history lives only while batchtui runs (the demo's world restarts each run)
        self.history_path = folder / "history.json" if folder and keep_history else None
        self.history = HistoryStore.load(self.history_path) if self.history_path else HistoryStore()
        self.pins = PinStore.load(folder / "pins.json") if folder else PinStore()
        self.detector = EventDetector(
            name, rise_by=rise_by, offline_after=offline_after, utc=utc, filtered=state_filter is not None
        )
        self.latest: JobsSnapshot | None = None
        self.status = "waiting"
        self.problem: str | None = None
        self._data_mono: float | None = None
        self.watch_handle: PollHandle[JobsSnapshot] | None = None
        self.engine.observers.append(self._observe)

    def __repr__(self) -> str:
        return f"Account({self.name!r}, {self.client.endpoint!r})"

    # ------------------------------------------------------------------ reading it

    def make_monitor(self, **kw: Any) -> JobsMonitor:
        """A job-list monitor that records into this account's history and reads its pins."""
        kw.setdefault("state", self.state_filter)
        return JobsMonitor(
            self.client, now=self.now, history_store=self.history, pinned=lambda: self.pins, **kw
        )

    def watch(self, active: Callable[[], bool]) -> PollHandle[JobsSnapshot]:
        """Keep the account read while ``active()`` says none of its screens is (idempotent)."""
        if self.watch_handle is None or self.watch_handle.closed:
            self.watch_handle = self.engine.open(
                self.make_monitor(), lambda _snap: None, lambda _err, _at: None, active=active
            )
        return self.watch_handle

    # ------------------------------------------------------------------ what came back

    def _observe(self, outcome: PollOutcome) -> None:
        events: list[Event] = []
        snap = outcome.snapshot
        if isinstance(snap, JobsSnapshot) and snap.requests == 0 and outcome.error is None:
            return  # a tick with nothing due asked nothing: it says nothing of the account
        if isinstance(snap, JobsSnapshot) and not snap.partial and not snap.all_failed:
            self.latest = snap
            self._data_mono = self.engine.timer.monotonic()
            if snap.list_error is None:  # a list cut at its bounds would make the rest look deleted
                counts = {k: e.result.task_counts for k, e in snap.counts.items() if e.result is not None}
                events += self.detector.jobs(snap.jobs, counts, outcome.at)
        error = outcome.error
        kind = error.kind if isinstance(error, BatchClientError) else "error" if error else None
        if kind in _NOT_ABOUT_THE_ACCOUNT:
            pass
        elif kind is None:
            self.status = "throttled" if outcome.rate_limited else "ok"
            self.problem = None
            events += self.detector.reachable(True, outcome.at)
        else:
            self.status = _STATUS_OF_KIND.get(kind, "error")
            self.problem = " ".join(str(error).split())[:200] or kind
            if self.status == "offline":
                events += self.detector.reachable(False, outcome.at)
        self._tell(events)

    def ranks_seen(self, job_id: str, task_id: str, failed: list[str], running: int, at: datetime) -> None:
        """A multi-instance task's ranks were read (the subtasks view): a rank failing alerts."""
        self._tell(self.detector.ranks(job_id, task_id, failed, running, at))

    def _tell(self, events: list[Event]) -> None:
        if events and self.on_events is not None:
            self.on_events(self, events)

    # ------------------------------------------------------------------ the overview

    def summary(self) -> AccountSummary:
        snap = self.latest
        age = None if self._data_mono is None else max(self.engine.timer.monotonic() - self._data_mono, 0.0)
        if snap is None:
            return AccountSummary(self.name, self.status, self.problem, None, None, None, None, age)
        listed = {j.id for j in snap.jobs if j.id}
        running = sum(
            e.result.task_counts.running
            for k, e in snap.counts.items()
            if k in listed and e.result is not None
        )
        hour_ago = self.now().timestamp() - 3600.0
        return AccountSummary(
            self.name,
            self.status,
            self.problem,
            len(listed),
            sum(1 for j in snap.jobs if j.state == "active"),
            running,
            self.history.failed_since(hour_ago),
            age,
        )

    # ------------------------------------------------------------------ state on disk

    def save_state(self) -> str | None:
        """Save the history; None when saved (or nothing to save), else why not (one line)."""
        if self.history_path is None:
            return None
        try:
            self.history.save(self.history_path, now=self.now().timestamp())
        except OSError as exc:
            return f"could not save the trend history of {self.name} to {self.history_path}: {exc.strerror or exc}"
        return None

    def toggle_pin(self, job_id: str) -> tuple[bool, str | None]:
        """Pin or unpin; (pinned now, why it could not be saved or None)."""
        try:
            return self.pins.toggle(job_id), None
        except ValueError as exc:
            return job_id in self.pins, str(exc)
        except OSError as exc:
            return job_id in self.pins, f"pins not saved to {self.pins.path}: {exc.strerror or exc}"
