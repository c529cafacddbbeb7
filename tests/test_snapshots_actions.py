"""Snapshots of acting: a plain confirmation (y), a destructive one (the id typed) and the action
history. Frozen world and clocks; request ids numbered in order, so the history is the same every
run. Update with ``pytest tests/test_snapshots_actions.py --snapshot-update`` after a look."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_support import FrozenClock, make_client, wait_for

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.app import numbered_request_ids
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.drive import open_row
from batchtui.ui.screens.action_history import ActionHistoryScreen
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen

MPI_JOB = "mpi-cfd-0001"
MIXED_JOB = "render-shot-0018"


def build() -> BatchApp:
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0), request_ids=numbered_request_ids())
    client = make_client(sim)
    return make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock(), account_label="demo")


async def _home(pilot: Pilot[Any]) -> JobsScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    await wait_for(pilot, lambda: screen.snapshot is not None and MIXED_JOB in screen.snapshot.counts)
    return screen


async def _open(pilot: Pilot[Any], job_id: str) -> TasksScreen:
    await _home(pilot)
    return await open_row(pilot, job_id, TasksScreen)


async def _dialog(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(
        pilot, lambda: isinstance(app.screen, ConfirmAction) and bool(app.screen.query("#confirm-keys"))
    )
    await pilot.pause()


async def terminate_the_mpi_task(pilot: Pilot[Any]) -> None:
    """The issue's own example: a rank failed, the others keep running; ctrl+k on the ranks."""
    app = pilot.app
    tasks = await _open(pilot, MPI_JOB)
    assert tasks.table.select_key("solver-00")
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, SubtasksScreen)
            and app.screen.table.total_count > 0
            and app.screen.status.last_ok is not None
        ),
    )
    await pilot.press("ctrl+k")
    await _dialog(pilot)


async def terminate_a_running_job(pilot: Pilot[Any]) -> None:
    jobs = await _home(pilot)
    assert jobs.table.select_key(MIXED_JOB)
    await pilot.pause()
    await pilot.press("ctrl+k")
    await _dialog(pilot)
    await pilot.press(*"render")  # halfway through typing the id


async def two_actions_then_the_history(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, BatchApp)
    tasks = await _open(pilot, MIXED_JOB)
    running = sorted(k for k, t in tasks.tasks.items() if t.state == "running")[0]
    done = sorted(k for k, t in tasks.tasks.items() if t.state == "completed" and t.result == "success")[0]
    for task in (running, done):
        assert tasks.table.select_key(task)
        await pilot.pause()
        await pilot.press("ctrl+k")
        await _dialog(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda task=task: any(task in r.target for r in app.actions.history))
    app.clear_notifications()  # they time out in real seconds: not part of a stable picture
    await pilot.press("H")
    await wait_for(pilot, lambda: isinstance(app.screen, ActionHistoryScreen))
    await pilot.pause()


def test_confirm_terminating_an_mpi_task(snap_compare: Any) -> None:
    assert snap_compare(build(), terminal_size=(120, 40), run_before=terminate_the_mpi_task)


def test_confirm_terminating_a_job_with_running_tasks(snap_compare: Any) -> None:
    assert snap_compare(build(), terminal_size=(120, 40), run_before=terminate_a_running_job)


def test_action_history(snap_compare: Any) -> None:
    assert snap_compare(build(), terminal_size=(120, 40), run_before=two_actions_then_the_history)
