"""One node: its errors (code, message, every detail), its start task (state, exit code, failure
info), what it is (VM size, agent version, addresses), and its recent tasks, each a jump to the
task (enter). A node that is gone says so, and keeps what was last known of it on screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from batchtui.batch.errors import BatchServiceError
from batchtui.batch.pools import Node, RecentTask
from batchtui.batch.task_models import NodeInfo
from batchtui.refresh.failures import FailureSummary
from batchtui.refresh.pools import NodePoller, NodeSnapshot
from batchtui.refresh.views import is_gone
from batchtui.ui.messages import FetchFailed
from batchtui.ui.screens.node_actions import NodeActionsScreen
from batchtui.ui.screens.nodes import state_colour
from batchtui.ui.text import clean, literal
from batchtui.ui.when import when_text
from batchtui.ui.widgets.keyed_table import KeyedTable, Row
from batchtui.ui.widgets.node_sections import known_sections, node_sections
from batchtui.ui.widgets.subtask_detail import SubtaskDetail

COLUMNS: tuple[tuple[str, str], ...] = (
    ("job", "Job"),
    ("task", "Task"),
    ("rank", "Rank"),
    ("state", "State"),
    ("exit", "Exit"),
    ("result", "Result"),
    ("start", "Start"),
    ("end", "End"),
)
SORTS: tuple[str, ...] = ("latest", "job")


def recent_key(r: RecentTask, i: int) -> str:
    rank = f"/{r.subtask_id}" if r.subtask_id is not None else ""
    return f"{r.job_id}/{r.task_id}{rank}#{i}"


class NodeDetailScreen(NodeActionsScreen):
    """A node in full, kept live; enter on a recent task opens it; B, D, E, X act on the node."""

    help_title: ClassVar[str] = "node"
    compact_footer: ClassVar[bool] = True  # its footer also holds the start task's log

    DEFAULT_CSS = """
    NodeDetailScreen #node-header {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
    }
    NodeDetailScreen #node-header.-gone { color: $warning; }
    NodeDetailScreen SubtaskDetail { height: 1fr; min-height: 6; }
    NodeDetailScreen #node-recent { height: 12; min-height: 4; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open task", tooltip="Open the selected recent task"),
        Binding("tab", "focus_detail", "Detail pane", show=False, tooltip="Scroll the node's details"),
        Binding(
            "l", "start_task_log", "Start task log", tooltip="The start task's stdout and stderr (o switches)"
        ),
    ]

    def __init__(self, pool_id: str, node_id: str, *, known: NodeInfo | None = None) -> None:
        """``known``: what the task that sent us here knew of the node (shown if it is gone)."""
        super().__init__()
        self.pool_id = pool_id
        self.node_id = node_id
        self.known = known
        self.node: Node | None = None
        self.gone: str | None = None  # why the node cannot be read any more
        self._recent: dict[str, RecentTask] = {}

    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "nodes", self.node_id)

    def compose_body(self) -> ComposeResult:
        yield Static(Content.styled("loading the node…", "$text-muted"), id="node-header")
        yield SubtaskDetail(id="node-detail")
        yield KeyedTable(id="node-recent")

    def make_poller(self) -> NodePoller:
        app = self.batch_app
        return NodePoller(app.client, self.pool_id, self.node_id, app.now)

    def on_mount(self) -> None:
        table = self.table
        table.set_columns(COLUMNS)
        table.set_sorts(SORTS)
        table.focus()
        detail = self.query_one(SubtaskDetail)
        detail.border_title = "node"
        detail.show_nothing("loading…")

    # ------------------------------------------------------------------ snapshots

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, NodeSnapshot)
        self.node = snapshot.node
        self.gone = None
        now = self.now()
        with self.app.batch_update():
            self._show_header()
            self.query_one(SubtaskDetail).show_sections(node_sections(snapshot.node, now))
            self.table.apply_rows(self._rows(snapshot.node))
        self.status.ok(snapshot.fetched_at)
        if not snapshot.node.recent_tasks:
            self.status.note("no task has run on this node yet")
        else:
            self.status.note("enter: open the selected task")

    def on_fetch_failed(self, message: FetchFailed) -> None:
        error = message.error
        if not is_gone(error):
            return
        message.prevent_default()
        code = error.code if isinstance(error, BatchServiceError) else None
        if code == "PoolNotFound":
            self.gone = f"pool {self.pool_id} no longer exists, and its nodes with it"
        else:
            self.gone = f"it is no longer in pool {self.pool_id} (removed, resized away or deallocated)"
        self._show_header()
        if self.node is None:
            self.query_one(SubtaskDetail).show_sections(known_sections(self.known))
        self.status.note("the node is gone: what was last known of it stays on screen" if self.node else "")

    def restyle(self) -> None:
        if self.node is not None:
            self.table.apply_rows(self._rows(self.node), flash=False)
        self._show_header()

    # ------------------------------------------------------------------ header and rows

    def _show_header(self) -> None:
        header = self.query_one("#node-header", Static)
        line: list[Content | str | tuple[str, str]] = [
            ("node ", "$text-muted"),
            (clean(self.node_id), "bold"),
        ]
        node = self.node
        if node is not None:
            colour = state_colour(node)
            line += ["  ", (clean(node.state), f"bold $state-{colour}" if colour != "dim" else "$text-muted")]
            if node.scheduling_state == "disabled":
                line += ["  ", ("scheduling disabled", "$warning")]
            line += ["  ", ("dedicated" if node.is_dedicated else "spot", "$text-muted")]
            if node.errors:
                n = len(node.errors)
                line += ["  ", (f"{n} error{'s' if n != 1 else ''}", "bold $error")]
            ran, ok = node.total_tasks_run, node.total_tasks_succeeded
            if ran and ok is not None:
                # A node that fails most of what it runs looks healthy by its state alone.
                poor = ran >= 5 and ok < ran / 2
                style = "bold $error" if poor else "$text-muted"
                line += ["  ", (f"{ok:,} of {ran:,} tasks succeeded", style)]
        line += [("  pool ", "$text-muted"), Content(clean(self.pool_id))]
        lines = [Content.assemble(*line)]
        if self.gone is not None:
            lines.append(
                Content.assemble(("⚠ this node is gone: ", "bold $warning"), Content(clean(self.gone)))
            )
        header.update(Content("\n").join(lines))
        header.set_class(self.gone is not None, "-gone")

    def _rows(self, node: Node) -> list[Row]:
        style = self.table.state_style
        self._recent = {}
        rows = []
        count = len(node.recent_tasks)
        for i, r in enumerate(node.recent_tasks):
            key = recent_key(r, i)
            self._recent[key] = r
            info = r.execution_info
            failed = info is not None and info.result == "failure"
            state = literal(r.task_state)
            colour = (
                "failed"
                if failed
                else {"running": "running", "completed": "succeeded"}.get(r.task_state or "", "active")
            )
            state.stylize(style(colour))
            exit_code = info.exit_code if info else None
            exit_cell = Text("" if exit_code is None else str(exit_code), justify="right")
            if exit_code not in (None, 0):
                exit_cell.stylize(style("failed"))
            result = literal(info.result if info else None)
            if failed:
                result.stylize(style("failed"))
            rows.append(
                Row(
                    key=key,
                    cells=(
                        literal(r.job_id),
                        literal(r.task_id),
                        Text("" if r.subtask_id is None else str(r.subtask_id), justify="right"),
                        state,
                        exit_cell,
                        result,
                        Text(when_text(self, info.start_time) if info else ""),
                        Text(when_text(self, info.end_time) if info else ""),
                    ),
                    sort_values={"latest": count - i, "job": (r.job_id or "", r.task_id or "", i)},
                    trouble=failed,
                    search=" ".join(
                        filter(None, (r.job_id, r.task_id, r.task_state, info.result if info else None))
                    ),
                )
            )
        return rows

    # ------------------------------------------------------------------ actions

    def chosen_nodes(self) -> list[Node]:
        """The node on screen, while it is still in its pool."""
        return [self.node] if self.node is not None and self.gone is None else []

    def system_commands(self) -> Iterator[SystemCommand]:
        yield from super().system_commands()
        yield from self._node_commands("shown")

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        from batchtui.ui.screens.tasks import TasksScreen

        message.stop()
        recent = self._recent.get(message.key)
        if recent is None or not recent.job_id or not recent.task_id:
            return
        # On top of this screen: escape comes back to the node.
        self.app.push_screen(TasksScreen(recent.job_id, open_task=recent.task_id))

    def action_start_task_log(self) -> None:
        from batchtui.ui.screens.node_log import open_start_task_log

        if self.gone is not None:
            self.notify(
                f"This node is gone: {self.gone}; its files went with it.", severity="warning", markup=False
            )
            return
        open_start_task_log(self.app, self.pool_id, self.node_id, self.node)

    def action_focus_detail(self) -> None:
        if self.has_class("-filtering"):
            return
        detail = self.query_one(SubtaskDetail)
        if detail.has_focus_within or detail.has_focus:
            self.table.focus()
        else:
            detail.focus()

    def action_back(self) -> None:
        detail = self.query_one(SubtaskDetail)
        if detail.has_focus or detail.has_focus_within:
            self.table.focus()
            return
        super().action_back()


def open_node(screen: Screen[Any], info: NodeInfo | None, what: str) -> None:
    """``n``: the node ``what`` (a task, a rank) ran or runs on, or why there is none."""
    if info is None or not info.pool_id or not info.node_id:
        screen.notify(f"{what} has not run on a node yet.", severity="information", markup=False)
        return
    screen.app.push_screen(NodeDetailScreen(info.pool_id, info.node_id, known=info))


def open_bad_node(screen: Screen[Any], summary: FailureSummary | None, what: str) -> None:
    """``b``: the node holding most of ``what``, or why there is none."""
    bad = summary.bad_node if summary is not None else None
    if bad is None or not bad.pool_id:
        screen.notify(f"No one node holds most of {what}.", severity="information", markup=False)
        return
    screen.app.push_screen(NodeDetailScreen(bad.pool_id, bad.node_id))
