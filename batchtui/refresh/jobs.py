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

Connections (issue 15.3, bench/handshakes.py): httpcore hands a request the first idle
connection in its pool, so a connection is kept only while some tick needs that many at
once, and closes after ``KEEPALIVE_SECONDS`` (120 s) without one; the next tick that reads
that many counts at once pays a TLS handshake for each connection it reopens. With 32 in
flight, ticks of 20-35 counts came once in a while and an hour of refreshing paid 177
handshakes at rest; with 2, the second connection still idled out in a world whose jobs on
screen had all completed (only the list read each tick) and was reopened by the next tick
with new jobs: 5 an hour. One at a time: the one connection carries every tick's list read,
so it never idles out. The price is a round trip per count on a busy tick (~12 on a screen of
moving jobs), well inside an interval, the selected job's first. Keep-alive cannot grow
instead (Azure's load balancers drop a flow idle ~4 minutes). The first tick has no
connection to reuse and reads a whole screen of counts at once (``concurrency``): what it
opens beyond one closes unused, without a handshake. A ctrl+r or a "focus" tick (rows that
came into view without counts: scrolled to, or new in the list) may reopen up to three more
(bench/README.md counts one such handshake in 25 minutes of a moving world).

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
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from batchtui.batch.errors import BatchClientError, BatchServiceError, ListingTooLong
from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.batch.paging import ListLimits
from batchtui.job_order import default_job_order, state_filter
from batchtui.refresh.cadence import CountsCadence
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PartialFailure
from batchtui.refresh.history import HistoryStore
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

#: properties the job list shows (poolInfo/executionInfo: pool ids incl. auto-pools, scheduling errors)
JOB_LIST_SELECT: tuple[str, ...] = (
    "id",
    "displayName",
    "state",
    "poolInfo",
    "priority",
    "creationTime",
    "stateTransitionTime",
    "executionInfo",
    "eTag",  # so a "changed since" read can tell a job it already holds from one that changed
)
#: what a "changed since" read asks for: enough to tell which jobs really changed
CHANGED_SELECT: tuple[str, ...] = ("id", "eTag", "state", "lastModified", "stateTransitionTime")
#: ids per follow-up read of the jobs that did change (an `id eq ... or ...` filter)
IDS_PER_READ = 20

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

    _jobs: tuple[Job, ...] | None = field(default=None, init=False)
    _by_id: dict[str, Job] = field(default_factory=dict, init=False)
    _list_at: datetime | None = field(default=None, init=False)
    _counts: dict[str, CountsEntry] = field(default_factory=dict, init=False)
    _history: dict[str, deque[tuple[datetime, TaskCounts]]] = field(default_factory=dict, init=False)
    _focus: _Focus = field(default_factory=_Focus, init=False)
    _ticks: int = field(default=0, init=False)
    _tick_no: int = field(default=0, init=False)  # the timer tick being run (cadence counts these)
    cadence: CountsCadence = field(default_factory=CountsCadence)
    _failures: list[BatchClientError] = field(default_factory=list, init=False)
    _list_whole: bool = field(default=False, init=False)  # the last list read reached its end
    _list_error: ListingTooLong | None = field(default=None, init=False)  # ... or its bounds
    _since: datetime | None = field(default=None, init=False)  # service time of the last read
    _ticks_since_full: int = field(default=0, init=False)
    _need_full: bool = field(default=False, init=False)  # a sweep found ids it does not know
    _extra_requests: int = field(default=0, init=False)  # follow-up reads of the last changed read
    _in_flight: int = field(default=1, init=False)  # counts requests at once, this tick

    def __post_init__(self) -> None:
        # A job whose counts move is read every ``counts_every`` ticks (cadence.py).
        self.cadence.min_gap = max(1, self.counts_every)
        self.cadence.max_gap = max(self.cadence.max_gap, self.cadence.min_gap)

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
        requests = 0
        listed = False
        self._failures = []
        # A list read cut short (a page failed) is read again on the next tick, whatever kind.
        unread = self._jobs is None or not self._list_whole
        self._in_flight = (
            self.concurrency
            if self._jobs is None
            else self.steady_concurrency
            if kind == "timer"
            else self.asked_concurrency
        )
        self._tick_no = self._ticks
        if kind == "timer":
            list_now = unread or self._ticks % self.list_every == 0
            self._ticks += 1
        else:
            list_now = kind == "full" or unread
        early: str | None = None
        full = unread or kind == "full" or self._since is None or self._need_full
        sweep = not full and self._ticks_since_full >= self._full_period()
        if list_now and sweep:
            # The safety net for what a "changed since" read cannot see (a job deleted outright):
            # the ids alone, ~30 bytes a job rather than ~350.
            requests += 1
            listed = await self._sweep()
            self._ticks_since_full = 1
        elif list_now and not full:
            # Between full reads, only the jobs that changed (issue 15.1): one small page.
            self._extra_requests = 0
            listed = await self._read_changed()
            requests += 1 + self._extra_requests
            self._ticks_since_full += 1
        elif list_now:
            listed = True
            self._need_full = False
            self._ticks_since_full = 1  # the full read is the first tick of its period
            since = self._service_now()
            if self.on_progress is not None and self._jobs is None:
                pages, early = await self._first_read()
                requests += pages + (early is not None)
            else:
                requests += 1
                try:
                    jobs = await self.client.list_jobs(
                        filter=self.list_filter(), select=list(JOB_LIST_SELECT)
                    )
                    self._list_error = None
                except ListingTooLong as exc:
                    # An endless list: show what was read, say so, and read it again only on
                    # the next list tick.
                    jobs = [j for j in exc.items if isinstance(j, Job)]
                    self._list_error = exc
                    self._failures.append(exc)
                self._set_jobs(tuple(jobs))
                self._list_whole = True
            if self._list_whole:
                self._since = since
        # A focus tick is for rows that scrolled into view without counts; the selected job's
        # were read on the last timer tick (bench/refresh_cost.py counted the extra read).
        # ctrl+r (a "full" tick) reads every count on screen; a timer tick only those due.
        targets = self._count_targets(
            all_visible=kind == "full", selected=kind != "focus", fresh=early is not None
        )
        requests += await self._fetch_counts([k for k in targets if k != early])
        return self.snapshot(requests=requests, listed=listed)

    def _full_period(self) -> int:
        if self.full_every is not None:
            return self.full_every
        # The ids sweep costs ~30 bytes a job: rarer as the account grows (10,000 jobs: every
        # 1,000 ticks, ~80 minutes at 5 s), never more often than every 120 (10 minutes).
        return max(120, len(self._by_id) // 10)

    def _service_now(self) -> datetime:
        """Now on the service's clock (its last Date header), else on ours."""
        return self.client.service_time or self.now()

    async def _read_changed(self) -> bool:
        """Ask only for the jobs changed since the last read; merge them into the list.

        False when the read failed (the failure is kept for the snapshot)."""
        assert self._since is not None
        since = self._since - timedelta(seconds=self.overlap)
        at = _odata_time(since)
        # No state filter here: a job that left --state's states must come back to be dropped.
        changed_filter = f"lastModified ge {at} or stateTransitionTime ge {at}"
        started = self._service_now()
        try:
            # Small first: the overlap brings back jobs already held, and a busy account has
            # dozens in it; only those whose eTag moved are then read whole.
            seen = await self.client.list_jobs(filter=changed_filter, select=list(CHANGED_SELECT))
            stale = [j.id for j in seen if j.id and self._moved(j)]
            changed: list[Job] = []
            for k in range(0, len(stale), IDS_PER_READ):
                ids = " or ".join(
                    f"id eq '{i.replace(chr(39), chr(39) * 2)}'" for i in stale[k : k + IDS_PER_READ] if i
                )
                changed += await self.client.list_jobs(filter=ids, select=list(JOB_LIST_SELECT))
                self._extra_requests += 1
        except ListingTooLong as exc:
            self._failures.append(exc)
            return False
        except BatchClientError as exc:
            self._failures.append(exc)
            return False
        self._since = started
        if changed:
            self._merge(changed)
        return True

    async def _sweep(self) -> bool:
        """Read the ids of every job: drop those gone; a full read next if any are new to us."""
        try:
            ids = await self.client.list_jobs(filter=state_filter(self.state), select=["id"])
        except BatchClientError as exc:
            self._failures.append(exc)
            return False
        there = {j.id for j in ids if j.id}
        if there - set(self._by_id):
            self._need_full = True  # missed by the "changed since" reads: read them whole
        if set(self._by_id) - there and self._jobs is not None:
            listed_at = self._list_at
            self._set_jobs(tuple(j for j in self._jobs if j.id in there))
            self._list_at = listed_at
        return True

    def _moved(self, job: Job) -> bool:
        """A job the list does not hold, or holds with another eTag (or none to compare)."""
        held = self._by_id.get(job.id or "")
        return held is None or held.e_tag is None or held.e_tag != job.e_tag

    def _merge(self, changed: Sequence[Job]) -> None:
        wanted = _state_matcher(self.state)
        by_id = dict(self._by_id)
        for job in changed:
            if not job.id:
                continue
            if wanted(job.state):
                by_id[job.id] = job
            else:
                by_id.pop(job.id, None)  # no longer one of the states asked for
        listed_at = self._list_at
        ordered = [by_id[j.id] for j in self._jobs or () if j.id in by_id]
        known = {j.id for j in ordered}
        ordered += [j for j in by_id.values() if j.id not in known]
        self._set_jobs(tuple(ordered))
        if listed_at is not None:
            self._list_at = self.now()

    async def _first_read(self) -> tuple[int, str | None]:
        """Read the list page by page; show the first page (with its top job's counts) at once.

        Returns the pages read and the job whose counts were read early (None: one page).
        """
        jobs: list[Job] = []
        pages = 0
        early: str | None = None
        self._list_whole = False
        self._list_error = None
        try:
            async for page in self.client.iter_job_pages(
                filter=self.list_filter(), select=list(JOB_LIST_SELECT)
            ):
                pages += 1
                jobs.extend(page.items)
                if pages == 1 and page.next_link is not None:
                    self._set_jobs(tuple(jobs))
                    wanted = [k for k in self._wanted() if k in self._by_id]
                    if wanted:
                        # The row the cursor lands on: KeyedTable keeps the cursor on it while
                        # the other pages fill in, so these counts stay the ones on the bar.
                        early = wanted[0]
                        await self._fetch_counts([early])
                    assert self.on_progress is not None
                    made = pages + (early is not None)
                    self.on_progress(self.snapshot(requests=made, listed=True, partial=True))
        except ListingTooLong as exc:
            self._list_error = exc  # the pages read are kept and shown
            self._failures.append(exc)
        self._set_jobs(tuple(jobs))
        self._list_whole = True
        return pages, early

    def snapshot(self, *, requests: int = 0, listed: bool = False, partial: bool = False) -> JobsSnapshot:
        failures = self._failures
        sel = self._focus.selected
        hist = tuple(self._history.get(sel, ())) if sel else ()
        return JobsSnapshot(
            jobs=self._jobs or (),
            counts=MappingProxyType(dict(self._counts)),
            fetched_at=self.now(),
            list_fetched_at=self._list_at,
            selected=sel,
            history=hist,
            requests=requests,
            listed=listed,
            failures=len(failures) if requests else 0,
            failure=failures[-1] if failures and requests else None,
            partial=partial,
            list_error=self._list_error,
        )

    def _set_jobs(self, jobs: tuple[Job, ...]) -> None:
        self._jobs = jobs
        self._by_id = {j.id: j for j in jobs if j.id}
        self._list_at = self.now()
        for job in jobs:
            if job.id:
                self.cadence.job_seen(job.id, job.state)
        # Forget jobs that left the list so nothing accumulates over days.
        self.cadence.forget(set(self._by_id))
        for gone in [k for k in self._counts if k not in self._by_id]:
            del self._counts[gone]
        for gone in [k for k in self._history if k not in self._by_id]:
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
        if gone and self._jobs is not None:
            # Drop it now rather than show a row (and an error) for a job that no longer
            # exists until the next list; the list's time stays that of the last real read.
            listed_at = self._list_at
            self._set_jobs(tuple(j for j in self._jobs if j.id not in gone))
            self._list_at = listed_at
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


def _odata_time(when: datetime) -> str:
    """A date-time as the service's docs write it in $filter: DateTime'2026-12-01T10:00:00.0000000Z'."""
    utc = when.astimezone(UTC)
    return f"DateTime'{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z'"


def _state_matcher(state: str | None) -> Callable[[str | None], bool]:
    """Whether a job in some state belongs to ``--state`` (comma-separated states, or all)."""
    if not state:
        return lambda _s: True
    states = {s.strip() for s in state.split(",") if s.strip()}
    return lambda s: s in states
