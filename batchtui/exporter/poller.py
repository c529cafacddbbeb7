"""What the exporter reads from one account each interval, on the dashboard's refresh engine.

One :class:`AccountPoller` per account: the job list (the jobs changed since the last read,
and every FULL_LIST_SECONDS the whole list, narrowed on the server to the jobs that can still
change and those that completed within ``completed_for``), the task counts of the
jobs whose counts can change (the dashboard's :class:`~batchtui.refresh.jobs.JobsMonitor`
decides which are due: a completed job's counts are read once, a quiet job's less often), and
the pools' node counts. Each result is one immutable :class:`AccountSnapshot`; scrapes read
the last one and never call the account.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from batchtui.batch.errors import BatchClientError, BatchServiceError
from batchtui.batch.models import Job, TaskCountsResult
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PartialFailure
from batchtui.refresh.jobs import JobsMonitor, JobsSnapshot
from batchtui.sanitize import clean

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

log = logging.getLogger(__name__)

#: enough for every job the list returns: the exporter has no screen to limit counts to
EVERY_JOB = 1 << 62
#: how often the whole (narrowed) job list is read; between, only the jobs changed since the
#: last read. The dashboard reads its whole list far less often (120 ticks or more), but the
#: exporter's list holds only live and recently completed jobs, and a deleted job should not
#: stay on a dashboard for half an hour.
FULL_LIST_SECONDS = 300.0


def odata_datetime(when: datetime) -> str:
    """A ``DateTime'...'`` literal as the service's filter docs write them (whole seconds, UTC).

    Cut down to the second, so the filter lets through a little more, never less."""
    utc = when.astimezone(UTC) if when.tzinfo is not None else when
    return f"DateTime'{utc:%Y-%m-%dT%H:%M:%S}Z'"


@dataclass
class RecentJobsMonitor(JobsMonitor):
    """The dashboard's job monitor, listing only the jobs the exporter still exports.

    ``state ne 'completed' or stateTransitionTime ge <cutoff>``: a completed job stops being
    listed (and so read) ``completed_for`` after it completed. Both properties are documented
    as filterable with ``or`` (REFERENCE §2); a service that refuses the filter (400) makes
    the exporter list every job instead and trim on its side (:attr:`narrow` turns False).
    """

    completed_for: timedelta = timedelta(hours=1)
    narrow: bool = True

    def cutoff(self) -> datetime:
        return self.now() - self.completed_for

    def list_filter(self) -> str | None:
        if not self.narrow:
            return None
        return f"state ne 'completed' or stateTransitionTime ge {odata_datetime(self.cutoff())}"


@dataclass(frozen=True)
class PoolCounts:
    """One pool's node counts by state (the wire's camelCase names), dedicated and Spot."""

    pool_id: str
    dedicated: Mapping[str, int]
    low_priority: Mapping[str, int]


@dataclass(frozen=True)
class AccountSnapshot:
    """One interval's reading of one account, as the metrics show it."""

    jobs: tuple[Job, ...]  # already trimmed to the jobs that are exported
    counts: Mapping[str, TaskCountsResult]  # job id -> the last counts read
    pools: tuple[PoolCounts, ...]
    jobs_ok: bool  # the job list was read this interval
    pools_ok: bool  # the node counts were read this interval
    error: BatchClientError | None = None  # the interval's failure, if any
    requests: int = 0  # requests this interval made to the account

    @property
    def up(self) -> bool:
        return self.jobs_ok and self.pools_ok


@dataclass
class AccountPoller:
    """The refresh engine's poller for one account in the exporter."""

    client: BatchClient
    completed_for: timedelta = timedelta(hours=1)
    now: Callable[[], datetime] = utcnow
    jobs: RecentJobsMonitor = field(init=False)
    _pools: tuple[PoolCounts, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        # Every interval (15 s by default): the jobs changed since the last read, and a full
        # (narrowed) list every FULL_LIST_SECONDS, which is when a deleted job is seen to be
        # gone; the counts of a job that moves every interval, of a quiet one up to a minute
        # apart, of a completed one once.
        self.jobs = RecentJobsMonitor(
            self.client,
            now=self.now,
            list_every=1,
            counts_every=1,
            initial_window=EVERY_JOB,
            # Every exported job, not a screen: one at a time would not read them in an interval.
            steady_concurrency=32,
            asked_concurrency=32,
            history_len=2,
            completed_for=self.completed_for,
        )

    def __repr__(self) -> str:
        return f"AccountPoller({self.client.account or self.client.endpoint!r})"

    def interval(self, base: float) -> float:
        self.jobs.full_every = max(1, math.ceil(FULL_LIST_SECONDS / max(base, 0.1)))
        return self.jobs.interval(base)

    async def poll(self, reason: str) -> AccountSnapshot:
        """Read the interval's data; raise PartialFailure (with what did arrive) on any failure."""
        before = self.client.stats.requests
        error: BatchClientError | None = None
        jobs_ok = True
        try:
            read = await self._poll_jobs(reason)
            if not read.listed:
                # A "changed since" read that failed is kept by the monitor, not raised: the
                # list shown would be as old as the last read, so the account is not "up".
                jobs_ok = False
                error = read.failure or BatchClientError("the job list could not be read")
        except PartialFailure as partial:
            jobs_ok = False
            error = partial.error if isinstance(partial.error, BatchClientError) else None
        except BatchClientError as exc:
            jobs_ok = False
            error = exc
        pools_ok = True
        try:
            self._pools = await self._read_pools()
        except BatchClientError as exc:
            pools_ok = False
            error = error or exc
        snapshot = self._snapshot(jobs_ok, pools_ok, error, self.client.stats.requests - before)
        if error is not None:
            raise PartialFailure(snapshot, error)
        if not snapshot.up:  # a failure that was not a BatchClientError: still not "up"
            raise PartialFailure(snapshot, RuntimeError("the account could not be read"))
        return snapshot

    async def _poll_jobs(self, reason: str) -> JobsSnapshot:
        try:
            return await self.jobs.poll(reason)
        except BatchServiceError as exc:
            if not (self.jobs.narrow and exc.status == 400):
                raise
            # The service did not take the completed-for filter: list every job from now on
            # and trim here. Costs more per read on an account with many old jobs; said once.
            log.warning("the job list refused the completed-for filter (%s); listing every job", clean(exc))
            self.jobs.narrow = False
            return await self.jobs.poll(reason)

    async def _read_pools(self) -> tuple[PoolCounts, ...]:
        # One /nodecounts listing for every pool (its total left out: each node counted once).
        counts = await self.client.list_pool_node_counts(max_results=1000)
        return tuple(
            PoolCounts(c.pool_id, dict(c.dedicated.items()), dict(c.low_priority.items()))
            for c in counts
            if c.pool_id
        )

    def _snapshot(
        self, jobs_ok: bool, pools_ok: bool, error: BatchClientError | None, requests: int
    ) -> AccountSnapshot:
        cutoff = self.jobs.cutoff()
        jobs = tuple(j for j in self.jobs.jobs if j.id and not _expired(j, cutoff))
        entries = self.jobs.snapshot().counts
        counts: dict[str, TaskCountsResult] = {}
        for job in jobs:
            entry = entries.get(job.id or "")
            if entry is not None and entry.result is not None:
                counts[job.id or ""] = entry.result
        return AccountSnapshot(
            jobs=jobs,
            counts=MappingProxyType(counts),
            pools=self._pools,
            jobs_ok=jobs_ok,
            pools_ok=pools_ok,
            error=error,
            requests=requests,
        )


def _expired(job: Job, cutoff: datetime) -> bool:
    """A completed job past ``completed_for`` (the list may be a little older than the cutoff)."""
    if job.state != "completed":
        return False
    ended = job.state_transition_time or (job.execution_info.end_time if job.execution_info else None)
    return ended is not None and ended < cutoff
