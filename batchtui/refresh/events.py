"""What changed: transitions seen between snapshots, as a capped feed and as alerts.

Fed from what the pollers already read (no request of its own). The first snapshot is the
baseline: failures already there when batchtui starts never alert. Failures are coalesced per
job: a burst of 500 is one alert, and a job alerts again only once its failures have risen by
``rise_by`` since its last alert (or it gets its first), and not within ``hold`` seconds of
that alert: failures trickling in over several refreshes make one alert a minute at most,
which tells the whole rise.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from batchtui.batch.models import Job, TaskCounts
from batchtui.timefmt import fmt_when

EventKind = Literal[
    "job-created",
    "job-completed",
    "job-disabled",
    "job-terminated",
    "job-deleted",
    "task-failed",
    "rank-failed",
    "account-offline",
    "account-online",
]
#: the kinds that reach the operator as alerts (``--on-event`` gets these five, by name)
ALERT_KINDS: frozenset[str] = frozenset(
    {"job-completed", "task-failed", "rank-failed", "account-offline", "account-online"}
)
FEED_LEN = 200


@dataclass(frozen=True)
class Event:
    kind: EventKind
    account: str
    at: datetime
    message: str
    job: str | None = None
    task: str | None = None
    counts: TaskCounts | None = None

    def to_json(self) -> str:
        """The one JSON object ``--on-event`` hooks read on stdin."""
        doc: dict[str, object] = {
            "kind": self.kind,
            "account": self.account,
            "job": self.job,
            "at": self.at.isoformat(),
            "message": self.message,
            "counts": None
            if self.counts is None
            else {
                "active": self.counts.active,
                "running": self.counts.running,
                "completed": self.counts.completed,
                "succeeded": self.counts.succeeded,
                "failed": self.counts.failed,
            },
        }
        if self.task is not None:
            doc["task"] = self.task
        # ensure_ascii: the hook may write it to a terminal; ids are data, never controls.
        return json.dumps(doc, ensure_ascii=True)


@dataclass
class EventDetector:
    """Turns successive snapshots of one account into events."""

    account: str
    rise_by: int = 1  # a job alerts again once its failures rose by this much since its last alert
    offline_after: float = 60.0  # seconds offline before "account-offline"
    utc: bool = False  # times in messages in UTC (labelled) rather than local time
    hold: float = 60.0  # seconds after a job's failure alert before its next one
    #: the job list is narrowed (--state): a job that leaves it may have changed state, not gone
    filtered: bool = False
    feed: deque[Event] = field(default_factory=lambda: deque(maxlen=FEED_LEN))
    _states: dict[str, str | None] | None = None
    _failed: dict[str, int] = field(default_factory=dict)  # failures last seen, per job
    _alerted_at: dict[str, int] = field(default_factory=dict)  # failures when last alerted
    _alert_time: dict[str, datetime] = field(default_factory=dict)  # when it last alerted
    _down_since: datetime | None = None
    _said_offline: bool = False
    _ranks: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def jobs(self, jobs: Iterable[Job], counts: dict[str, TaskCounts], at: datetime) -> list[Event]:
        """A new job list (and the counts known): what changed since the last one."""
        states = {j.id: j.state for j in jobs if j.id}
        out: list[Event] = []
        if self._states is None:  # the baseline
            self._states = states
            self._failed = {k: c.failed for k, c in counts.items()}
            self._alerted_at = dict(self._failed)
            return out
        created: set[str] = set()
        for job_id, state in states.items():
            before = self._states.get(job_id, "<new>")
            c = counts.get(job_id)
            if before == "<new>":
                created.add(job_id)
                out.append(Event("job-created", self.account, at, f"job {job_id} created", job_id, counts=c))
            elif before != state:
                kind = _STATE_EVENTS.get(state or "")
                if kind is not None:
                    out.append(Event(kind, self.account, at, f"job {job_id} {state}", job_id, counts=c))
        for job_id in sorted(self._states.keys() - states.keys()):
            gone = "is no longer listed" if self.filtered else "is gone"
            out.append(Event("job-deleted", self.account, at, f"job {job_id} {gone}", job_id))
            self._failed.pop(job_id, None)
            self._alerted_at.pop(job_id, None)
            self._alert_time.pop(job_id, None)
        self._states = states
        out += self._failures(counts, at, new=created)
        return self._keep(out)

    def _failures(self, counts: dict[str, TaskCounts], at: datetime, new: set[str]) -> list[Event]:
        out = []
        for job_id, c in counts.items():
            seen = self._failed.get(job_id)
            self._failed[job_id] = c.failed
            if seen is None and job_id not in new:
                # Counts read for the first time for an old job: that is a baseline, not news.
                self._alerted_at.setdefault(job_id, c.failed)
                continue
            last = self._alerted_at.get(job_id, 0)
            if c.failed > last and (last == 0 or c.failed - last >= self.rise_by):
                when = self._alert_time.get(job_id)
                if when is not None and (at - when).total_seconds() < self.hold:
                    continue  # held: the rise so far is told in one alert when the hold ends
                what = (
                    "its first failure"
                    if last == 0 and c.failed == 1
                    else f"its first {c.failed} failures"
                    if last == 0
                    else f"failures up {c.failed - last} to {c.failed}"
                )
                out.append(Event("task-failed", self.account, at, f"job {job_id}: {what}", job_id, counts=c))
                self._alerted_at[job_id] = c.failed
                self._alert_time[job_id] = at
        return out

    def ranks(
        self, job_id: str, task_id: str, failed: Iterable[str], running: int, at: datetime
    ) -> list[Event]:
        """A multi-instance task's ranks: a rank newly failed while others still run."""
        key = (job_id, task_id)
        now_failed = set(failed)
        before = self._ranks.get(key)
        self._ranks[key] = now_failed
        if before is None or running == 0:
            return []
        out = [
            Event(
                "rank-failed",
                self.account,
                at,
                f"rank {r} of {task_id} ({job_id}) failed while {running} others keep running",
                job_id,
                task_id,
            )
            for r in sorted(now_failed - before)
        ]
        return self._keep(out)

    def reachable(self, ok: bool, at: datetime) -> list[Event]:
        """A poll's outcome: offline for longer than ``offline_after``, and back."""
        out: list[Event] = []
        if ok:
            if self._said_offline:
                out.append(Event("account-online", self.account, at, f"{self.account} is reachable again"))
            self._down_since, self._said_offline = None, False
        else:
            if self._down_since is None:
                self._down_since = at
            if not self._said_offline and (at - self._down_since).total_seconds() >= self.offline_after:
                self._said_offline = True
                since = fmt_when(self._down_since, at, utc=self.utc)
                out.append(
                    Event("account-offline", self.account, at, f"{self.account} offline since {since}")
                )
        return self._keep(out)

    def _keep(self, events: list[Event]) -> list[Event]:
        self.feed.extendleft(events)  # newest first
        return events


_STATE_EVENTS: dict[str, EventKind] = {
    "completed": "job-completed",
    "disabled": "job-disabled",
    "terminating": "job-terminated",
}
