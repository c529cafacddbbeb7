"""The rows of the tasks table: columns and their widths, cells, sort values.

What a task's row says about it (failed or not, its MPI marker) is also what the actions on
tasks ask (``task_failed``: the plans that retry failed tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.style import Style
from rich.text import Text

from batchtui.batch.task_models import Task
from batchtui.ui.text import fmt_duration, literal, runtime
from batchtui.ui.widgets.keyed_table import Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Task"),
    ("mpi", "MPI"),
    ("state", "State"),
    ("exit", "Exit"),
    ("result", "Result"),
    ("retries", "Retry"),
    ("node", "Node"),
    ("runtime", "Runtime"),
)
# Rough cell widths (content + padding); on a narrow terminal the least needed columns go
# first (the state colour already says success/failure; retries are rare).
_WIDTH = {"id": 26, "mpi": 7, "state": 11, "exit": 6, "result": 9, "retries": 7, "node": 38, "runtime": 9}
_DROP_ORDER = ("result", "retries", "mpi")
SORTS: tuple[str, ...] = ("id", "state", "runtime", "exit code")
ID_LIMIT = 40
NODE_LIMIT = 36

# Service state -> KeyedTable colour name.
_STATE_ORDER = {"running": 0, "preparing": 1, "active": 2, "completed": 3}


def fit_columns(width: int, *, mpi: bool = True) -> list[str]:
    """The columns that fit ``width`` cells; the MPI marker only when a task is multi-instance."""
    keys = [k for k, _ in COLUMNS if mpi or k != "mpi"]
    for drop in _DROP_ORDER:
        if drop not in keys:
            continue
        if sum(_WIDTH[k] for k in keys) <= width:
            break
        keys.remove(drop)
    return keys


def task_failed(task: Task) -> bool:
    if task.state != "completed":
        return False
    if task.result is not None:
        return task.result == "failure"
    return task.exit_code not in (None, 0)


def state_colour(state: str | None, failed: bool) -> str:
    if state == "completed":
        return "failed" if failed else "succeeded"
    return {"active": "active", "preparing": "active", "running": "running"}.get(state or "", "dim")


def mpi_marker(task: Task) -> str:
    mis = task.multi_instance_settings
    if mis is None:
        return ""
    n = mis.number_of_instances
    return f"MPI×{n}" if n is not None else "MPI"


def task_runtime(task: Task, now: datetime) -> float | None:
    """Whole seconds run so far (or in total); None before the task ever ran."""
    info = task.execution_info
    if info is None or task.state not in ("running", "completed"):
        return None
    ran = runtime(info.start_time, info.end_time, now)
    return None if ran is None else float(int(ran.total_seconds()))


def task_row(task: Task, ran: float | None, style: Callable[[str], Style]) -> Row:
    info = task.execution_info
    failed = task_failed(task)
    exit_code = task.exit_code
    retries = info.retry_count if info and info.retry_count is not None else 0
    state = task.state or ""
    state_cell = literal(state)
    state_cell.stylize(style(state_colour(task.state, failed)))
    exit_cell = Text("" if exit_code is None else str(exit_code), justify="right")
    if exit_code not in (None, 0):
        exit_cell.stylize(style("failed"))
    result_cell = literal(task.result)
    if task.result == "failure":
        result_cell.stylize(style("failed"))
    node_id = task.node_info.node_id if task.node_info else None
    return Row(
        key=task.id or "",
        cells=(
            literal(task.id, limit=ID_LIMIT),
            Text(mpi_marker(task), style=style("running") if task.is_multi_instance else ""),
            state_cell,
            exit_cell,
            result_cell,
            Text(
                str(retries) if retries else "",
                justify="right",
                style=style("warning") if retries else "",
            ),
            literal(node_id, limit=NODE_LIMIT),
            Text(fmt_duration(ran) if ran is not None else "", justify="right"),
        ),
        sort_values={
            "id": task.id or "",
            "state": (_STATE_ORDER.get(state, 9), 0 if failed else 1),
            "runtime": -(ran or 0.0),
            "exit code": (0 if exit_code not in (None, 0) else 1, -(abs(exit_code or 0))),
        },
        trouble=failed or exit_code not in (None, 0) or (state != "completed" and retries > 0),
        search=" ".join(
            filter(
                None,
                (
                    task.id,
                    task.display_name,
                    state,
                    task.result,
                    node_id,
                    None if exit_code is None else str(exit_code),
                    mpi_marker(task),
                ),
            )
        ),
    )
