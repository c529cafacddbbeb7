"""Values the service adds tomorrow: a new job state, task state, subtask state, result,
failure category and fields nobody has heard of. They are shown as the service's text on
every screen, never a crash (rewritten on the way out of the simulator)."""

from __future__ import annotations

import importlib
from typing import Any

from test_faults_wire import garbled_app
from ui_support import make_sim, wait_for

from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.subtask_detail import LABEL_WIDTH, SubtaskDetail

SIZE = (120, 40)
MPI_JOB = "mpi-cfd-0001"  # seed 7: solver-00 has a dead rank
MPI_TASK = "solver-00"
MIXED_JOB = "render-shot-0018"  # seed 7: tasks in every state, some failed

FUTURE = {"brandNewField": {"nested": [1, "two", None]}, "anotherOne": 3.5}


def tomorrow(path: str, doc: Any) -> None:
    """The service's answer as a future API version might write it."""
    items = doc.get("value") if isinstance(doc.get("value"), list) else [doc]
    for item in items:
        if not isinstance(item, dict):
            continue
        item.update(FUTURE)
        if path == "/jobs" or path.count("/") == 2 and not path.endswith("taskcounts"):
            if item.get("id") == MIXED_JOB or path == f"/jobs/{MIXED_JOB}":
                item["state"] = "hibernating"
        if path.endswith("/tasks") or path.count("/") == 4 and "/tasks/" in path:
            info = item.get("executionInfo")
            if isinstance(info, dict):
                info.update(FUTURE)
                if item.get("state") == "running":
                    item["state"] = "migrating"
                failure = info.get("failureInfo")
                if isinstance(failure, dict):
                    failure["category"] = "QuotaExceeded"
                    info["result"] = "partialSuccess"
        if path.endswith("/subtasksinfo"):
            failure = item.get("failureInfo")
            if isinstance(failure, dict):
                failure["category"] = "NetworkPartition"
            else:
                item["state"] = "suspended"
    if path.endswith("/taskcounts"):
        doc["taskCounts"]["paused"] = 4
        doc["taskSlotCounts"]["paused"] = 4


def cell(screen: Any, key: str, column: str) -> str:
    """A row's cell by column name (whether or not the column fits the terminal)."""
    module = importlib.import_module(type(screen).__module__)
    columns = [k for k, _ in module.COLUMNS]
    return screen.table.rows_by_key[key].cells[columns.index(column)].plain


def unwrapped(pane: SubtaskDetail) -> str:
    return pane.plain.replace("\n" + " " * (LABEL_WIDTH + 2), "")


async def test_tomorrows_states_categories_and_fields_are_shown_as_text() -> None:
    sim = make_sim()
    app, garble = garbled_app(sim)
    garble.edit = tomorrow
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        await wait_for(pilot, lambda: jobs.status.last_ok is not None)
        assert jobs.status.error is None, jobs.status.plain
        assert cell(jobs, MIXED_JOB, "state") == "hibernating"
        assert jobs.table.total_count == len(sim.job_ids())

        # A job in a state nobody knows is still a job: drill in.
        assert jobs.table.select_key(MIXED_JOB)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        assert tasks.status.error is None, tasks.status.plain
        assert "hibernating" in str(tasks.query_one("#tasks-header").visual)
        states = {cell(tasks, k, "state") for k in tasks.table.rows_by_key}
        assert "migrating" in states and "running" not in states
        results = {cell(tasks, k, "result") for k in tasks.table.rows_by_key}
        assert "partialSuccess" in results
        # The details of a failed task: the new category as text.
        failed = next(k for k, t in tasks.tasks.items() if t.execution_info and t.execution_info.failure_info)
        assert tasks.table.select_key(failed)
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        pane = app.screen.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: "QuotaExceeded" in unwrapped(pane))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is tasks)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is jobs)

        # The ranks of an MPI task, with a subtask state and a failure category from the future.
        assert jobs.table.select_key(MPI_JOB)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
        assert app.screen.table.select_key(MPI_TASK)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and bool(app.screen.ranks))
        subtasks = app.screen
        assert isinstance(subtasks, SubtasksScreen)
        assert subtasks.status.error is None, subtasks.status.plain
        dead = next(k for k, s in subtasks.subtasks.items() if s.failure_info is not None)
        subtasks.table.select_key(dead)
        detail = subtasks.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: "NetworkPartition" in unwrapped(detail))
        shown = {cell(subtasks, k, "state").split(" ")[0] for k in subtasks.table.rows_by_key}
        assert "suspended" in shown
        assert "suspended" in str(subtasks.query_one("#subtasks-header").visual)
        assert app.is_running
        svg = app.export_screenshot()
        assert "Traceback" not in svg
