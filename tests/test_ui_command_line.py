"""``:`` opens a command line, as in k9s: go to a view by name, with completion from known ids."""

from __future__ import annotations

import pytest
from ui_support import make_sim_app, wait_for

from batchtui.ui.commands import CommandError, complete, parse
from batchtui.ui.screens.command_line import CommandLine
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen

SIZE = (120, 40)
MPI_JOB, MPI_TASK = "mpi-cfd-0001", "solver-00"  # seed 7
MIXED_JOB, PLAIN_TASK = "render-shot-0018", "frame-0001"


def test_parse_reads_commands_aliases_and_quoted_ids() -> None:
    assert parse(":jobs").spec.name == "jobs"
    assert parse("j").spec.name == "jobs"
    cmd = parse("task  mpi-cfd-0001 'solver 00'")
    assert (cmd.spec.name, cmd.args) == ("task", ("mpi-cfd-0001", "solver 00"))
    for bad, said in (("", "type a command"), ("fly", "no command 'fly'"), ("job", "usage: :job JOB")):
        with pytest.raises(CommandError, match=said):
            parse(bad)


def test_complete_finishes_commands_and_known_ids() -> None:
    def known(arg: str, before: list[str]) -> list[str]:
        return {"JOB": ["mpi-cfd-0001", "mpi-cfd-0002", "etl-1"], "TASK": ["solver-00"]}[arg]

    assert complete(":ta", known) == ":task"
    assert complete("job mpi", known) == "job mpi-cfd-0001"
    assert complete("task etl-1 sol", known) == "task etl-1 solver-00"
    assert complete("job zzz", known) is None
    assert complete("jobs x", known) is None  # jobs takes no argument


async def test_colon_job_opens_its_tasks_and_escape_goes_back_home() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        await pilot.press("colon")
        assert isinstance(app.screen, CommandLine)
        await pilot.press(*"job render-sh")
        await pilot.press("tab")  # completed from the jobs the screen holds
        box = app.screen.query_one("#command")
        assert box.value == "job render-shot-0000"  # type: ignore[attr-defined]
        box.value = f"job {MIXED_JOB}"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.job_id == MIXED_JOB)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_colon_task_drills_to_the_ranks_or_the_details() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        app.go(f"task {MPI_JOB} {MPI_TASK}")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen))
        assert (app.screen.job_id, app.screen.task_id) == (MPI_JOB, MPI_TASK)
        # Back goes the way an operator came: the job's tasks, then home.
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.job_id == MPI_JOB)
        app.go(f"task {MIXED_JOB} {PLAIN_TASK}")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert [type(s).__name__ for s in app.screen_stack][-3:] == [
            "JobsScreen",
            "TasksScreen",
            "TaskDetailScreen",
        ]


async def test_a_bad_command_says_why_in_place_and_escape_closes() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        await pilot.press("colon", *"fly [b]away", "enter")
        assert isinstance(app.screen, CommandLine)
        said = app.screen.query_one("#command-help")
        assert "no command 'fly'" in str(said.render()) and said.has_class("-error")
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
