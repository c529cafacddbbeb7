"""The ranks of one multi-instance (MPI) task: who runs where, who failed, who straggles.

The header says what the task is (id, state, instance count, coordination command line),
sums the ranks up ("6/8 running, 1 failed, 1 preparing") and raises the two classic MPI
failures (a rank died while the others keep running; a straggler). The table has one row
per rank; the pane below shows everything the service says about the selected one.

The service lists ranks 1..n-1 under ``subtasksinfo``; the primary (rank 0) is the task
itself, so its row is built from the task when the list leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from batchtui.batch.errors import BatchServiceError
from batchtui.batch.task_models import Subtask, Task
from batchtui.refresh.failures import Failure, FailureSummary
from batchtui.refresh.failures import summarize as summarize_failures
from batchtui.refresh.views import SubtasksPoller, SubtasksSnapshot, is_gone
from batchtui.ui import action_plans
from batchtui.ui.acting import confirm_then_run, say_read_only
from batchtui.ui.messages import FetchFailed
from batchtui.ui.rank_rows import COLUMNS, SORTS, RankRow, fit_columns, rank_rows
from batchtui.ui.ranks import Rank, RankAlert, collect_ranks, detect_alerts, summarize
from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.text import clean
from batchtui.ui.widgets.failure_line import failure_line
from batchtui.ui.widgets.keyed_table import KeyedTable, Row
from batchtui.ui.widgets.subtask_detail import SubtaskDetail


class SubtasksScreen(PollingScreen):
    """One row per rank of a multi-instance task, with a detail pane and MPI failure flags."""

    help_title: ClassVar[str] = "subtasks"

    DEFAULT_CSS = """
    SubtasksScreen #subtasks-header {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        /* One line each; the full command lines are in the primary's detail. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SubtasksScreen #subtasks-alerts {
        height: auto;
        max-height: 4;
        padding: 0 1;
        display: none;
    }
    SubtasksScreen #subtasks-alerts.-shown { display: block; }
    SubtasksScreen #subtasks { height: 1fr; min-height: 4; }
    SubtasksScreen SubtaskDetail { height: 1fr; min-height: 6; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "logs", "Logs", tooltip="The selected rank's stdout, through its node (o: stderr)"),
        Binding("n", "node", "Node", tooltip="The node the selected rank ran or runs on"),
        Binding("b", "bad_node", "Bad node", show=False, tooltip="Open the node holding most failed ranks"),
        Binding(
            "tab",
            "focus_detail",
            "Detail pane",
            show=False,
            tooltip="Move between the rank table and the detail pane (to scroll it)",
        ),
        Binding(
            "ctrl+k",
            "terminate",
            "Terminate the task",
            show=False,
            tooltip="Terminate this multi-instance task: all its ranks stop (asks first)",
        ),
    ]

    def __init__(self, job_id: str, task_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.task_id = task_id
        self.mpi_task: Task | None = None
        self.subtasks: dict[str, Subtask] = {}
        self.ranks: dict[str, Rank] = {}
        self.alerts: list[RankAlert] = []
        self.failures: FailureSummary | None = None
        self.is_finished = False
        self._rank_rows: dict[str, RankRow] = {}  # by rank key: the rows of the last pass

    def crumbs(self) -> tuple[str, ...]:
        return ("jobs", self.job_id, "tasks", self.task_id, "subtasks")

    def compose_body(self) -> ComposeResult:
        yield Static(Content.styled("loading the task…", "$text-muted"), id="subtasks-header")
        yield Static(id="subtasks-alerts")
        yield KeyedTable(id="subtasks")
        yield SubtaskDetail(id="subtask-detail")

    def on_mount(self) -> None:
        table = self.table
        table.set_columns(COLUMNS)
        table.set_quiet_columns(["runtime"])
        table.set_sorts(SORTS)
        table.set_visible_columns(fit_columns(self.size.width))
        table.focus()

    def on_resize(self) -> None:
        self.table.set_visible_columns(fit_columns(self.size.width))

    def make_poller(self) -> SubtasksPoller:
        app = self.batch_app
        return SubtasksPoller(app.client, self.job_id, self.task_id, app.now)

    # ------------------------------------------------------------------ snapshots

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, SubtasksSnapshot)
        message = snapshot
        task = message.task
        self.mpi_task = task
        now = self.now()
        ranks = collect_ranks(task, message.subtasks)
        self.ranks = {str(r.id): r for r in ranks}
        self.subtasks = {str(s.id): s for s in message.subtasks if s.id is not None}
        self.alerts = detect_alerts(ranks, now)
        self.failures = summarize_failures(self._rank_failures(ranks, task))
        self.is_finished = message.finished
        # The status line judges staleness against the interval the engine polls at.
        self.status.interval = self.refresh_interval()
        with self.app.batch_update():
            self.table.apply_rows(self._rows(ranks, now))
            self._show_header(ranks)
            self._show_alerts()
            self._show_detail()
        self.status.ok(message.fetched_at)
        self.status.note("finished: refreshing slowly" if self.is_finished else "")

    def on_fetch_failed(self, message: FetchFailed) -> None:
        error = message.error
        if not (is_gone(error) and isinstance(error, BatchServiceError)):
            return
        message.prevent_default()
        # A deleted job is reported by the tasks screen underneath, which finds out at once.
        text = f"Task {clean(self.task_id)} no longer exists (deleted); back to the tasks."
        self.went_away(None if error.code == "JobNotFound" else text, "Task deleted")

    # ------------------------------------------------------------------ rows

    def _rows(self, ranks: Sequence[Rank], now: datetime) -> list[Row]:
        rows, self._rank_rows = rank_rows(
            ranks,
            now,
            task=self.mpi_task,
            subtasks=self.subtasks,
            alerts=self.alerts,
            last=self._rank_rows,
            style=self.table.state_style,
            utc=self.batch_app.utc,
        )
        return rows

    def restyle(self) -> None:
        # Colours are baked into the cells: rebuild them all, without the change highlight.
        self._rank_rows.clear()
        if self.mpi_task is not None:
            now = self.now()
            ranks = list(self.ranks.values())
            self.table.apply_rows(self._rows(ranks, now), flash=False)
            self._show_header(ranks)

    # ------------------------------------------------------------------ header, alerts, detail

    def _show_header(self, ranks: Sequence[Rank]) -> None:
        task = self.mpi_task
        if task is None:
            return
        mis = task.multi_instance_settings
        n = mis.number_of_instances if mis else None
        state = task.state or "?"
        colour = (
            "$state-failed"
            if task.result == "failure"
            else (
                "$state-succeeded"
                if state == "completed"
                else "$state-running"
                if state == "running"
                else "$state-active"
            )
        )
        line1: list[Content | str | tuple[str, str]] = [
            ("task ", "$text-muted"),
            (clean(task.id), "bold"),
            "  ",
            (clean(state), f"bold {colour}"),
        ]
        if task.exit_code is not None:
            line1 += [("  exit ", "$text-muted"), str(task.exit_code)]
        line1 += [("  instances ", "$text-muted"), str(n) if n is not None else "?"]
        pool = task.node_info.pool_id if task.node_info else None
        if pool:
            line1 += [("  pool ", "$text-muted"), Content(clean(pool))]
        if mis is None:
            line1.append(("  (not a multi-instance task)", "$warning"))
        if task.display_name:
            line1 += ["  ", (clean(task.display_name), "$text-muted")]
        coordination = mis.coordination_command_line if mis else None
        line2: list[Content | str | tuple[str, str]] = [
            ("coordination ", "$text-muted"),
            Content(clean(coordination)) if coordination else ("(none)", "$text-muted"),
        ]
        summary = summarize(ranks, n)
        line3: list[Content | str | tuple[str, str]] = [("ranks ", "$text-muted")]
        running = summary.count("running")
        line3.append((f"{running}/{summary.total} running", "bold $state-running" if running else ""))
        for category, count in summary.counts:
            if category == "running":
                continue
            style = {
                "failed": "bold $state-failed",
                "succeeded": "$state-succeeded",
                "preparing": "$state-active",
                "waiting": "$text-muted",
            }.get(category, "$warning")
            line3 += [", ", (f"{count} {clean(category)}", style)]
        content = Content.assemble(*line1, "\n", *line2, "\n", *line3)
        self.query_one("#subtasks-header", Static).update(content)

    def _rank_failures(self, ranks: Sequence[Rank], task: Task) -> list[Failure]:
        pool = task.node_info.pool_id if task.node_info else None
        return [Failure(str(r.id), r.failure_code, r.exit_code, pool, r.node_id) for r in ranks if r.failed]

    def _show_alerts(self) -> None:
        box = self.query_one("#subtasks-alerts", Static)
        # One failed rank is already in the header's summary and in its own alert below.
        many = self.failures is not None and (self.failures.total > 1 or self.failures.bad_node is not None)
        summary = failure_line(self.failures, label="ranks: ") if many else []
        if not self.alerts and not summary:
            box.remove_class("-shown")
            box.update("")
            return
        lines = [Content.assemble(*summary)] if summary else []
        for alert in self.alerts:
            style = "bold $error" if alert.kind == "rank-failed" else "bold $warning"
            # The message quotes the service's failure code: control characters made visible.
            lines.append(Content.assemble(("⚠ ", style), (clean(alert.message), style)))
        box.update(Content("\n").join(lines))
        box.add_class("-shown")

    def _show_detail(self) -> None:
        detail = self.query_one(SubtaskDetail)
        key = self.table.selected_key
        rank = self.ranks.get(key) if key is not None else None
        now = self.now()
        if rank is None:
            detail.show_nothing("no ranks listed yet" if not self.ranks else "select a rank")
        elif rank.primary and self.mpi_task is not None:
            detail.show_primary(self.mpi_task, now)
        elif (sub := self.subtasks.get(key or "")) is not None:
            detail.show_subtask(sub, now)
        detail.border_title = f"rank {key}" if key is not None else "detail"

    def on_keyed_table_highlighted(self, _message: KeyedTable.Highlighted) -> None:
        if self.mpi_task is not None:
            self._show_detail()

    def action_node(self) -> None:
        from batchtui.ui.screens.node_detail import open_node

        key = self.table.selected_key
        rank = self.ranks.get(key) if key is not None else None
        if rank is None:
            return
        sub = self.subtasks.get(key or "")
        task = self.mpi_task
        info = (
            sub.node_info
            if sub is not None
            else (task.node_info if task is not None and rank.primary else None)
        )
        open_node(self, info, f"Rank {rank.id}")

    def action_bad_node(self) -> None:
        from batchtui.ui.screens.node_detail import open_bad_node

        open_bad_node(self, self.failures, "the failed ranks")

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        # enter on a rank: put the keyboard in its detail pane (to scroll a long failure).
        message.stop()
        self.action_focus_detail()

    def action_back(self) -> None:
        # escape in the detail pane returns to the ranks; from the table it goes back as usual.
        detail = self.query_one(SubtaskDetail)
        if detail.has_focus or detail.has_focus_within:
            self.table.focus()
            return
        super().action_back()

    def action_logs(self) -> None:
        from batchtui.ui.screens.logs import open_rank_log

        key = self.table.selected_key
        if key is not None and key.isdigit():
            open_rank_log(
                self.app, self.job_id, self.mpi_task, self.task_id, int(key), self.subtasks.get(key)
            )

    def action_focus_detail(self) -> None:
        if self.has_class("-filtering"):
            return  # the filter box has the keyboard until enter or escape
        detail = self.query_one(SubtaskDetail)
        if detail.has_focus_within or detail.has_focus:
            self.table.focus()
        else:
            detail.focus()

    def action_terminate(self) -> None:
        """ctrl+k: the ranks are not tasks of their own; terminating the MPI task stops them all."""
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        if self.mpi_task is None:
            return
        running = sum(1 for r in self.ranks.values() if r.category == "running")
        confirm_then_run(
            app, action_plans.terminate_tasks(self.job_id, [self.mpi_task], running_ranks=running)
        )

    def system_commands(self) -> Iterator[SystemCommand]:
        yield from super().system_commands()
        yield SystemCommand(
            "Detail pane", "Move between the rank table and its detail (tab)", self.action_focus_detail
        )
        if not self.batch_app.readonly:
            yield SystemCommand(
                "Terminate this MPI task (ctrl+k)",
                f"Terminate {self.task_id}: every one of its ranks stops",
                self.action_terminate,
            )
        yield SystemCommand("Node of the rank", "The node the selected rank ran on (n)", self.action_node)
        yield SystemCommand("Likely bad node", "The node holding most failed ranks (b)", self.action_bad_node)
