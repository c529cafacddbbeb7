"""Acting from the dashboard against the in-process simulator: ctrl+k, R and the palette's
actions ask first (y, or the id typed), go over the wire once, come back as a notification in
the service's words, land in the action history (H) and show in the rows at once."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input
from ui_support import make_sim_app, wait_for

from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp
from batchtui.ui.screens.action_history import ActionHistoryScreen
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen

SIZE = (120, 40)
MIXED_JOB = "render-shot-0018"  # seed 7, 20 jobs, frozen: tasks in every state
MPI_JOB = "mpi-cfd-0001"


def notes(app: BatchApp) -> list[str]:
    return [n.message for n in app._notifications]


def writes(sim: Simulator) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in sim.requests if r.method not in ("GET", "HEAD")]


async def jobs_screen(pilot: Any, app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def tasks_screen(pilot: Any, app: BatchApp, job_id: str = MIXED_JOB) -> TasksScreen:
    jobs = await jobs_screen(pilot, app)
    assert jobs.table.select_key(job_id)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, TasksScreen)
    return screen


def task_in(screen: TasksScreen, state: str, *, failed: bool | None = None) -> str:
    from batchtui.ui.screens.tasks import task_failed

    return next(
        k
        for k, t in screen.tasks.items()
        if t.state == state and (failed is None or task_failed(t) == failed) and not t.is_multi_instance
    )


async def confirm_dialog(pilot: Any, app: BatchApp) -> ConfirmAction:
    await wait_for(
        pilot, lambda: isinstance(app.screen, ConfirmAction) and bool(app.screen.query("#confirm-keys"))
    )
    screen = app.screen
    assert isinstance(screen, ConfirmAction)
    return screen


async def test_ctrl_k_asks_then_terminates_the_task_and_the_row_follows() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await tasks_screen(pilot, app)
        task = task_in(screen, "running")
        screen.table.select_key(task)
        await pilot.pause()
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.summary == f"terminate task {task} of {MIXED_JOB}: it stops"
        assert writes(sim) == []  # asking sends nothing
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.tasks[task].state == "completed")
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/tasks/{task}/terminate", 204)]
        assert notes(app) == [f"task {task} of {MIXED_JOB}: accepted (204)"]
        (record,) = app.actions.history
        assert record.outcome == "done" and record.request_id


async def test_n_and_escape_cancel_and_nothing_is_sent() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await tasks_screen(pilot, app)
        screen.table.select_key(task_in(screen, "running"))
        for key in ("n", "escape"):
            await pilot.press("ctrl+k")
            await confirm_dialog(pilot, app)
            await pilot.press(key)
            await wait_for(pilot, lambda: app.screen is screen)
        assert writes(sim) == [] and not app.actions.history


async def test_a_refusal_comes_back_in_the_services_words() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await tasks_screen(pilot, app)
        done = task_in(screen, "completed", failed=False)
        screen.table.select_key(done)
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert "already completed" in dialog.plan.summary
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.actions.history))
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/tasks/{done}/terminate", 409)]
        await wait_for(pilot, lambda: bool(notes(app)))
        assert notes(app) == [
            f"task {done} of {MIXED_JOB}: refused: TaskCompleted: The specified task is already in a completed state."
        ]


async def test_r_reactivates_only_failed_tasks() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await tasks_screen(pilot, app)
        ok = task_in(screen, "completed", failed=False)
        screen.table.select_key(ok)
        await pilot.press("R")
        await wait_for(pilot, lambda: bool(notes(app)))
        assert notes(app) == [f"Nothing to reactivate: task {ok} has failed (only failed tasks run again)."]
        assert not isinstance(app.screen, ConfirmAction) and writes(sim) == []

        failed = task_in(screen, "completed", failed=True)
        screen.table.select_key(failed)
        await pilot.press("R")
        dialog = await confirm_dialog(pilot, app)
        assert (
            dialog.plan.summary
            == f"reactivate task {failed} of {MIXED_JOB}: it runs again, retry count reset to 0"
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.tasks[failed].state == "active")
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/tasks/{failed}/reactivate", 204)]
        info = screen.tasks[failed].execution_info
        assert info is not None and info.retry_count == 0 and info.exit_code is None


async def test_on_the_subtasks_screen_ctrl_k_terminates_the_mpi_task_and_its_ranks_stop() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await tasks_screen(pilot, app, MPI_JOB)
        tasks.table.select_key("solver-00")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and bool(app.screen.ranks))
        screen = app.screen
        assert isinstance(screen, SubtasksScreen)
        ranks = len(screen.ranks)
        running = sum(r.category == "running" for r in screen.ranks.values())
        assert 0 < running < ranks
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.summary == (
            f"terminate task solver-00 of {MPI_JOB}: its {ranks} ranks stop; {running} are running"
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: {r.category for r in screen.ranks.values()} <= {"failed", "succeeded"})
        assert writes(sim) == [("POST", f"/jobs/{MPI_JOB}/tasks/solver-00/terminate", 204)]


async def test_terminating_a_job_with_running_tasks_needs_its_id_typed() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        jobs = await jobs_screen(pilot, app)
        jobs.table.select_key(MIXED_JOB)
        await wait_for(pilot, lambda: MIXED_JOB in jobs.snapshot.counts if jobs.snapshot else False)
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.destructive and dialog.plan.confirm_text == MIXED_JOB
        await pilot.press("y", "enter")  # one key is not enough: y only types into the box
        assert isinstance(app.screen, ConfirmAction) and writes(sim) == []
        box = dialog.query_one("#confirm-typed", Input)
        box.value = MIXED_JOB
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.actions.history))
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/terminate", 202)]
        await wait_for(
            pilot, lambda: any(j.id == MIXED_JOB and j.state == "terminating" for j in jobs.snapshot.jobs)
        )


async def test_terminate_with_a_reason_from_the_palette() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await tasks_screen(pilot, app)
        (command,) = [c for c in screen.system_commands() if c.title == "Terminate job with a reason…"]
        command.callback()
        dialog = await confirm_dialog(pilot, app)
        reason = dialog.query_one("#confirm-reason", Input)
        assert reason.has_focus
        await pilot.press(*"bad input")
        await pilot.press("enter")  # the reason given; the job's id is still to be typed (running tasks)
        typed = dialog.query_one("#confirm-typed", Input)
        await wait_for(pilot, lambda: typed.has_focus)
        typed.value = MIXED_JOB
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.actions.history))
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/terminate", 202)]
        sim.clock.advance(5)
        plan = sim.world.plan(MIXED_JOB)
        assert plan is not None
        assert sim.world.job_view(plan, sim.clock.seconds()).terminate_reason == "bad input"


async def test_the_action_history_lists_newest_first_with_request_ids() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await tasks_screen(pilot, app)
        first = task_in(screen, "running")
        done = task_in(screen, "completed", failed=False)
        for task in (first, done):
            screen.table.select_key(task)
            await pilot.press("ctrl+k")
            await confirm_dialog(pilot, app)
            await pilot.press("y")
            await wait_for(pilot, lambda task=task: any(task in r.target for r in app.actions.history))
        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, ActionHistoryScreen))
        lines = [str(line) for line in app.screen.query_one("#history-lines").render().plain.split("\n")]
        assert len(lines) == 4  # two per action, newest first
        assert f"terminate task {done}" in lines[0] and lines[0].endswith("refused")
        assert (
            lines[1].strip().startswith("TaskCompleted: The specified task is already in a completed state.")
        )
        assert f"terminate task {first}" in lines[2] and lines[2].endswith("done")
        assert "request-id" in lines[1] and "request-id" in lines[3]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_space_marks_and_ctrl_k_terminates_every_marked_task() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await tasks_screen(pilot, app)
        running = sorted(k for k, t in screen.tasks.items() if t.state == "running")[:2]
        done = task_in(screen, "completed", failed=False)
        for key in (*running, done):
            screen.table.select_key(key)
            await pilot.press("space")
        assert screen.table.marked_keys == (*running, done)
        assert "3 marked" in str(screen.query_one("#title").render())
        screen.table.select_key(task_in(screen, "active"))  # the cursor elsewhere: the marks count
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.summary == "terminate 3 tasks: 2 running stop; 1 already completed (refused)"
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.actions.history) == 3)
        assert writes(sim) == [
            ("POST", f"/jobs/{MIXED_JOB}/tasks/{running[0]}/terminate", 204),
            ("POST", f"/jobs/{MIXED_JOB}/tasks/{running[1]}/terminate", 204),
            ("POST", f"/jobs/{MIXED_JOB}/tasks/{done}/terminate", 409),
        ]
        assert screen.table.marked_keys == ()  # spent on the action


async def test_r_on_marked_tasks_reactivates_the_failed_ones_and_says_how_many_were_skipped() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await tasks_screen(pilot, app)
        from batchtui.ui.screens.tasks import task_failed

        failed = sorted(k for k, t in screen.tasks.items() if task_failed(t))[:2]
        others = [task_in(screen, "completed", failed=False), task_in(screen, "running")]
        for key in (failed[0], *others, failed[1]):
            screen.table.select_key(key)
            await pilot.press("space")
        await pilot.press("R")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.summary == (
            "reactivate 2 tasks: they run again, retry count reset to 0; 2 tasks not failed are skipped"
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.actions.history) == 2)
        assert writes(sim) == [("POST", f"/jobs/{MIXED_JOB}/tasks/{k}/reactivate", 204) for k in failed]


async def test_marked_jobs_are_terminated_together_once_their_number_is_typed() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        jobs = await jobs_screen(pilot, app)
        await wait_for(pilot, lambda: jobs.snapshot is not None and MIXED_JOB in jobs.snapshot.counts)
        chosen = [MIXED_JOB, "render-shot-0000"]
        for key in chosen:
            jobs.table.select_key(key)
            await pilot.press("space")
        await wait_for(
            pilot, lambda: all(k in jobs.snapshot.counts for k in chosen) if jobs.snapshot else False
        )
        await pilot.press("ctrl+k")
        dialog = await confirm_dialog(pilot, app)
        assert dialog.plan.destructive and dialog.plan.confirm_text == "2"
        assert dialog.plan.summary.startswith("terminate 2 jobs: ")
        dialog.query_one("#confirm-typed", Input).value = "2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.actions.history) == 2)
        assert writes(sim) == [("POST", f"/jobs/{k}/terminate", 202) for k in chosen]
        assert jobs.table.marked_keys == ()
