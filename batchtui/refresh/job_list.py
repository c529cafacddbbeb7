"""The job list as the jobs poller knows it, and how each tick reads it (issue 15.1).

A full read on the first tick and on ctrl+r; between them only the jobs that changed since the
last read (``$filter`` on ``lastModified`` / ``stateTransitionTime``, on the service's clock,
reaching back ``overlap`` seconds), then whole only those whose eTag moved; and now and then the
ids alone, the safety net for a job deleted outright. No counts here: the poller (jobs.py) owns
them, and hears of every new list through ``on_jobs`` so it can forget jobs that left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from batchtui.batch.errors import BatchClientError, ListingTooLong
from batchtui.batch.models import Job
from batchtui.job_order import state_filter
from batchtui.refresh.clock import utcnow

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

#: after the first page of a long first read: fetch the top row's counts and paint; returns
#: the requests it made and the job whose counts it read (None: none)
FirstPage = Callable[[], Awaitable[tuple[int, str | None]]]


class ListSettings(Protocol):
    """What the list is read by, asked at each read (the jobs poller holds them, and its owner
    may change them between ticks: the exporter sets ``full_every`` once it knows its pace)."""

    #: the ``--state`` filter (comma-separated states), or None for all
    state: str | None
    #: ticks between sweeps of the ids; None: 120 ticks, or more as the account grows
    full_every: int | None
    #: seconds a "changed since" read reaches back before the last read (clock skew, changes
    #: committed while the last read was in flight)
    overlap: float

    def list_filter(self) -> str | None:
        """The ``$filter`` of a full read (the exporter narrows it by time)."""
        ...


@dataclass(frozen=True, slots=True)
class ListRead:
    """What one tick's list read did."""

    requests: int = 0
    listed: bool = False  # the list was read (whole, changed-since or ids)
    early: str | None = None  # the job whose counts the first page already read


@dataclass
class JobList:
    client: BatchClient
    settings: ListSettings
    now: Callable[[], datetime] = utcnow
    #: told of every new list (the poller forgets the counts of jobs that left)
    on_jobs: Callable[[dict[str, Job]], None] = lambda _by_id: None

    jobs: tuple[Job, ...] | None = field(default=None, init=False)
    by_id: dict[str, Job] = field(default_factory=dict, init=False)
    listed_at: datetime | None = field(default=None, init=False)
    whole: bool = field(default=False, init=False)  # the last full read reached its end
    error: ListingTooLong | None = field(default=None, init=False)  # ... or its bounds
    _since: datetime | None = field(default=None, init=False)  # service time of the last read
    _ticks_since_full: int = field(default=0, init=False)
    _need_full: bool = field(default=False, init=False)  # a sweep found ids it does not know

    @property
    def unread(self) -> bool:
        """Never read, or the last read was cut short: read again on the next tick, any kind."""
        return self.jobs is None or not self.whole

    async def read(
        self, *, asked: bool, failures: list[BatchClientError], first_page: FirstPage | None
    ) -> ListRead:
        """Read the list as this tick should: ids, changed since, or whole (``asked``: ctrl+r).

        Failures are appended to ``failures``; only a whole read that fails outright raises."""
        full = self.unread or asked or self._since is None or self._need_full
        if not full and self._ticks_since_full >= self.full_period():
            # The safety net for what a "changed since" read cannot see (a job deleted
            # outright): the ids alone, ~30 bytes a job rather than ~350.
            self._ticks_since_full = 1
            return ListRead(1, await self._sweep(failures))
        if not full:
            self._ticks_since_full += 1
            return await self._read_changed(failures)
        self._need_full = False
        self._ticks_since_full = 1  # the full read is the first tick of its period
        since = self._service_now()
        if first_page is not None and self.jobs is None:
            pages, early = await self._first_read(failures, first_page)
            requests = pages
        else:
            requests, early = 1, None
            try:
                jobs = await self.client.list_jobs(
                    filter=self.settings.list_filter(), select=list(JOB_LIST_SELECT)
                )
                self.error = None
            except ListingTooLong as exc:
                # An endless list: show what was read, say so, and read it again only on the
                # next list tick.
                jobs = [j for j in exc.items if isinstance(j, Job)]
                self.error = exc
                failures.append(exc)
            self.set_jobs(tuple(jobs))
            self.whole = True
        if self.whole:
            self._since = since
        return ListRead(requests, True, early)

    def full_period(self) -> int:
        if self.settings.full_every is not None:
            return self.settings.full_every
        # The ids sweep costs ~30 bytes a job: rarer as the account grows (10,000 jobs: every
        # 1,000 ticks, ~80 minutes at 5 s), never more often than every 120 (10 minutes).
        return max(120, len(self.by_id) // 10)

    def set_jobs(self, jobs: tuple[Job, ...], *, keep_time: bool = False) -> None:
        """Hold ``jobs`` as the list (``keep_time``: a job dropped, not a read: its time stays)."""
        listed_at = self.listed_at
        self.jobs = jobs
        self.by_id = {j.id: j for j in jobs if j.id}
        self.listed_at = listed_at if keep_time else self.now()
        self.on_jobs(self.by_id)

    def drop(self, gone: Sequence[str]) -> None:
        """Jobs found deleted since the list was read (their counts answered 404)."""
        if gone and self.jobs is not None:
            self.set_jobs(tuple(j for j in self.jobs if j.id not in gone), keep_time=True)

    def _service_now(self) -> datetime:
        """Now on the service's clock (its last Date header), else on ours."""
        return self.client.service_time or self.now()

    async def _read_changed(self, failures: list[BatchClientError]) -> ListRead:
        """Ask only for the jobs changed since the last read; merge them into the list."""
        assert self._since is not None
        at = odata_time(self._since - timedelta(seconds=self.settings.overlap))
        # No state filter here: a job that left --state's states must come back to be dropped.
        changed_filter = f"lastModified ge {at} or stateTransitionTime ge {at}"
        started = self._service_now()
        requests = 1
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
                requests += 1
        except BatchClientError as exc:  # ListingTooLong included: the next tick asks again
            failures.append(exc)
            return ListRead(requests, False)
        self._since = started
        if changed:
            self._merge(changed)
        return ListRead(requests, True)

    async def _sweep(self, failures: list[BatchClientError]) -> bool:
        """Read the ids of every job: drop those gone; a full read next if any are new to us."""
        try:
            ids = await self.client.list_jobs(filter=state_filter(self.settings.state), select=["id"])
        except BatchClientError as exc:
            failures.append(exc)
            return False
        there = {j.id for j in ids if j.id}
        if there - set(self.by_id):
            self._need_full = True  # missed by the "changed since" reads: read them whole
        if set(self.by_id) - there and self.jobs is not None:
            self.set_jobs(tuple(j for j in self.jobs if j.id in there), keep_time=True)
        return True

    def _moved(self, job: Job) -> bool:
        """A job the list does not hold, or holds with another eTag (or none to compare)."""
        held = self.by_id.get(job.id or "")
        return held is None or held.e_tag is None or held.e_tag != job.e_tag

    def _merge(self, changed: Sequence[Job]) -> None:
        wanted = state_matcher(self.settings.state)
        by_id = dict(self.by_id)
        for job in changed:
            if not job.id:
                continue
            if wanted(job.state):
                by_id[job.id] = job
            else:
                by_id.pop(job.id, None)  # no longer one of the states asked for
        ordered = [by_id[j.id] for j in self.jobs or () if j.id in by_id]
        known = {j.id for j in ordered}
        ordered += [j for j in by_id.values() if j.id not in known]
        self.set_jobs(tuple(ordered))  # a read of what changed: the list is as of now

    async def _first_read(
        self, failures: list[BatchClientError], first_page: FirstPage
    ) -> tuple[int, str | None]:
        """Read the list page by page; after the first of several, ``first_page`` paints.

        Returns the requests made (pages, and what ``first_page`` asked) and the job whose
        counts were read early."""
        jobs: list[Job] = []
        pages = made = 0
        early: str | None = None
        self.whole = False
        self.error = None
        try:
            async for page in self.client.iter_job_pages(
                filter=self.settings.list_filter(), select=list(JOB_LIST_SELECT)
            ):
                pages += 1
                jobs.extend(page.items)
                if pages == 1 and page.next_link is not None:
                    self.set_jobs(tuple(jobs))
                    made, early = await first_page()
        except ListingTooLong as exc:
            self.error = exc  # the pages read are kept and shown
            failures.append(exc)
        self.set_jobs(tuple(jobs))
        self.whole = True
        return pages + made, early


def odata_time(when: datetime) -> str:
    """A date-time as the service's docs write it in $filter: DateTime'2026-12-01T10:00:00.0000000Z'."""
    utc = when.astimezone(UTC)
    return f"DateTime'{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}0Z'"


def state_matcher(state: str | None) -> Callable[[str | None], bool]:
    """Whether a job in some state belongs to ``--state`` (comma-separated states, or all)."""
    if not state:
        return lambda _s: True
    states = {s.strip() for s in state.split(",") if s.strip()}
    return lambda s: s in states
