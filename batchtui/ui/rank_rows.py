"""The rows of the ranks table: columns, cells, sort values, and reuse across refreshes.

A multi-instance task may have a thousand ranks refreshed every few seconds, and most of them
show the same thing from one refresh to the next: a rank's row is rebuilt only when what it
shows changed, and a moving clock replaces only its runtime cell (bench/apply_cost.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.style import Style
from rich.text import Text

from batchtui.batch.task_models import Subtask, Task
from batchtui.timefmt import fmt_when
from batchtui.ui.ranks import Rank, RankAlert
from batchtui.ui.text import fmt_duration, literal, runtime
from batchtui.ui.widgets.keyed_table import Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Rank"),
    ("state", "State"),
    ("node", "Node"),
    ("pool", "Pool"),
    ("exit", "Exit"),
    ("result", "Result"),
    ("start", "Start"),
    ("end", "End"),
    ("runtime", "Runtime"),
    ("previous", "Previous"),
)
# Rough cell widths (content + padding). Every rank of a task runs in the same pool, so the
# pool column goes first on a narrow screen (the header names the pool too).
_WIDTH = {
    "id": 11,
    "state": 13,
    "node": 36,
    "pool": 14,
    "exit": 6,
    "result": 9,
    "start": 10,
    "end": 10,
    "runtime": 9,
    "previous": 11,
}
_DROP_ORDER = ("pool", "previous", "start", "result", "end")
SORTS: tuple[str, ...] = ("rank", "state", "runtime", "node")
NODE_LIMIT = 36

_STATE_ORDER = {"failed": 0, "running": 1, "preparing": 2, "waiting": 3, "succeeded": 4}


def fit_columns(width: int) -> list[str]:
    keys = [k for k, _ in COLUMNS]
    for drop in _DROP_ORDER:
        if sum(_WIDTH[k] for k in keys) <= width:
            break
        keys.remove(drop)
    return keys


# What a rank's row shows, except its runtime: (rank, node id, pool id, previous state, straggler).
_RankInputs = tuple[Rank, str | None, str | None, str | None, bool]
_RUNTIME = [k for k, _ in COLUMNS].index("runtime")


@dataclass(slots=True)
class RankRow:
    """A rank's row and what it was built from, to reuse it while nothing shown has changed."""

    inputs: _RankInputs
    ran: timedelta | None
    row: Row


def _sort_values(rank: Rank, ran: timedelta | None, node_id: str | None) -> dict[str, object]:
    return {
        "rank": rank.id,
        "state": (_STATE_ORDER.get(rank.category, 5), rank.id),
        "runtime": (-(ran.total_seconds()) if ran is not None else 0.0, rank.id),
        "node": (node_id or "", rank.id),
    }


def _runtime_cell(text: str, shared: dict[str, Text]) -> Text:
    # Ranks start together, so many show the same runtime: one Text each (never mutated:
    # KeyedTable copies a cell before highlighting it), not one per rank per refresh.
    cell = shared.get(text)
    if cell is None:
        cell = shared[text] = Text(text, justify="right")
    return cell


def _rerun(row: Row, rank: Rank, node_id: str | None, ran: timedelta | None, ran_cell: Text) -> Row:
    """``row`` with only its runtime moved: the other cells are the same objects."""
    cells = row.cells
    old = cells[_RUNTIME]
    if not isinstance(old, Text) or old.plain != ran_cell.plain:
        cells = (*cells[:_RUNTIME], ran_cell, *cells[_RUNTIME + 1 :])
    return Row(row.key, cells, _sort_values(rank, ran, node_id), row.trouble, row.search)


def rank_colour(rank: Rank) -> str:
    return {
        "failed": "failed",
        "succeeded": "succeeded",
        "running": "running",
        "preparing": "active",
        "waiting": "dim",
    }.get(rank.category, "warning")


def rank_rows(
    ranks: Sequence[Rank],
    now: datetime,
    *,
    task: Task | None,
    subtasks: Mapping[str, Subtask],
    alerts: Sequence[RankAlert],
    last: Mapping[str, RankRow],
    style: Callable[[str], Style],
    utc: bool,
) -> tuple[list[Row], dict[str, RankRow]]:
    """The rows of ``ranks``, and what they were built from (``last`` of the next pass).

    ``last`` is what the previous pass returned: a row whose inputs did not change is that
    same object, one whose clock alone moved gets only a new runtime cell.
    """
    straggling = {i for a in alerts if a.kind == "straggler" for i in a.rank_ids}
    # Resolved once per pass (and only if some row is built): a theme style lookup costs
    # ~0.1 ms, several per rank were most of a 1,000-rank refresh (bench/apply_cost.py).
    cache: dict[str, RankRow] = {}
    ran_cells: dict[str, Text] = {}
    rows: list[Row] = []

    def clock(when: datetime | None) -> str:
        # Ranks start and end within minutes of each other: mostly the time of day (the
        # date too when it is not today; the detail pane always has it).
        return fmt_when(when, now, utc=utc)

    for rank in ranks:
        key = str(rank.id)
        sub = subtasks.get(key)
        node = sub.node_info if sub else (task.node_info if task else None)
        previous = sub.previous_state if sub else (task.previous_state if task else None)
        inputs = (
            rank,
            node.node_id if node else None,
            node.pool_id if node else None,
            previous,
            rank.id in straggling,
        )
        ran = runtime(rank.start_time, rank.end_time, now)
        hit = last.get(key)
        if hit is None or hit.inputs != inputs:
            ran_cell = _runtime_cell(fmt_duration(ran) if ran is not None else "", ran_cells)
            hit = RankRow(inputs, ran, rank_row(key, rank, inputs, ran, ran_cell, clock, style))
        elif hit.ran != ran:
            # Only the clock moved: the same cells (so KeyedTable skips them by identity)
            # but a new runtime cell if its text moved, and the exact runtime to sort by.
            ran_cell = _runtime_cell(fmt_duration(ran) if ran is not None else "", ran_cells)
            hit = RankRow(inputs, ran, _rerun(hit.row, rank, inputs[1], ran, ran_cell))
        cache[key] = hit
        rows.append(hit.row)
    return rows, cache  # only ranks still listed: nothing accumulates


def rank_row(
    key: str,
    rank: Rank,
    inputs: _RankInputs,
    ran: timedelta | None,
    ran_cell: Text,
    clock: Callable[[datetime | None], str],
    style: Callable[[str], Style],
) -> Row:
    _, node_id, pool_id, previous, straggler = inputs
    id_cell = Text(key, justify="left")
    if rank.primary:
        id_cell.append(" primary", style=style("dim"))
    state_cell = literal(rank.state)
    state_cell.stylize(style(rank_colour(rank)))
    if straggler:
        state_cell.append(" ⚠", style=style("warning"))
    exit_cell = Text("" if rank.exit_code is None else str(rank.exit_code), justify="right")
    if rank.exit_code not in (None, 0):
        exit_cell.stylize(style("failed"))
    result_cell = literal(rank.result)
    if rank.failed:
        result_cell.stylize(style("failed"))
    return Row(
        key=key,
        cells=(
            id_cell,
            state_cell,
            literal(node_id, limit=NODE_LIMIT),
            literal(pool_id, limit=16),
            exit_cell,
            result_cell,
            Text(clock(rank.start_time)),
            Text(clock(rank.end_time)),
            ran_cell,
            literal(previous),
        ),
        sort_values=_sort_values(rank, ran, node_id),
        trouble=rank.failed or straggler,
        search=" ".join(
            filter(
                None,
                (
                    key,
                    "primary" if rank.primary else "",
                    rank.state,
                    rank.result,
                    node_id,
                    pool_id,
                    rank.failure_code,
                    None if rank.exit_code is None else str(rank.exit_code),
                ),
            )
        ),
    )
