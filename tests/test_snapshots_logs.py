"""Snapshot tests of the log screen (issue 11): the failed rank's stderr with its backtrace,
the file list over it, a search highlighted with wrap on, and a task that has not started
(the refusal in place). Fixed terminal sizes, a frozen simulator world and clock.

Update after an intended change with ``pytest tests/test_snapshots_logs.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from ui_support import make_sim_app

from batchtui.ui.drive import open_row, reach
from batchtui.ui.screens.file_list import FileListScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.logs import LogScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen

SIZE = (120, 40)
MPI_JOB, MPI_TASK, FAILED_RANK = "mpi-cfd-0001", "solver-00", "4"  # seed 7, frozen


async def _tasks(pilot: Pilot[Any], job: str) -> None:
    await reach(pilot, JobsScreen)
    await open_row(pilot, job, TasksScreen, lambda s: bool(s.tasks))


async def _log(pilot: Pilot[Any], name: str) -> None:
    await reach(pilot, LogScreen, lambda s: s.snapshot is not None and s.file.path.endswith(name))
    await pilot.pause()


async def _rank_stderr(pilot: Pilot[Any]) -> None:
    await _tasks(pilot, MPI_JOB)
    ranks = await open_row(pilot, MPI_TASK, SubtasksScreen, lambda s: s.mpi_task is not None)
    assert ranks.table.select_key(FAILED_RANK)
    await pilot.pause()
    await pilot.press("l")
    await _log(pilot, "stdout.txt")
    await pilot.press("o")
    await _log(pilot, "stderr.txt")


def test_a_failed_ranks_stderr(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_rank_stderr)


def test_the_file_list_over_the_log(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _rank_stderr(pilot)
        await pilot.press("f")
        await reach(pilot, FileListScreen, lambda s: bool(s.entries))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_a_search_highlighted_with_wrap_on_80x24(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _rank_stderr(pilot)
        await pilot.press("w", "slash")
        pilot.app.screen.query_one("#filter-box", Input).cursor_blink = False
        await pilot.press(*"solver")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class _NumberedIds:
    """The simulator's request ids numbered, so that a refusal quoting one looks the same each run."""

    def __init__(self) -> None:
        self.n = 0

    def uuid4(self) -> uuid.UUID:
        self.n += 1
        return uuid.UUID(int=self.n)


def test_a_task_not_started_says_so_in_place(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import batchtui.sim.app

    monkeypatch.setattr(batchtui.sim.app, "uuid", _NumberedIds())
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _tasks(pilot, "etl-nightly-0009")
        assert pilot.app.screen.table.select_key("shard-0090")
        await pilot.pause()
        await pilot.press("l")
        await _log(pilot, "stdout.txt")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
