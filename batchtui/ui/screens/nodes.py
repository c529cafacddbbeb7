"""The nodes of one pool: state, scheduling, running tasks and slots, start task, errors, spot or
dedicated, last boot. Sick nodes first; ``ctrl+z`` shows only them (unusable, start task failed,
lost contact, offline, preempted, or with errors). Enter opens a node's details; ``space`` marks
nodes for the node actions (B reboot, D/E scheduling, X remove: node_actions.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from batchtui.batch.pools import NODE_STATES, SICK_STATES, Node, Pool
from batchtui.refresh.pools import NodesPoller, NodesSnapshot
from batchtui.refresh.views import is_gone
from batchtui.ui.messages import FetchFailed
from batchtui.ui.row_model import column_widths
from batchtui.ui.row_reuse import RowReuse
from batchtui.ui.screens.node_actions import NodeActionsScreen
from batchtui.ui.text import clean, fmt_age, literal
from batchtui.ui.widgets.keyed_table import KeyedTable, Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Node"),
    ("state", "State"),
    ("sched", "Sched"),
    ("tasks", "Tasks"),
    ("slots", "Slots"),
    ("start", "Start task"),
    ("errors", "Err"),
    ("kind", "Kind"),
    ("boot", "Booted"),
    ("since", "In state"),
)
_WIDTH = {
    "id": 38,
    "state": 21,
    "sched": 10,
    "tasks": 7,
    "slots": 7,
    "start": 18,
    "errors": 5,
    "kind": 11,
    "boot": 9,
    "since": 10,
}
_DROP_ORDER = ("kind", "slots", "boot", "sched")
SORTS: tuple[str, ...] = ("sick first", "id", "state", "busiest")
NODE_LIMIT = 40
_STATE_ORDER = {s: i for i, s in enumerate(NODE_STATES)}


def fit_columns(width: int, widths: dict[str, int] | None = None) -> list[str]:
    """The columns that fit ``width`` cells (``widths``: as measured on the rows shown)."""
    need = widths or _WIDTH
    room = width - 3  # the scrollbar and a cell of slack
    keys = [k for k, _ in COLUMNS]
    for drop in _DROP_ORDER:
        if sum(need.get(k, _WIDTH[k]) for k in keys) <= room:
            break
        keys.remove(drop)
    return keys


def state_colour(node: Node) -> str:
    if node.state in SICK_STATES or node.errors:
        return "failed"
    return {
        "running": "running",
        "idle": "succeeded",
        "creating": "active",
        "starting": "active",
        "waitingforstarttask": "active",
        "rebooting": "active",
        "reimaging": "active",
        "leavingpool": "disabled",
    }.get(node.state or "", "dim")


def start_task_text(node: Node) -> tuple[str, bool]:
    """What the start task did, in a cell ("failed, exit 100"), and whether that is a failure."""
    info = node.start_task_info
    if info is None:
        return "", False
    if info.state == "running":
        return "running", False
    if info.failed:
        code = f", exit {info.exit_code}" if info.exit_code is not None else ""
        return f"failed{code}", True
    return ("ok" if info.exit_code in (0, None) else f"exit {info.exit_code}"), False


def state_counts(nodes: list[Node]) -> list[tuple[str, int]]:
    counts = Counter(n.state or "?" for n in nodes)
    return sorted(counts.items(), key=lambda kv: (kv[0] not in SICK_STATES, -kv[1], kv[0]))


class NodesScreen(NodeActionsScreen):
    """A pool's nodes, sick first; enter opens a node; space marks nodes for the node actions."""

    help_title: ClassVar[str] = "nodes"

    DEFAULT_CSS = """
    NodesScreen #nodes-header {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    NodesScreen #nodes { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Node", tooltip="Everything about the selected node"),
    ]

    def __init__(self, pool_id: str) -> None:
        super().__init__()
        self.pool_id = pool_id
        self.pool: Pool | None = None
        self.nodes: dict[str, Node] = {}
        self.truncated = False
        self._fetched: datetime | None = None
        self._widths: dict[str, int] | None = None
        self._cache: RowReuse[tuple[Node, str, str]] = RowReuse()

    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "nodes")

    def compose_body(self) -> ComposeResult:
        yield Static(Content.styled("loading the pool…", "$text-muted"), id="nodes-header")
        yield KeyedTable(id="nodes", marks=True)

    def make_poller(self) -> NodesPoller:
        app = self.batch_app
        return NodesPoller(app.client, self.pool_id, app.now)

    def on_mount(self) -> None:
        table = self.table
        table.set_columns(COLUMNS)
        table.set_sorts(SORTS)
        table.set_quiet_columns(["boot", "since"])  # ages move with the clock: not news
        table.set_visible_columns(fit_columns(self.size.width))
        table.focus()
        self.status.note("loading nodes…")

    def on_resize(self) -> None:
        self.table.set_visible_columns(fit_columns(self.size.width, self._widths))

    # ------------------------------------------------------------------ snapshots

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, NodesSnapshot)
        self.pool = snapshot.pool
        self.nodes = {n.id: n for n in snapshot.nodes if n.id}
        self.truncated = snapshot.truncated
        self._fetched = snapshot.fetched_at
        rows = self._rows()
        with self.app.batch_update():
            self._widths = column_widths(rows, COLUMNS)
            self.table.set_visible_columns(fit_columns(self.size.width, self._widths))
            self.table.apply_rows(rows)
            self._show_header()
        self.status.ok(snapshot.fetched_at)
        sick = sum(1 for n in self.nodes.values() if n.sick)
        notes = []
        if self.truncated:
            notes.append(f"showing the first {len(self.nodes):,} nodes")
        if sick:
            notes.append(f"{sick} sick node{'s' if sick != 1 else ''} (ctrl+z: only these)")
        if not self.nodes:
            notes.append("this pool has no nodes")
        self.status.note(" · ".join(notes))

    def on_fetch_failed(self, message: FetchFailed) -> None:
        if is_gone(message.error):
            message.prevent_default()
            self.went_away(f"Pool {clean(self.pool_id)} no longer exists; back to the pools.", "Pool gone")

    def restyle(self) -> None:
        self._cache.clear()  # the colours are baked into the cells
        self.table.apply_rows(self._rows(), flash=False)
        self._show_header()

    # ------------------------------------------------------------------ rows

    def _rows(self) -> list[Row]:
        # Most nodes are as they were a refresh ago and their ages read the same ("16h33m"):
        # their rows are reused (a 1,000-node pool is rebuilt only where something moved).
        now = self.now()
        return self._cache.rows(
            (
                (key, (node, fmt_age(node.last_boot_time, now), fmt_age(node.state_transition_time, now)))
                for key, node in self.nodes.items()
            ),
            lambda inputs: self._row(*inputs),
        )

    def _row(self, node: Node, boot: str, since: str) -> Row:
        style = self.table.state_style
        state = literal(node.state)
        state.stylize(style(state_colour(node)))
        sched = literal(node.scheduling_state)
        if node.scheduling_state == "disabled":
            sched.stylize(style("warning"))
        start, start_failed = start_task_text(node)
        start_cell = literal(start)
        if start_failed:
            start_cell.stylize(style("failed"))
        errors = len(node.errors)
        running = node.running_tasks_count or 0
        return Row(
            key=node.id or "",
            cells=(
                literal(node.id, limit=NODE_LIMIT),
                state,
                sched,
                Text(str(running) if node.running_tasks_count is not None else "", justify="right"),
                Text(
                    str(node.running_task_slots_count) if node.running_task_slots_count is not None else "",
                    justify="right",
                ),
                start_cell,
                Text(str(errors) if errors else "", justify="right", style=style("failed") if errors else ""),
                Text("dedicated" if node.is_dedicated else "spot" if node.is_dedicated is False else ""),
                Text(boot, justify="right"),
                Text(since, justify="right"),
            ),
            sort_values={
                "sick first": (0 if node.sick else 1, _STATE_ORDER.get(node.state or "", 99), node.id or ""),
                "id": node.id or "",
                "state": (_STATE_ORDER.get(node.state or "", 99), node.id or ""),
                "busiest": (-running, node.id or ""),
            },
            trouble=node.sick,
            search=" ".join(
                filter(
                    None,
                    (
                        node.id,
                        node.state,
                        node.scheduling_state,
                        start,
                        "spot" if node.is_dedicated is False else "dedicated",
                        *(e.code or "" for e in node.errors),
                    ),
                )
            ),
        )

    # ------------------------------------------------------------------ header

    def _show_header(self) -> None:
        pool = self.pool
        if pool is None:
            return
        line1: list[Content | str | tuple[str, str]] = [("pool ", "$text-muted"), (clean(pool.id), "bold")]
        if pool.vm_size:
            line1 += ["  ", Content(clean(pool.vm_size))]
        state = pool.allocation_state or "?"
        line1 += ["  ", (clean(state), "bold $state-running" if state == "resizing" else "$text-muted")]
        line1 += [
            ("  dedicated ", "$text-muted"),
            f"{pool.current_dedicated_nodes or 0}/{pool.target_dedicated_nodes or 0}",
            ("  spot ", "$text-muted"),
            f"{pool.current_low_priority_nodes or 0}/{pool.target_low_priority_nodes or 0}",
        ]
        line2: list[Content | str | tuple[str, str]] = []
        for name, n in state_counts(list(self.nodes.values())):
            if line2:
                line2.append(" · ")
            sick = name in SICK_STATES
            line2.append((f"{n:,} {clean(name)}", "bold $state-failed" if sick else ""))
        with_errors = sum(1 for n in self.nodes.values() if n.errors)
        if with_errors:
            line2 += [" · ", (f"{with_errors} with errors", "bold $state-failed")]
        lines = [Content.assemble(*line1)]
        if line2:
            lines.append(Content.assemble(*line2))
        for error in pool.resize_errors[:1]:
            lines.append(
                Content.assemble(
                    ("⚠ resize: ", "bold $error"),
                    (clean(error.code), "bold $error"),
                    (f": {clean(error.message)}" if error.message else "", "$error"),
                )
            )
        self.query_one("#nodes-header", Static).update(Content("\n").join(lines))

    # ------------------------------------------------------------------ actions

    def chosen_nodes(self) -> list[Node]:
        """The marked nodes (or the selected one), as last read."""
        return [self.nodes[key] for key in self.chosen_keys() if key in self.nodes]

    def nodes_acted_on(self) -> None:
        self.marks_acted_on()

    def system_commands(self) -> Iterator[SystemCommand]:
        yield from super().system_commands()
        yield from self._node_commands("selected (or marked)")

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        from batchtui.ui.screens.node_detail import NodeDetailScreen

        message.stop()
        if message.key in self.nodes:
            self.app.push_screen(NodeDetailScreen(self.pool_id, message.key))
