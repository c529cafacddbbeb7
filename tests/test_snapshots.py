"""Snapshot tests of every screen: fixed terminal sizes, a frozen simulator world and clock.

Update after an intended change with ``pytest tests/test_snapshots.py --snapshot-update`` and
look at the report before committing.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from ui_support import make_sim, make_sim_app, wait_for

from batchtui.ui.drive import home, open_row
from batchtui.ui.screens.help import HelpScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.count_bar import CountBar


async def _home(pilot: Pilot[Any]) -> None:
    await home(pilot)


def test_jobs_dark_120x40(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_home)


def test_jobs_light_120x40(snap_compare: Any) -> None:
    app, _ = make_sim_app(theme="batchtui-light")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_home)


def test_jobs_high_contrast_120x40(snap_compare: Any) -> None:
    app, _ = make_sim_app(theme="batchtui-high-contrast")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_home)


def test_jobs_80x24(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_home)


def test_help(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _home(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_jobs_filtered(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _home(pilot)
        await pilot.press("slash")
        pilot.app.screen.query_one("#filter-box", Input).cursor_blink = False
        await pilot.press(*"render")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_jobs_refresh_failed(snap_compare: Any) -> None:
    sim = make_sim()
    app, _ = make_sim_app(sim)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _home(pilot)
        screen = pilot.app.screen
        sim.faults.error_rate = 1.0
        pilot.app.monotonic.advance(30)  # the status line says how old the data on screen is
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is not None)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_jobs_exact_recount(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _home(pilot)
        bar = pilot.app.screen.query_one(CountBar)
        await pilot.press("c")
        await wait_for(pilot, lambda: bar.data.recount is not None and bar.data.recount.result is not None)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


# ---------------------------------------------------------------- UI-2's drill-down screens

MPI_JOB = "mpi-cfd-0001"


async def _tasks(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await open_row(pilot, MPI_JOB, TasksScreen)


async def _subtasks(pilot: Pilot[Any]) -> None:
    await _tasks(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TasksScreen)
    mpi = sorted(
        (t for t in screen.tasks.values() if t.is_multi_instance),
        key=lambda t: (t.result != "failure", t.state != "running", t.id or ""),
    )
    await open_row(pilot, mpi[0].id, SubtasksScreen)


def test_tasks_of_an_mpi_job(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_tasks)


def test_subtasks_of_an_mpi_task(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=(120, 40), run_before=_subtasks)


def test_subtasks_80x24(snap_compare: Any) -> None:
    app, _ = make_sim_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_subtasks)
