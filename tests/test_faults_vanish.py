"""Things vanish under the operator (sim.delete_job / delete_task): the screen says so once and
goes back cleanly, whatever is open on top of it. The tasks and subtasks screens' own cases
(job deleted under the task list, task or job deleted under the ranks) are in test_ui_tasks.py
and test_ui_subtasks.py; these cover the jobs screen and the screens stacked on the others."""

from __future__ import annotations

from typing import Any

from ui_support import FrozenClock, make_client, make_sim, wait_for

from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.subtask_detail import SubtaskDetail

SIZE = (120, 40)
MIXED_JOB = "render-shot-0018"
MPI_JOB = "mpi-cfd-0001"
MPI_TASK = "solver-00"


def app_for(sim: Simulator, refresh: float = 3600.0) -> BatchApp:
    return make_app(make_client(sim), refresh=refresh, now=sim.clock.now, monotonic=FrozenClock())


def notices(app: BatchApp) -> list[str]:
    return [n.message for n in app._notifications]


async def home(pilot: Any, app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    await wait_for(pilot, lambda: screen.status.last_ok is not None)
    return screen


async def open_tasks(pilot: Any, app: BatchApp, job_id: str) -> TasksScreen:
    jobs = await home(pilot, app)
    assert jobs.table.select_key(job_id)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
    screen = app.screen
    assert isinstance(screen, TasksScreen)
    return screen


async def test_the_selected_job_deleted_between_list_reads_goes_at_once_and_is_announced() -> None:
    sim = make_sim()
    app = app_for(sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await home(pilot, app)
        assert screen.table.select_key(MIXED_JOB)
        await pilot.pause()
        assert screen.monitor is not None
        # Deleted outright: a "changed since" read (the next timer tick) cannot see it; its
        # counts answer 404 JobNotFound, and that is enough to drop it at once.
        assert sim.delete_job(MIXED_JOB)
        fetches = screen.fetches
        screen.refresh_now("timer")
        await wait_for(pilot, lambda: screen.fetches > fetches and MIXED_JOB not in screen.table.rows_by_key)
        # An answer, not a failure: no error on the status line, and the cursor on a real job.
        assert screen.status.error is None and "refresh failed" not in screen.status.plain
        assert screen.table.selected_key in sim.job_ids()
        assert notices(app).count(f"Job {MIXED_JOB} is gone (deleted).") == 1
        assert set(screen.table.rows_by_key) == set(sim.job_ids())


async def test_a_job_deleted_under_its_task_details_goes_back_to_the_jobs_with_one_notice() -> None:
    sim = make_sim()
    app = app_for(sim, refresh=0.1)  # the task list keeps polling under the details
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tasks = await open_tasks(pilot, app, MIXED_JOB)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert sim.delete_job(MIXED_JOB)
        await wait_for(pilot, lambda: tasks._gone)
        # The details stay readable until the operator closes them...
        assert isinstance(app.screen, TaskDetailScreen)
        await pilot.press("escape")
        # ...and then the task list, whose job is gone, is skipped on the way back.
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        await wait_for(pilot, lambda: MIXED_JOB not in jobs.table.rows_by_key)
        await pilot.pause(0.3)
        said = [m for m in notices(app) if MIXED_JOB in m]
        assert said == [f"Job {MIXED_JOB} no longer exists (deleted); back to the jobs."]
        assert jobs.status.error is None


async def test_details_of_a_task_deleted_meanwhile_say_so_and_keep_what_the_list_had() -> None:
    sim = make_sim()
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        tasks = await open_tasks(pilot, app, MIXED_JOB)
        key = tasks.table.selected_key
        assert key is not None
        assert sim.delete_task(MIXED_JOB, key)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        note = app.screen.query_one("#task-detail-note")
        await wait_for(pilot, lambda: "no longer exists" in str(note.visual))
        assert key in app.screen.query_one(SubtaskDetail).plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is tasks)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: key not in tasks.table.rows_by_key)
        assert tasks.status.error is None


async def test_a_task_deleted_while_its_rank_detail_has_the_keyboard_goes_back_cleanly() -> None:
    sim = make_sim()
    app = app_for(sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tasks = await open_tasks(pilot, app, MPI_JOB)
        assert tasks.table.select_key(MPI_TASK)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and bool(app.screen.ranks))
        ranks = app.screen
        await pilot.press("tab")
        assert ranks.query_one(SubtaskDetail).has_focus
        assert sim.delete_task(MPI_JOB, MPI_TASK)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.screen is tasks)
        assert not ranks.is_attached
        await wait_for(pilot, lambda: MPI_TASK not in tasks.table.rows_by_key)
        assert sum(f"Task {MPI_TASK} no longer exists" in m for m in notices(app)) == 1
        assert tasks.table.has_focus


async def test_a_404_handled_just_as_the_details_close_goes_back_only_once() -> None:
    """The details close while a failed refresh of the deleted job is still queued for the task
    list: the list must leave once, not once for the failure and once for coming back on top."""
    from batchtui.batch.errors import BatchServiceError
    from batchtui.ui.messages import FetchFailed

    sim = make_sim()
    app = app_for(sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        tasks = await open_tasks(pilot, app, MIXED_JOB)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert sim.delete_job(MIXED_JOB)
        gone = BatchServiceError(404, "JobNotFound", "The specified job does not exist.")
        tasks.post_message(FetchFailed(gone, sim.clock.now()))
        await wait_for(pilot, lambda: tasks._gone)
        tasks.post_message(FetchFailed(gone, sim.clock.now()))  # still queued when...
        app.pop_screen()  # ...the details close
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await pilot.pause(0.2)
        assert isinstance(app.screen, JobsScreen) and len(app.screen_stack) == 1
        assert sum(MIXED_JOB in m for m in notices(app)) == 1
