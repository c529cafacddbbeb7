"""The tasks screen against the simulator, in-process: drill-in, state filters, the load cap,
task details, a deleted job, and what went over the wire."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from textual.widgets import Input
from ui_support import make_client, make_sim, wait_for

from batchtui.batch.client import RequestEvent
from batchtui.refresh.failures import FAILURE_SELECT
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.subtask_detail import LABEL_WIDTH, SubtaskDetail

SIZE = (120, 40)
# seed 7, 20 jobs, frozen: 182 tasks in every state (24 running, 14 active, 10 failed).
MIXED_JOB = "render-shot-0018"
MPI_JOB = "mpi-cfd-0001"


def recording_app(sim: Simulator, **kw: Any) -> tuple[BatchApp, list[RequestEvent]]:
    """An app whose client reports every request it makes (URL with the query)."""
    events: list[RequestEvent] = []
    client = make_client(sim, on_event=events.append)
    kw.setdefault("refresh", 3600.0)
    kw.setdefault("now", sim.clock.now)
    return make_app(client, **kw), events


def task_lists(events: list[RequestEvent], job_id: str) -> list[dict[str, list[str]]]:
    """The query of every List Tasks request of the task list for ``job_id``, in order (the
    failures' own read, once the job has failures, is tests/test_ui_pools.py's to count)."""
    out = []
    for e in events:
        url = urlsplit(e.url)
        query = parse_qs(url.query)
        if url.path == f"/jobs/{job_id}/tasks" and query.get("$select") != [",".join(FAILURE_SELECT)]:
            out.append(query)
    return out


async def open_tasks(pilot, app: BatchApp, job_id: str) -> TasksScreen:  # type: ignore[no-untyped-def]
    """From the jobs screen: put the cursor on ``job_id`` and press enter."""
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    jobs = app.screen
    assert jobs.table.select_key(job_id)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
    screen = app.screen
    assert isinstance(screen, TasksScreen) and screen.job_id == job_id
    await wait_for(pilot, lambda: screen.table.total_count > 0)
    return screen


async def truth(sim: Simulator, job_id: str, filter: str | None = None) -> list[str]:
    async with make_client(sim) as direct:
        return [t.id for t in await direct.list_tasks(job_id, filter=filter, select=["id"])]


def unwrapped(pane: SubtaskDetail) -> str:
    """The pane's text with long values joined back (they hang under the value column)."""
    return re.sub("\n" + " " * (LABEL_WIDTH + 2), "", pane.plain)


def header_text(screen: TasksScreen) -> str:
    return str(screen.query_one("#tasks-header").visual)


async def test_enter_drills_into_the_jobs_tasks_with_counts_and_mpi_markers() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, MIXED_JOB)
        assert list(screen.table.rows_by_key) == await truth(sim, MIXED_JOB)
        async with make_client(sim) as direct:
            counts = (await direct.get_task_counts(MIXED_JOB)).task_counts
        text = header_text(screen)
        assert MIXED_JOB in text
        assert f"{counts.failed:,} failed" in text and f"{counts.running:,} running" in text
        # Only the columns shown were asked for, a page at a time, and no state filter.
        query = task_lists(events, MIXED_JOB)[-1]
        assert "$filter" not in query
        assert set(query["$select"][0].split(",")) >= {
            "id",
            "state",
            "executionInfo",
            "nodeInfo",
            "multiInstanceSettings",
        }
        assert "commandLine" not in query["$select"][0]
        assert query["maxresults"] == ["1000"]
        # Everything fits: nothing to say about a cap.
        assert "showing" not in screen.status.plain

        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        assert app.screen.table.selected_key == MIXED_JOB

        mpi = await open_tasks(pilot, app, MPI_JOB)
        cells = {key: [c.plain for c in mpi.table.get_row(key)] for key in mpi.table.rows_by_key}
        assert "MPI×8" in cells["solver-00"]


async def test_state_keys_filter_the_list_and_the_wire() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, MIXED_JOB)
        expected = {
            "1": ("state eq 'active'", "active"),
            "2": ("state eq 'running' or state eq 'preparing'", "running"),
            "3": ("state eq 'completed'", "completed"),
            "4": ("executionInfo/result eq 'failure'", "failed"),
        }
        for key, (odata, label) in expected.items():
            want = await truth(sim, MIXED_JOB, odata)
            assert want, f"the world should have {label} tasks"
            await pilot.press(key)
            await wait_for(pilot, lambda want=want: list(screen.table.rows_by_key) == want)
            assert task_lists(events, MIXED_JOB)[-1]["$filter"] == [odata]
            assert label in screen.query_one("#title").visual.plain  # type: ignore[attr-defined]
            states = {screen.tasks[k].state for k in want}
            if label == "running":
                assert states <= {"running", "preparing"}
            if label == "failed":
                assert all(screen.tasks[k].result == "failure" for k in want)
                # A failed task is "in trouble": ctrl+z keeps every one of them.
                await pilot.press("ctrl+z")
                assert screen.table.visible_count == len(want)
                await pilot.press("ctrl+z")
        await pilot.press("a")
        everything = await truth(sim, MIXED_JOB)
        await wait_for(pilot, lambda: list(screen.table.rows_by_key) == everything)
        assert "$filter" not in task_lists(events, MIXED_JOB)[-1]


async def test_the_load_is_capped_said_so_and_grows_at_the_bottom() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count)
        all_ids = await truth(sim, MIXED_JOB)
        assert len(all_ids) > 100
        screen = TasksScreen(MIXED_JOB, first=50, step=50)
        app.push_screen(screen)
        await wait_for(pilot, lambda: bool(screen.tasks))
        assert list(screen.table.rows_by_key) == all_ids[:50]
        lists = task_lists(events, MIXED_JOB)
        # One page of 50, not the whole job.
        assert len(lists) == 1 and lists[0]["maxresults"] == ["50"]
        assert f"showing 50 of ~{len(all_ids)} tasks: scroll down for more" in screen.status.plain

        await pilot.press("G")
        await wait_for(pilot, lambda: screen.table.total_count == 100)
        assert list(screen.table.rows_by_key) == all_ids[:100]
        # Only the next block was read, from where the first listing stopped (issue 15.5).
        lists = task_lists(events, MIXED_JOB)
        assert len(lists) == 2 and "$skiptoken" in lists[1] and "$filter" not in lists[1]
        # The cursor stayed where the operator put it (the old last row).
        assert screen.table.selected_key == all_ids[49]
        assert "showing 100 of" in screen.status.plain

        # m loads the rest on demand; the note goes away once everything is here.
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.table.total_count == 150)
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.table.total_count == len(all_ids))
        assert "showing" not in screen.status.plain


async def test_enter_on_a_plain_task_shows_its_details_and_escape_returns() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, MIXED_JOB)
        await pilot.press("4")
        failed = await truth(sim, MIXED_JOB, "executionInfo/result eq 'failure'")
        await wait_for(pilot, lambda: list(screen.table.rows_by_key) == failed)
        target = failed[2]
        assert screen.table.select_key(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        detail = app.screen
        async with make_client(sim) as direct:
            task = await direct.get_task(MIXED_JOB, target)
        pane = detail.query_one(SubtaskDetail)
        # The full task (with its command line, which the list never carries) arrives.
        await wait_for(pilot, lambda: task.command_line in unwrapped(pane))
        text = unwrapped(pane)
        failure = task.execution_info.failure_info
        assert failure.code in text and failure.message in text
        assert task.node_info.node_id in text and task.node_info.task_root_directory_url in text
        if task.exit_code is not None:
            assert f"exit code         {task.exit_code}" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.table.selected_key == target


async def test_slash_filters_the_tasks_and_a_second_enter_drills_in() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, MPI_JOB)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"solver-01")
        assert screen.table.visible_keys == ("solver-01",)
        await pilot.press("enter")
        assert screen.table.selected_key == "solver-01"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen))
        assert app.screen.task_id == "solver-01"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # escape clears the filter before it goes back.
        await pilot.press("escape")
        assert screen.table.visible_count == 4
        assert app.screen is screen


async def test_a_deleted_job_is_reported_and_the_screen_goes_back() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_tasks(pilot, app, MIXED_JOB)
        assert sim.delete_job(MIXED_JOB)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        messages = [n.message for n in app._notifications]
        assert any(f"Job {MIXED_JOB} no longer exists" in m for m in messages)
        assert not screen.is_attached


async def test_help_lists_the_state_keys() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await open_tasks(pilot, app, MIXED_JOB)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
        text = str(app.screen.query_one("#help-keys").visual)
        for line in ("Show failed tasks", "Show running tasks", "Show all tasks", "Details", "Load more"):
            assert line in text


async def test_an_empty_filter_says_so_and_a_completed_job_polls_slowly() -> None:
    sim = make_sim()
    async with make_client(sim) as direct:
        jobs = await direct.list_jobs(select=["id", "state"])
    done = None
    for job in jobs:
        if job.state == "completed" and not await truth(sim, job.id, "state eq 'active'"):
            done = job.id
            break
    assert done is not None, "the world should hold a completed job"
    app, _ = recording_app(sim, refresh=5.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, done)
        assert screen.refresh_interval() == 30.0 and screen.status.interval == 30.0
        assert "job completed: refreshing slowly" in screen.status.plain
        await pilot.press("1")
        await wait_for(pilot, lambda: "no active tasks" in screen.status.plain)
        assert screen.table.total_count == 0


async def test_hostile_task_text_is_shown_literally_in_the_list_and_the_details() -> None:
    from test_ui_subtasks import Tamper

    hostile = "[red]x[/red]\x1b[2J\x07"
    shown = "[red]x[/red]\\x1b[2J\\x07"

    def poison(path: str, body: Any) -> None:
        if path == f"/jobs/{MIXED_JOB}":
            body["displayName"] = hostile
        elif path.startswith(f"/jobs/{MIXED_JOB}/tasks"):
            for task in body.get("value", [body]):
                task.setdefault("nodeInfo", {})["nodeId"] = hostile
                task["commandLine"] = hostile
                info = task.get("executionInfo") or {}
                if "failureInfo" in info:
                    info["failureInfo"]["message"] = hostile

    sim = make_sim()
    client = make_client(sim, app=Tamper(sim, poison))
    app = make_app(client, refresh=3600.0, now=sim.clock.now)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tasks(pilot, app, MIXED_JOB)
        assert shown in header_text(screen)
        first = screen.table.visible_keys[0]
        assert shown in [c.plain for c in screen.table.get_row(first)]
        await pilot.press("4")
        await wait_for(
            pilot,
            lambda: screen.table.total_count and all(t.result == "failure" for t in screen.tasks.values()),
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        pane = app.screen.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: unwrapped(pane).count(shown) >= 3)  # message, command, node
        svg = app.export_screenshot().replace("&#160;", " ")
        assert shown in svg and "\x1b" not in svg and "\x07" not in svg
