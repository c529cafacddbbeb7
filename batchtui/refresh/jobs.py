"""The jobs poller: what to fetch on each tick of the job list, and what is known so far.

No Textual here: the screen tells the monitor what the operator can see (``focus``); the
refresh engine calls ``poll`` on its pace, and the monitor decides which requests that tick
is worth.

The plan (issue 5):
- the job list is fetched on the first tick and then every ``list_every``-th timer tick,
  with ``$select`` for the columns shown and the ``--state`` filter server-side;
- the selected job's counts are fetched on every tick, and so are the pinned jobs' (``*``);
- counts of the other jobs on screen (plus a margin) are fetched on list ticks, and at once
  for a job that has none yet (scrolling onto it);
- a completed job's counts cannot change: once read after completion they are never
  fetched again (``c`` recounts exactly on demand);
- counts requests run concurrently with a bound, the selected job's first on the wire; jobs
  that left the list are forgotten, and the per-job history is a fixed-length ring, so memory
  stays flat however long it runs;
- after the first tick, a refresh (timer tick) reads its counts one at a time
  (``steady_concurrency``), so refreshing never needs a connection the ticks before it did not
  keep open (below); ctrl+r and rows scrolled into view read up to ``asked_concurrency`` (4)
  at once.

Connections (issue 15.3, bench/handshakes.py): a connection idle for ``KEEPALIVE_SECONDS``
(120 s) is closed, and the next tick that needs it pays a TLS handshake. httpx's stock pool
handed every request the first idle connection, so with 32 in flight, ticks of 20-35 counts
came once in a while and an hour at rest paid 177 handshakes; with 2, 5 an hour. Now a refresh
reads its counts one at a time, and the direct transport (batch/network.py) hands out the idle
connection used least recently, so what a burst opened stays in use. The price is a round trip
per count on a busy tick (~12 on a screen of moving jobs), well inside an interval, the
selected job's first. Keep-alive cannot grow instead (Azure's load balancers drop a flow idle
~4 minutes). The first tick has no connection to reuse and reads a whole screen of counts at
once (``concurrency``). The list itself is read by :class:`~batchtui.refresh.job_list.JobList`.

First paint (bench/ten_thousand.py): with an ``on_progress`` callback, a first read of a job
list longer than one page hands over a partial snapshot after the first page and the selected
job's counts, so a 10,000-job account shows rows (and the count bar) after one page rather than
after ten. Later reads replace the list in one go, as does a one-page list: painting 1,000 rows
once more (0.15-0.25 s on 2 cores) delayed the counts more than the round trips it hid (tried:
list first, then counts, took bench/startup.py's counts from 1.02 s to 1.23 s).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from batchtui.batch.errors import BatchClientError, BatchServiceError
from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.batch.paging import ListLimits
from batchtui.job_order import default_job_order, state_filter
from batchtui.refresh.cadence import CountsCadence
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PartialFailure
from batchtui.refresh.history import HistoryStore
from batchtui.refresh.job_list import JOB_LIST_SELECT as JOB_LIST_SELECT  # re-exported
from batchtui.refresh.job_list import JobList, ListRead
from batchtui.refresh.job_snapshot import (  # re-exported: where the screens and tests find them
    RECOUNT_LIMITS as RECOUNT_LIMITS,
)
from batchtui.refresh.job_snapshot import RECOUNT_SELECT as RECOUNT_SELECT
from batchtui.refresh.job_snapshot import CountsEntry as CountsEntry
from batchtui.refresh.job_snapshot import JobsSnapshot as JobsSnapshot
from batchtui.refresh.job_snapshot import RecountResult as RecountResult
from batchtui.refresh.job_snapshot import completions_per_minute as completions_per_minute
from batchtui.refresh.job_snapshot import recount_tasks

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

TickKind = Literal["timer", "full", "focus"]


@dataclass
class _Focus:
    selected: str | None = None
    window: tuple[str, ...] = ()


@dataclass
class JobsMonitor:
    client: BatchClient
    state: str | None = None
    now: Callable[[], datetime] = utcnow
    list_every: int = 1  # ticks between list reads (a "changed since" read between full ones)
    #: ticks between reads of a changing job's counts (a quiet job's grow from here, cadence.py)
    counts_every: int = 3
    #: ticks between sweeps of the list's ids, the safety net for what a "changed since" read
    #: cannot see (jobs deleted outright); None: 120 ticks, or more as the account grows
    full_every: int | None = None
    #: seconds a "changed since" read reaches back before the last read (clock skew, changes
    #: committed while the last read was in flight)
    overlap: float = 10.0
    #: counts requests in flight at once on the first tick (the client bounds all of its own too)
    concurrency: int = 32
    #: ... on every refresh after it: one, the connection every tick keeps open (module docstring)
    steady_concurrency: int = 1
    #: ... on a tick the operator asked for (ctrl+r, rows scrolled into view without counts)
    asked_concurrency: int = 4
    initial_window: int = 40  # counts fetched before the screen has said what it shows
    history_len: int = 60
    #: receives a partial snapshot while a long first list is read (first paint)
    on_progress: Callable[[JobsSnapshot], object] | None = None
    #: what the operator sees now (selected job, keys on screen), asked at the start of a poll
    view: Callable[[], tuple[str | None, Sequence[str]]] | None = None
    recount_limits: ListLimits = RECOUNT_LIMITS
    #: the account's counts history: every counts read is a sample (trends cost no request)
    history_store: HistoryStore | None = None
    #: the pinned jobs, asked at each tick: read like the selected job, on screen or not
    pinned: Callable[[], Collection[str]] | None = None

    _counts: dict[str, CountsEntry] = field(default_factory=dict, init=False)
    _history: dict[str, deque[tuple[datetime, TaskCounts]]] = field(default_factory=dict, init=False)
    _focus: _Focus = field(default_factory=_Focus, init=False)
    _ticks: int = field(default=0, init=False)
    _tick_no: int = field(default=0, init=False)  # the timer tick being run (cadence counts these)
    cadence: CountsCadence = field(default_factory=CountsCadence)
    _failures: list[BatchClientError] = field(default_factory=list, init=False)
    _in_flight: int = field(default=1, init=False)  # counts requests at once, this tick
    #: the list and how it is read (job_list.py)
    listing: JobList = field(init=False)

    def __post_init__(self) -> None:
        # A job whose counts move is read every ``counts_every`` ticks (cadence.py).
        self.cadence.min_gap = max(1, self.counts_every)
        self.cadence.max_gap = max(self.cadence.max_gap, self.cadence.min_gap)
        self.listing = JobList(self.client, self, now=self.now, on_jobs=self._jobs_changed)

    @property
    def _jobs(self) -> tuple[Job, ...] | None:
        return self.listing.jobs

    @property
    def _by_id(self) -> dict[str, Job]:
        return self.listing.by_id

    # ------------------------------------------------------------------ what the operator sees

    def focus(self, selected: str | None, window: Sequence[str]) -> None:
        self._focus = _Focus(selected, tuple(window))

    def needs_counts(self) -> bool:
        """Whether the selected job or a job on screen has no counts yet (worth a tick now)."""
        return any(k in self._by_id and k not in self._counts for k in self._wanted())

    @property
    def jobs(self) -> tuple[Job, ...]:
        return self._jobs or ()

    def list_filter(self) -> str | None:
        """The job list's ``$filter``, asked before each read (the exporter narrows it by time)."""
        return state_filter(self.state)

    # ------------------------------------------------------------------ the engine's side

    def interval(self, base: float) -> float:
        self.cadence.pace(base)
        return base

    async def poll(self, reason: str) -> JobsSnapshot:
        """One tick for the engine: "timer" and "focus" as they are, any other reason a full read.

        A tick whose every request failed raises PartialFailure: the snapshot (with the
        counts that could not be read marked) is still shown, the failure paces the loop."""
        kind: TickKind = "timer" if reason == "timer" else "focus" if reason == "focus" else "full"
        if self.view is not None:
            self.focus(*self.view())
        snapshot = await self.tick(kind)
        if snapshot.all_failed and snapshot.failure is not None:
            raise PartialFailure(snapshot, snapshot.failure)
        return snapshot

    # ------------------------------------------------------------------ one tick

    async def tick(self, kind: TickKind = "timer") -> JobsSnapshot:
        """Fetch what this tick is worth; raise BatchClientError only if the list failed."""
        self._failures = []
        self._in_flight = (
            self.concurrency
            if self._jobs is None
            else self.steady_concurrency
            if kind == "timer"
            else self.asked_concurrency
        )
        self._tick_no = self._ticks
        # A list read cut short (a page failed) is read again on the next tick, whatever kind.
        if kind == "timer":
            list_now = self.listing.unread or self._ticks % self.list_every == 0
            self._ticks += 1
        else:
            list_now = kind == "full" or self.listing.unread
        read = ListRead()
        if list_now:
            first_page = self._first_page if self.on_progress is not None else None
            read = await self.listing.read(
                asked=kind == "full", failures=self._failures, first_page=first_page
            )
        # A focus tick is for rows that scrolled into view without counts; the selected job's
        # were read on the last timer tick (bench/refresh_cost.py counted the extra read).
        # ctrl+r (a "full" tick) reads every count on screen; a timer tick only those due.
        targets = self._count_targets(
            all_visible=kind == "full", selected=kind != "focus", fresh=read.early is not None
        )
        counted = await self._fetch_counts([k for k in targets if k != read.early])
        return self.snapshot(requests=read.requests + counted, listed=read.listed)

    async def _first_page(self) -> tuple[int, str | None]:
        """The first page of a long first read is in: its top row's counts, then paint."""
        early: str | None = None
        wanted = [k for k in self._wanted() if k in self._by_id]
        if wanted:
            # The row the cursor lands on: KeyedTable keeps the cursor on it while the other
            # pages fill in, so these counts stay the ones on the bar.
            early = wanted[0]
            await self._fetch_counts([early])
        assert self.on_progress is not None
        made = early is not None
        self.on_progress(self.snapshot(requests=1 + made, listed=True, partial=True))
        return made, early

    def snapshot(self, *, requests: int = 0, listed: bool = False, partial: bool = False) -> JobsSnapshot:
        failures = self._failures
        sel = self._focus.selected
        hist = tuple(self._history.get(sel, ())) if sel else ()
        return JobsSnapshot(
            jobs=self._jobs or (),
            counts=MappingProxyType(dict(self._counts)),
            fetched_at=self.now(),
            list_fetched_at=self.listing.listed_at,
            selected=sel,
            history=hist,
            requests=requests,
            listed=listed,
            failures=len(failures) if requests else 0,
            failure=failures[-1] if failures and requests else None,
            partial=partial,
            list_error=self.listing.error,
        )

    def _jobs_changed(self, by_id: dict[str, Job]) -> None:
        """A new list: every job's state to the cadence; jobs that left are forgotten (so
        nothing accumulates over days)."""
        for key, job in by_id.items():
            self.cadence.job_seen(key, job.state)
        self.cadence.forget(set(by_id))
        for gone in [k for k in self._counts if k not in by_id]:
            del self._counts[gone]
        for gone in [k for k in self._history if k not in by_id]:
            del self._history[gone]

    def _wanted(self, *, fresh: bool = False) -> list[str]:
        """Jobs worth counts, the selected one first (``fresh``: the screen's window is stale)."""
        f = self._focus
        keys = [] if fresh else list(f.window)
        if not keys and self._jobs:
            keys = [j.id for j in default_job_order(self._jobs)[: self.initial_window] if j.id]
        pinned = [k for k in self.pinned() if k in self._by_id] if self.pinned else []
        if pinned:
            keys = [*pinned, *(k for k in keys if k not in pinned)]
        if f.selected:
            # First in line, so first through the semaphore: the count bar fills soonest.
            if f.selected in keys:
                keys.remove(f.selected)
            keys.insert(0, f.selected)
        return keys

    def _count_targets(self, *, all_visible: bool, selected: bool = True, fresh: bool = False) -> list[str]:
        targets: list[str] = []
        sel = self._focus.selected
        pinned = set(self.pinned()) if self.pinned else set()
        for key in self._wanted(fresh=fresh):
            job = self._by_id.get(key)
            if job is None:
                continue
            entry = self._counts.get(key)
            if entry is not None and entry.final:
                continue
            if (
                entry is None
                or all_visible
                or (selected and (key == sel or key in pinned))
                or (selected and self.cadence.due(key, self._tick_no))
            ):
                targets.append(key)
        return targets

    async def _fetch_counts(self, job_ids: Sequence[str]) -> int:
        if not job_ids:
            return 0
        gate = asyncio.Semaphore(self._in_flight)

        async def one(job_id: str) -> None:
            # Tasks start in order and the semaphore is FIFO: the first job is first on the wire.
            async with gate:
                try:
                    result = await self.client.get_task_counts(job_id)
                except BatchClientError as exc:
                    if isinstance(exc, BatchServiceError) and exc.code == "JobNotFound":
                        gone.append(job_id)  # deleted since the list was read: an answer
                        return
                    self._failures.append(exc)
                    prev = self._counts.get(job_id)
                    self._counts[job_id] = CountsEntry(
                        result=prev.result if prev else None,
                        fetched_at=prev.fetched_at if prev else None,
                        error=exc,
                    )
                    return
            self._store_counts(job_id, result)

        gone: list[str] = []
        await asyncio.gather(*(one(j) for j in job_ids))
        # Dropped now rather than shown (with an error) until the next list read.
        self.listing.drop(gone)
        return len(job_ids)

    def _store_counts(self, job_id: str, result: TaskCountsResult) -> None:
        job = self._by_id.get(job_id)
        if job is None:  # the job left the list while its counts were in flight
            return
        at = self.now()
        prev = self._counts.get(job_id)
        changed = prev is None or prev.result is None or prev.result != result
        self.cadence.read(job_id, self._tick_no, changed=changed)
        self._counts[job_id] = CountsEntry(result=result, fetched_at=at, final=job.state == "completed")
        ring = self._history.get(job_id)
        if ring is None:
            ring = self._history[job_id] = deque(maxlen=self.history_len)
        ring.append((at, result.task_counts))
        if self.history_store is not None:
            self.history_store.record(job_id, at.timestamp(), result.task_counts)

    # ------------------------------------------------------------------ exact recount

    async def recount(
        self, job_id: str, progress: Callable[[int, int], None] | None = None, *, page_size: int = 1000
    ) -> RecountResult:
        """Count a job's tasks by listing them all (the service's /taskcounts can lag)."""
        return await recount_tasks(
            self.client, job_id, progress, page_size=page_size, limits=self.recount_limits
        )
