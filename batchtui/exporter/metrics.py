"""The exporter's metrics: each account's last snapshot, turned into families at scrape time.

A custom collector rather than labelled gauges: a job that leaves the snapshot (deleted, or
completed longer ago than ``--completed-for``) leaves ``/metrics`` with it, with no label set to
remember and remove, so the series count stays that of the jobs and pools the accounts hold
now. Scrapes run on prometheus_client's server threads; the poll loops write on the asyncio
thread; one lock per account guards the hand-over, and a scrape copies and lets go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from batchtui.batch.client import RequestEvent
from batchtui.batch.models import TaskCounts
from batchtui.exporter.poller import AccountSnapshot

#: the buckets of ``/taskcounts``, as ``azure_batch_job_tasks`` names them
TASK_STATES: tuple[str, ...] = ("active", "running", "completed", "succeeded", "failed")
#: ``azure_batch_pool_nodes{kind}``: the two halves of a ``/nodecounts`` item
NODE_KINDS: tuple[str, ...] = ("dedicated", "lowPriority")


def status_label(event: RequestEvent) -> str:
    """The HTTP status, or the failure's short cause when no answer came ("offline", "auth")."""
    if event.status is not None:
        return str(event.status)
    return event.kind or "error"


@dataclass(frozen=True)
class FeedView:
    """A scrape's copy of one account's state."""

    account: str
    snapshot: AccountSnapshot | None
    up: bool
    last_success: float | None
    requests: Mapping[tuple[str, str], int]


class AccountFeed:
    """One account as the exporter knows it: written by its poll loop, read by scrapes."""

    def __init__(self, account: str, *, wall: Callable[[], float] = time.time) -> None:
        self.account = account
        self._wall = wall
        self._lock = threading.Lock()
        self._snapshot: AccountSnapshot | None = None
        self._up = False
        self._last_success: float | None = None
        self._requests: dict[tuple[str, str], int] = {}
        self.polls = 0  # poll outcomes seen (tests wait on it)
        #: moves on every change of what a scrape would show (the HTTP layer's cache key)
        self.version = 0
        self.last_error: BaseException | None = None

    # ---------------------------------------------------------------- the poll loop's side

    def on_snapshot(self, snapshot: AccountSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
            self._up = snapshot.up
            self.version += 1
            if snapshot.up:
                self._last_success = self._wall()
                self.last_error = None
        if snapshot.up:
            self.polls += 1

    def on_error(self, error: BaseException, at: datetime) -> None:
        with self._lock:
            self._up = False
            self.last_error = error
            self.version += 1
        self.polls += 1

    def on_request(self, event: RequestEvent) -> None:
        key = (event.call or "other", status_label(event))
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1
            self.version += 1

    # ---------------------------------------------------------------- the scrape's side

    def view(self) -> FeedView:
        with self._lock:
            return FeedView(self.account, self._snapshot, self._up, self._last_success, dict(self._requests))


class BatchCollector(Collector):
    """Every account's families, built from the feeds' last snapshots (no I/O)."""

    def __init__(self, feeds: Callable[[], Iterable[AccountFeed]]) -> None:
        self._feeds = feeds

    def collect(self) -> Iterable[Metric]:
        return families([feed.view() for feed in self._feeds()])


def families(views: Iterable[FeedView]) -> list[Metric]:
    tasks = GaugeMetricFamily(
        "azure_batch_job_tasks",
        "Tasks of a job by state, from the job's /taskcounts (running includes preparing).",
        labels=["account", "job", "state"],
    )
    slots = GaugeMetricFamily(
        "azure_batch_job_task_slots",
        "Task slots of a job by state, from the job's /taskcounts.",
        labels=["account", "job", "state"],
    )
    info = GaugeMetricFamily(
        "azure_batch_job_info",
        "1 for every exported job: its pool and state (completed jobs stay for --completed-for).",
        labels=["account", "job", "pool", "state"],
    )
    nodes = GaugeMetricFamily(
        "azure_batch_pool_nodes",
        "Nodes of a pool by kind (dedicated, lowPriority) and state, from /nodecounts.",
        labels=["account", "pool", "kind", "state"],
    )
    up = GaugeMetricFamily(
        "azure_batch_up",
        "1 when the exporter's last read of the account (job list and node counts) succeeded.",
        labels=["account"],
    )
    last = GaugeMetricFamily(
        "azure_batch_last_success_timestamp_seconds",
        "Unix time of the last read of the account that succeeded.",
        labels=["account"],
    )
    requests = CounterMetricFamily(
        "batchtui_requests",
        "HTTP attempts the exporter sent to the account, by client call and status "
        "(or the cause when no answer came: offline, auth, ...).",
        labels=["account", "call", "status"],
    )
    for view in views:
        account = view.account
        up.add_metric([account], 1.0 if view.up else 0.0)
        if view.last_success is not None:
            last.add_metric([account], view.last_success)
        for (call, status), n in sorted(view.requests.items()):
            requests.add_metric([account, call, status], float(n))
        snap = view.snapshot
        if snap is None:
            continue
        # A list that could not be read this interval is not shown as if it were current.
        if snap.jobs_ok:
            for job in snap.jobs:
                job_id = job.id or ""
                info.add_metric([account, job_id, job.effective_pool_id or "", job.state or ""], 1.0)
                result = snap.counts.get(job_id)
                if result is None:
                    continue
                _add_counts(tasks, account, job_id, result.task_counts)
                _add_counts(slots, account, job_id, result.task_slot_counts)
        if snap.pools_ok:
            for pool in snap.pools:
                for kind, by_state in (("dedicated", pool.dedicated), ("lowPriority", pool.low_priority)):
                    for state, n in by_state.items():
                        nodes.add_metric([account, pool.pool_id, kind, state], float(n))
    return [tasks, slots, info, nodes, up, last, requests]


def _add_counts(family: GaugeMetricFamily, account: str, job_id: str, counts: TaskCounts) -> None:
    for state in TASK_STATES:
        family.add_metric([account, job_id, state], float(getattr(counts, state)))
