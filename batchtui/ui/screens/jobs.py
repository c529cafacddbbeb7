"""Home: the account's jobs with their task counts, and the count bar of the selected job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType

from batchtui.batch.errors import BatchClientError
from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.refresh.history import trend
from batchtui.refresh.jobs import JobsMonitor, JobsSnapshot, completions_per_minute
from batchtui.refresh.pools import queued_hint
from batchtui.ui import action_plans
from batchtui.ui.acting import confirm_then_run, job_commands, say_read_only
from batchtui.ui.job_rows import COLUMNS, SORTS, CachedRow, fit_columns, job_rows
from batchtui.ui.messages import PoolHealthRead, RecountDone, RecountFailed, RecountProgress
from batchtui.ui.row_model import column_widths
from batchtui.ui.screens.base import PollingScreen, Refreshed
from batchtui.ui.text import clean
from batchtui.ui.watches import PoolWatch
from batchtui.ui.widgets.count_bar import BarData, CountBar, Recount
from batchtui.ui.widgets.keyed_table import KeyedTable, Row
from batchtui.ui.widgets.status_line import describe_error


class JobsScreen(PollingScreen):
    help_title: ClassVar[str] = "jobs"

    DEFAULT_CSS = """
    JobsScreen #jobs { height: 1fr; }
    JobsScreen.-stale CountBar { tint: $background 35%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "c",
            "recount",
            "Recount",
            show=False,
            tooltip="Count the selected job's tasks exactly by listing them",
        ),
        Binding(
            "asterisk",
            "pin",
            "Pin / unpin",
            key_display="*",
            show=False,
            tooltip="Pin or unpin the selected job: kept at the top, read every refresh, remembered",
        ),
        Binding(
            "ctrl+k",
            "terminate",
            "Terminate",
            show=False,
            tooltip="Terminate the selected job, or the marked ones (asks first)",
        ),
    ]

    def __init__(self, *, state: str | None = None) -> None:
        super().__init__()  # no fixed id: switching accounts opens one while the last one closes
        self.state = state
        self.monitor: JobsMonitor | None = None
        self.snapshot: JobsSnapshot | None = None
        self._cache: dict[str, CachedRow] = {}
        self._recount: Recount | None = None
        self._widths: dict[str, int] | None = None
        self._opened: str | None = None  # the job drilled into, until the first update back here
        self._filled = False  # a whole tick has been shown (before that, rows fill in: no highlight)
        # the pool under the selected job, while that job waits with nothing running
        self._pool = PoolWatch(self)
        self._by_id: tuple[tuple[Job, ...], dict[str, Job]] = ((), {})

    def crumbs(self) -> tuple[str, ...]:
        return ("jobs",) if not self.state else ("jobs", f"state {self.state}")

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="jobs", marks=True)
        yield CountBar(id="count-bar")

    def make_poller(self) -> JobsMonitor:
        app = self.batch_app
        table = self.table
        # A long first list is painted after its first page (Refreshed coalesces the stages).
        self.monitor = app.account.make_monitor(
            state=self.state,
            on_progress=lambda snap: self.post_message(Refreshed(snap)),
            view=lambda: (table.selected_key, table.key_window()),
        )
        return self.monitor

    def on_mount(self) -> None:
        # Runs before PollingScreen.on_mount (Textual calls both, subclass first), which opens
        # the poller on a table already set up.
        table = self.table
        table.set_columns(COLUMNS)
        table.set_sorts(SORTS)
        table.set_quiet_columns(["age"])
        table.focus()
        account = self.batch_app.account
        if account.latest is not None and self.state == account.state_filter:
            # Opened from the accounts overview (or :ctx): the account's watch has read it,
            # so its jobs show at once; this screen's own read follows and takes over.
            self.apply(account.latest)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        self.table.set_visible_columns(fit_columns(self.size.width, self._widths))
        bar = self.query_one(CountBar)
        bar.set_compact(self.size.height < 30)
        # Below 16 lines the bar's six would leave the table no row: one line, rows first.
        bar.set_collapsed(self.size.height < 16)

    # ------------------------------------------------------------------ snapshots

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, JobsSnapshot)
        snap = snapshot
        after_partial = self.snapshot is not None and self.snapshot.partial
        self.snapshot = snap
        table = self.table
        selected = table.selected_key
        with self.app.batch_update():
            rows = self._rows()
            if (snap.listed and not snap.partial) or self._widths is None:
                self._widths = column_widths(rows, COLUMNS)
                self._fit()
            table.apply_rows(rows, flash=self._filled)
            self._filled = self._filled or not snap.partial
            self._show_bar()
        if snap.partial:
            return  # the rest of the tick follows; the status line waits for its outcome
        if after_partial and self.monitor is not None:
            # The counts read were for the first page's view; the whole list may show other rows.
            self.monitor.focus(table.selected_key, table.key_window())
            if self.monitor.needs_counts():
                self.refresh_now("focus")
        if self.is_active:
            opened, self._opened = self._opened, None
            gone = selected is not None and selected not in table.rows_by_key
        else:
            opened, gone = None, False
        if gone and selected != opened:
            # The cursor moved because the job under it went away: say why (unless the job's
            # own screen, just closed, has said so already).
            why = "deleted" if not self.state else f"deleted, or no longer {self.state}"
            self.notify(
                f"Job {clean(selected)} is gone ({why}).", title="Job gone", severity="warning", markup=False
            )
        if snap.all_failed and snap.failure is not None:
            # Nothing new arrived: the freshness (and "offline since") must not restart; the
            # engine reports the failure (FetchFailed) and paces itself by it.
            return
        self.status.ok(snap.fetched_at)
        problem = snap.error or snap.list_error  # the list may have stopped at its bounds
        if problem is not None:
            self.status.failed(problem, snap.fetched_at)

    def on_keyed_table_highlighted(self, _message: KeyedTable.Highlighted) -> None:
        if self.monitor is None:
            return
        table = self.table
        self.monitor.focus(table.selected_key, table.key_window())
        self._show_bar()
        # While a first list is still read, the rest of that tick fetches what the cursor is on.
        if self.snapshot is not None and not self.snapshot.partial and self.monitor.needs_counts():
            self.refresh_now("focus")

    # ------------------------------------------------------------------ rows

    def _rows(self) -> list[Row]:
        snap = self.snapshot
        if snap is None:
            return []
        rows, self._cache = job_rows(
            snap, self.now(), pins=self.batch_app.account.pins, last=self._cache, style=self.table.state_style
        )
        return rows

    def restyle(self) -> None:
        # Colours are baked into the cells: rebuild them all, without the change highlight.
        self._cache.clear()
        self.table.apply_rows(self._rows(), flash=False)
        self._show_bar()

    # ------------------------------------------------------------------ the count bar

    def _show_bar(self) -> None:
        bar = self.query_one(CountBar)
        key = self.table.selected_key
        snap = self.snapshot
        if key is None or snap is None:
            bar.show(BarData())
            return
        entry = snap.counts.get(key)
        history = snap.history if snap.selected == key else ()
        counts = entry.result.task_counts if entry and entry.result else None
        account = self.batch_app.account
        seen = trend(account.history.get(key), counts, self.now().timestamp())
        queued = self._queued(key, entry.result if entry else None)
        bar.show(
            BarData(
                job_id=key,
                counts=entry.result if entry else None,
                fetched_at=entry.fetched_at if entry else None,
                error=describe_error(entry.error) if entry and entry.error else None,
                rate=seen.per_minute if seen.per_minute is not None else completions_per_minute(history),
                trend=seen,
                recount=self._recount if self._recount and self._recount.job_id == key else None,
                final=bool(entry and entry.final),
                queued=queued,
            )
        )

    # ------------------------------------------------------------------ pins

    def action_pin(self) -> None:
        key = self.table.selected_key
        if key is None:
            return
        pinned = self.batch_app.toggle_pin(key)
        self.restyle()  # the row moves to (or from) the top with its mark
        self.notify(f"{'Pinned' if pinned else 'Unpinned'} {clean(key)}", timeout=3, markup=False)
        if pinned and self.monitor is not None and self.monitor.needs_counts():
            self.refresh_now("focus")

    # ------------------------------------------------------------------ why is it queued?

    def _queued(self, key: str, counts: TaskCountsResult | None) -> str | None:
        """The hint for a job with active tasks and none running; watches its pool meanwhile."""
        job = self._jobs_by_id().get(key)
        tc = counts.task_counts if counts is not None else None
        waiting = job is not None and tc is not None and tc.active > 0 and tc.running == 0
        if job is None or not waiting or job.state not in ("active", "disabled", "disabling"):
            self._pool.watch(None)
            return None
        pool_id = job.effective_pool_id if job.state == "active" else None
        return queued_hint(job.state, self._pool.watch(pool_id))

    def _jobs_by_id(self) -> dict[str, Job]:
        snap = self.snapshot
        if snap is None:
            return {}
        if self._by_id[0] is not snap.jobs:
            self._by_id = (snap.jobs, {j.id: j for j in snap.jobs if j.id})
        return self._by_id[1]

    def on_pool_health_read(self, message: PoolHealthRead) -> None:
        message.stop()
        if self._pool.read(message.health):
            self._show_bar()

    def on_unmount(self) -> None:
        super().on_unmount()
        self._pool.close()

    # ------------------------------------------------------------------ exact recount

    def action_recount(self) -> None:
        key = self.table.selected_key
        if key is None or self.monitor is None:
            return
        self._recount = Recount(job_id=key)
        self._show_bar()
        self.run_worker(
            self._recount_job(key),
            group="recount",
            exclusive=True,
            exit_on_error=False,
            name=f"recount {key}",
        )

    async def _recount_job(self, job_id: str) -> None:
        assert self.monitor is not None

        def progress(listed: int, pages: int) -> None:
            self.post_message(RecountProgress(job_id, listed, pages))

        try:
            result = await self.monitor.recount(job_id, progress)
        except BatchClientError as exc:
            self.post_message(RecountFailed(job_id, exc))
            return
        now = self.now()
        self.post_message(RecountDone(job_id, result.result, now, result.listed, result.pages))

    def on_recount_progress(self, message: RecountProgress) -> None:
        if self._recount and self._recount.job_id == message.job_id and self._recount.result is None:
            self._recount = Recount(message.job_id, message.listed, message.pages)
            self._show_bar()

    def on_recount_done(self, message: RecountDone) -> None:
        if self._recount and self._recount.job_id == message.job_id:
            self._recount = Recount(message.job_id, message.listed, message.pages, message.result, message.at)
            self._show_bar()

    def on_recount_failed(self, message: RecountFailed) -> None:
        if self._recount and self._recount.job_id == message.job_id:
            self._recount = Recount(message.job_id, error=describe_error(message.error))
            self._show_bar()

    # ------------------------------------------------------------------ actions

    def chosen_jobs(self) -> list[tuple[Job, TaskCounts | None]]:
        """The marked jobs (or the selected one) with their task counts, as last read."""
        snap = self.snapshot
        if snap is None:
            return []
        by_id = {job.id: job for job in snap.jobs if job.id}
        out = []
        for key in self.chosen_keys():
            job = by_id.get(key)
            if job is not None:
                entry = snap.counts.get(key)
                out.append((job, entry.result.task_counts if entry and entry.result else None))
        return out

    def action_terminate(self) -> None:
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        jobs = self.chosen_jobs()
        if jobs:
            confirm_then_run(app, action_plans.terminate_jobs(jobs), on_confirmed=self.marks_acted_on)

    # ------------------------------------------------------------------ drill in

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        from batchtui.ui.screens.tasks import TasksScreen

        self._opened = message.key
        self.app.push_screen(TasksScreen(message.key))

    def system_commands(self) -> Iterator[SystemCommand]:
        yield from super().system_commands()
        yield SystemCommand(
            "Recount tasks exactly", "List the selected job's tasks and count them (c)", self.action_recount
        )
        yield SystemCommand(
            "Pin / unpin job (*)", "Keep the selected job at the top, read every refresh", self.action_pin
        )
        yield from job_commands(
            self.batch_app, self.chosen_jobs, where="selected (or marked)", on_confirmed=self.marks_acted_on
        )
