"""The tasks of one job: state, exit code, result, retries, node, runtime; MPI tasks marked.

A job may hold 100,000 tasks, so this screen never lists them all: it asks only for the
columns it shows ($select), lets the service filter by state ($filter), and loads a capped
number of rows (see ``batchtui.refresh.task_query``); the status line says how many are loaded
and the cap grows when the operator scrolls near the bottom (or presses ``m``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from batchtui.batch.models import Job, TaskCountsResult
from batchtui.batch.task_models import Task
from batchtui.refresh.failures import FailureSummary
from batchtui.refresh.task_query import (
    CAP_STEP,
    INITIAL_CAP,
    STATE_FILTERS,
    TaskQuery,
    expected_total,
    load_note,
    near_bottom,
)
from batchtui.refresh.views import TasksPoller, TasksSnapshot, is_gone
from batchtui.ui.acting import job_commands
from batchtui.ui.messages import FailuresRead, FetchFailed
from batchtui.ui.row_reuse import RowReuse
from batchtui.ui.screens.task_actions import TaskActionsScreen
from batchtui.ui.task_rows import COLUMNS, SORTS, fit_columns, task_row, task_runtime
from batchtui.ui.task_rows import task_failed as task_failed  # where the tests find it
from batchtui.ui.text import clean, fmt_count
from batchtui.ui.watches import FailuresWatch
from batchtui.ui.widgets.failure_line import failure_line
from batchtui.ui.widgets.keyed_table import KeyedTable, Row


class TasksScreen(TaskActionsScreen):
    """The tasks of one job, filtered by state and capped; enter drills in."""

    help_title: ClassVar[str] = "tasks"

    DEFAULT_CSS = """
    TasksScreen #tasks-header {
        height: auto;
        max-height: 4;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        background: $panel;
    }
    TasksScreen #tasks { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open", tooltip="Subtasks of an MPI task, or the task's details"),
        Binding("d", "details", "Details", tooltip="Everything about the selected task"),
        Binding("l", "logs", "Logs", tooltip="The selected task's stdout (o: stderr, f: its other files)"),
        *[
            Binding(
                f.key,
                f"state('{f.name}')",
                f"Show {f.label} tasks",
                show=False,
                id=f"tasks.state.{f.name}",
                tooltip=f"$filter: {f.odata or '(none)'}",
            )
            for f in STATE_FILTERS
        ],
        Binding("0", "state('all')", "Show all tasks", show=False),
        Binding("m", "more", "Load more", show=False, tooltip="Load the next block of tasks"),
        Binding("n", "node", "Node", tooltip="The node the selected task ran or runs on"),
        Binding(
            "b", "bad_node", "Bad node", show=False, tooltip="Open the node holding most of the failures"
        ),
    ]

    def __init__(
        self, job_id: str, *, first: int = INITIAL_CAP, step: int = CAP_STEP, open_task: str | None = None
    ) -> None:
        """``first``/``step``: rows loaded up front and added per "more" (tests shrink them);
        ``open_task``: a task to drill into once it is loaded (``:task JOB TASK``)."""
        super().__init__()
        self.job_id = job_id
        self.open_task = open_task
        self.query_state = TaskQuery(first=first, step=step)
        self.job: Job | None = None
        self.counts: TaskCountsResult | None = None
        self.tasks: dict[str, Task] = {}
        self.has_more = False
        self._loaded_query: TaskQuery | None = None
        self.poller: TasksPoller | None = None
        self._cache: RowReuse[tuple[Task, float | None]] = RowReuse()
        self._loading = True
        self.failures: FailureSummary | None = None
        self._failures = FailuresWatch(self, job_id)

    @property
    def job_done(self) -> bool:
        """A completed job's tasks no longer change (short of a reactivation): polled slowly."""
        return self.job is not None and self.job.state == "completed"

    def make_poller(self) -> TasksPoller:
        self.poller = TasksPoller(self.batch_app.client, self.job_id, self.query_state, self.batch_app.now)
        return self.poller

    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, f"tasks ({self.query_state.state.label})")

    def compose_body(self) -> ComposeResult:
        yield Static(id="tasks-header")
        yield KeyedTable(id="tasks", marks=True)

    def on_mount(self) -> None:
        table = self.table
        table.set_columns(COLUMNS)
        # Runtimes move with the clock: a changed runtime is not news, do not flash it.
        table.set_quiet_columns(["runtime"])
        table.set_sorts(SORTS)
        self._fit()
        table.focus()
        self._show_header()
        self.status.note("loading tasks…")

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        mpi = any(t.is_multi_instance for t in self.tasks.values())
        self.table.set_visible_columns(fit_columns(self.size.width, mpi=mpi))

    # ------------------------------------------------------------------ snapshots

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, TasksSnapshot)
        message = snapshot
        if message.query.filter_name != self.query_state.filter_name or message.job_id != self.job_id:
            return  # an answer to a filter the operator has already left
        self._loading = False
        self._loaded_query = message.query
        self.job = message.job
        # The status line judges staleness against the interval the engine polls at.
        self.status.interval = self.refresh_interval()
        self.counts = message.counts
        self._failures.failed(self.counts.task_counts.failed if self.counts else 0)
        self.tasks = {t.id: t for t in message.tasks if t.id}
        self.has_more = message.has_more
        with self.app.batch_update():
            self.table.apply_rows(self._rows())
            self._fit()
            self._show_header()
        self.status.ok(message.fetched_at)
        self._show_note()
        if self.open_task is not None:
            self._open_asked_task(self.open_task)

    def _open_asked_task(self, task_id: str) -> None:
        self.open_task = None
        if task_id in self.tasks and self.table.select_key(task_id):
            self.post_message(KeyedTable.Chosen(self.table, task_id))
        else:
            self.notify(
                f"No task {clean(task_id)} among the {len(self.tasks):,} loaded tasks of {clean(self.job_id)}.",
                severity="warning",
                markup=False,
            )

    def on_fetch_failed(self, message: FetchFailed) -> None:
        if is_gone(message.error):
            # Every call here is under /jobs/{id}: a 404 means the job itself is gone.
            message.prevent_default()
            self.went_away(
                f"Job {clean(self.job_id)} no longer exists (deleted); back to the jobs.", "Job deleted"
            )

    # ------------------------------------------------------------------ failures

    def on_failures_read(self, message: FailuresRead) -> None:
        message.stop()
        if message.snapshot.job_id == self.job_id:
            self.failures = message.snapshot.summary
            self._show_header()

    def on_unmount(self) -> None:
        super().on_unmount()
        self._failures.close()

    def action_refresh_now(self) -> None:
        super().action_refresh_now()
        self._failures.refresh_now()  # ctrl+r reads the failures again too

    # ------------------------------------------------------------------ rows

    def _rows(self) -> list[Row]:
        now = self.now()
        style = self.table.state_style
        return self._cache.rows(
            ((key, (task, task_runtime(task, now))) for key, task in self.tasks.items()),
            lambda inputs: task_row(*inputs, style),
        )

    def restyle(self) -> None:
        self._cache.clear()
        self.table.apply_rows(self._rows(), flash=False)
        self._show_header()

    # ------------------------------------------------------------------ header and note

    def _show_header(self) -> None:
        parts: list[Content | str | tuple[str, str]] = [(clean(self.job_id), "bold")]
        job = self.job
        if job is not None:
            if job.display_name:
                parts += ["  ", Content(clean(job.display_name))]
            if job.state:
                parts += ["  ", (clean(job.state), "$text-muted")]
        counts = self.counts.task_counts if self.counts else None
        line2: list[Content | str | tuple[str, str]] = []
        if counts is not None:
            for name in ("active", "running", "succeeded", "failed"):
                n = getattr(counts, name)
                if line2:
                    line2.append("  ")
                line2 += [(fmt_count(n), f"bold $state-{name}" if n else "$text-muted"), f" {name}"]
            line2.append(f"  · {fmt_count(counts.total)} tasks · {counts.percent_complete:.0f}% complete")
        keys: list[Content | str | tuple[str, str]] = []
        current = self.query_state.filter_name
        for f in STATE_FILTERS:
            if keys:
                keys.append(" ")
            label = f" {f.key} {f.label} "
            keys.append((label, "reverse bold $accent" if f.name == current else "$text-muted"))
        line3 = failure_line(self.failures)
        content = Content.assemble(
            *parts, "\n", *line2, *(["\n"] if line2 else []), *line3, *(["\n"] if line3 else []), *keys
        )
        self.query_one("#tasks-header", Static).update(content)

    def _show_note(self) -> None:
        if self._loading:
            self.status.note(f"loading {self.query_state.state.label} tasks…")
            return
        counts = self.counts.task_counts if self.counts else None
        expected = expected_total(self.query_state.filter_name, counts)
        note = load_note(len(self.tasks), self.has_more, expected)
        if not self.tasks:
            label = self.query_state.state.label
            note = "this job has no tasks" if label == "all" else f"no {label} tasks"
        elif self.job_done:
            note = "; ".join(filter(None, (note, "job completed: refreshing slowly")))
        self.status.note(note)

    # ------------------------------------------------------------------ actions

    def _ask(self, query: TaskQuery) -> None:
        """The operator asks another question of the tasks: the poller reads it from now on."""
        self.query_state = query
        if self.poller is not None:
            self.poller.query = query

    def action_state(self, name: str) -> None:
        if name == self.query_state.filter_name:
            return
        self._ask(self.query_state.with_filter(name))
        self._loading = True
        self.tasks = {}
        self.has_more = False
        # The rows on screen answer another question now: drop them rather than mislead.
        self.table.apply_rows([], flash=False)
        self._show_header()
        self._show_note()
        self.update_title()
        self.refresh_now("filter")

    def action_more(self) -> None:
        if not self.has_more or self._loading or self._loaded_query != self.query_state:
            return
        self._ask(self.query_state.grown())
        self.status.note(f"loading up to {self.query_state.cap:,} tasks…")
        self.refresh_now("more")

    def on_keyed_table_highlighted(self, _message: KeyedTable.Highlighted) -> None:
        table = self.table
        # Only a full, unfiltered view has a meaningful bottom; a narrowed one would keep
        # asking for more without the operator ever getting there.
        if table.visible_count == table.total_count and near_bottom(table.cursor_row, table.visible_count):
            self.action_more()

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        message.stop()
        task = self.tasks.get(message.key)
        if task is None:
            return
        if task.is_multi_instance:
            from batchtui.ui.screens.subtasks import SubtasksScreen

            self.app.push_screen(SubtasksScreen(self.job_id, message.key))
        else:
            self._open_details(task)

    def action_details(self) -> None:
        key = self.table.selected_key
        task = self.tasks.get(key) if key is not None else None
        if task is not None:
            self._open_details(task)

    def action_logs(self) -> None:
        from batchtui.ui.screens.logs import open_task_log

        key = self.table.selected_key
        task = self.tasks.get(key) if key is not None else None
        if task is not None:
            open_task_log(self.app, self.job_id, task)

    def action_node(self) -> None:
        from batchtui.ui.screens.node_detail import open_node

        key = self.table.selected_key
        task = self.tasks.get(key) if key is not None else None
        if task is not None:
            open_node(self, task.node_info, f"Task {clean(task.id)}")

    def action_bad_node(self) -> None:
        from batchtui.ui.screens.node_detail import open_bad_node

        open_bad_node(self, self.failures, "this job's failures")

    def _open_details(self, task: Task) -> None:
        from batchtui.ui.screens.task_detail import TaskDetailScreen

        self.app.push_screen(TaskDetailScreen(self.job_id, task, self.now()))

    def system_commands(self) -> Iterator[SystemCommand]:
        yield from super().system_commands()
        yield from self._task_commands()
        yield from job_commands(self.batch_app, self.chosen_job, where="this")
        for f in STATE_FILTERS:
            yield SystemCommand(
                f"Show {f.label} tasks",
                f"Filter the task list by state ({f.key})",
                lambda name=f.name: self.action_state(name),
            )
        yield SystemCommand("Task details", "Everything about the selected task (d)", self.action_details)
        yield SystemCommand("Node of the task", "The node the selected task ran on (n)", self.action_node)
        yield SystemCommand(
            "Likely bad node", "The node holding most of the failures (b)", self.action_bad_node
        )
        yield SystemCommand("Load more tasks", "Load the next block of tasks (m)", self.action_more)
