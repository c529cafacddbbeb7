"""Every pool: VM size, allocation (with its resize error), dedicated and spot nodes, and the
node counts by state from one ``/nodecounts`` call; sick counts stand out. Enter opens its nodes.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from batchtui.batch.node_counts import PoolNodeCounts
from batchtui.batch.pools import Pool
from batchtui.refresh.pools import PoolsPoller, PoolsSnapshot
from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.text import literal
from batchtui.ui.widgets.keyed_table import KeyedTable, Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Pool"),
    ("vm", "VM size"),
    ("alloc", "Allocation"),
    ("dedicated", "Dedicated"),
    ("spot", "Spot"),
    ("idle", "Idle"),
    ("running", "Run"),
    ("starting", "Start"),
    ("sick", "Sick"),
    ("note", "Note"),
)
SORTS: tuple[str, ...] = ("id", "sick first", "nodes")
#: the /nodecounts keys of nodes on their way up (or back up)
STARTING_KEYS = ("creating", "starting", "waitingForStartTask", "rebooting", "reimaging")
#: how each sick count is worded in the note
SICK_WORDS = (
    ("startTaskFailed", "start task failed"),
    ("unusable", "unusable"),
    ("unknown", "lost contact"),
    ("offline", "offline"),
    ("preempted", "preempted"),
)


def sick_words(counts: PoolNodeCounts) -> str:
    return ", ".join(f"{n} {word}" for key, word in SICK_WORDS if (n := counts.get(key)))


def vm_short(vm_size: str | None) -> str | None:
    if vm_size and vm_size.lower().startswith("standard_"):
        return vm_size[len("standard_") :]
    return vm_size


def nodes_of(current: int | None, target: int | None) -> str:
    """ "3/4": current of target (just "4" when they agree)."""
    cur, tgt = current or 0, target or 0
    return f"{cur}" if cur == tgt else f"{cur}/{tgt}"


class PoolsScreen(PollingScreen):
    """The account's pools; enter opens a pool's nodes."""

    help_title: ClassVar[str] = "pools"

    DEFAULT_CSS = """
    PoolsScreen #pools { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Nodes", tooltip="The nodes of the selected pool"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: PoolsSnapshot | None = None

    def crumbs(self) -> tuple[str, ...]:
        return ("pools",)

    def compose_body(self) -> ComposeResult:
        yield KeyedTable(id="pools")

    def make_poller(self) -> PoolsPoller:
        app = self.batch_app
        return PoolsPoller(app.client, app.now)

    def on_mount(self) -> None:
        table = self.table
        table.set_columns(COLUMNS)
        table.set_sorts(SORTS)
        table.focus()
        self.status.note("loading pools…")

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, PoolsSnapshot)
        self.snapshot = snapshot
        with self.app.batch_update():
            self.table.apply_rows(
                [self._row(p, snapshot.counts.get(p.id or "")) for p in snapshot.pools if p.id]
            )
        self.status.ok(snapshot.fetched_at)
        sick = sum(c.sick for c in snapshot.counts.values())
        stuck = sum(1 for p in snapshot.pools if p.resize_errors)
        notes = []
        if sick:
            notes.append(f"{sick} sick node{'s' if sick != 1 else ''}")
        if stuck:
            notes.append(f"{stuck} pool{'s' if stuck != 1 else ''} with resize errors")
        note = " · ".join(notes)
        self.status.note(f"{note}  (ctrl+z: only these)" if note else "")

    def restyle(self) -> None:
        if self.snapshot is not None:
            snap = self.snapshot
            rows = [self._row(p, snap.counts.get(p.id or "")) for p in snap.pools if p.id]
            self.table.apply_rows(rows, flash=False)

    def _row(self, pool: Pool, counts: PoolNodeCounts | None) -> Row:
        style = self.table.state_style
        alloc = literal(pool.allocation_state)
        if pool.allocation_state == "resizing":
            alloc.stylize(style("running"))
        error = pool.resize_errors[0] if pool.resize_errors else pool.auto_scale_error
        if error is not None:
            alloc.append(" ⚠", style=style("failed"))
        dedicated = nodes_of(pool.current_dedicated_nodes, pool.target_dedicated_nodes)
        spot = nodes_of(pool.current_low_priority_nodes, pool.target_low_priority_nodes)
        short = (pool.current_dedicated_nodes or 0) < (pool.target_dedicated_nodes or 0) or (
            pool.current_low_priority_nodes or 0
        ) < (pool.target_low_priority_nodes or 0)

        def count(n: int | None, colour: str = "") -> Text:
            text = Text("" if n is None else str(n), justify="right")
            if n and colour:
                text.stylize(style(colour))
            return text

        sick = counts.sick if counts is not None else None
        sick_cell = count(sick, "failed")
        note = Text("")
        if error is not None:
            # the code says it; its message is on the pool's nodes screen
            note = literal(f"resize: {error.code}", limit=60)
            note.stylize(style("failed"))
        elif counts is not None and counts.sick:
            note = literal(sick_words(counts))
            note.stylize(style("warning"))
        total = counts.total if counts is not None else None
        return Row(
            key=pool.id or "",
            cells=(
                literal(pool.id),
                # every Azure VM size starts with "standard_": what follows is what tells them apart
                literal(vm_short(pool.vm_size)),
                alloc,
                Text(dedicated, style=style("warning") if short else "", justify="right"),
                Text(spot, style=style("warning") if short else "", justify="right"),
                count(counts.get("idle") if counts else None),
                count(counts.get("running") if counts else None, "running"),
                count(sum(counts.get(k) for k in STARTING_KEYS) if counts else None, "active"),
                sick_cell,
                note,
            ),
            sort_values={
                "id": pool.id or "",
                "sick first": (-(sick or 0), pool.id or ""),
                "nodes": -(total or 0),
            },
            trouble=bool(sick) or error is not None,
            search=" ".join(
                filter(
                    None,
                    (pool.id, pool.vm_size, pool.allocation_state, error.code if error else None, note.plain),
                )
            ),
        )

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        from batchtui.ui.screens.nodes import NodesScreen

        message.stop()
        self.app.push_screen(NodesScreen(message.key))

    def pool_ids(self) -> list[str]:
        return [p.id for p in self.snapshot.pools if p.id] if self.snapshot else []
