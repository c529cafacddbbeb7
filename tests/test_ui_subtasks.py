"""The subtasks (ranks) screen against the simulator, in-process: the drill-down from the jobs
screen, node ids and failures, the MPI failure flags, escape back with the cursor kept,
the text filter, a deleted task, the slow poll once finished, and hostile service text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from textual.widgets import Input
from ui_support import make_client, make_sim, make_sim_app, wait_for

from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.subtask_detail import LABEL_WIDTH, SubtaskDetail

SIZE = (120, 40)
MPI_JOB = "mpi-cfd-0001"  # seed 7, frozen: solver-00 has a dead rank, solver-01 a straggler
RANK_FAILS = "solver-00"
STRAGGLER = "solver-01"
FINISHED_JOB = "mpi-cfd-0013"  # every task completed


def unwrapped(pane: SubtaskDetail) -> str:
    return pane.plain.replace("\n" + " " * (LABEL_WIDTH + 2), "")


def cells(screen: SubtasksScreen, key: str) -> list[str]:
    return [c.plain for c in screen.table.get_row(key)]


async def drill(pilot, app: BatchApp, job_id: str, task_id: str) -> SubtasksScreen:  # type: ignore[no-untyped-def]
    """jobs -> enter -> tasks -> enter on ``task_id`` -> subtasks, the way an operator does."""
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    assert app.screen.table.select_key(job_id)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
    tasks = app.screen
    assert tasks.table.select_key(task_id)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and app.screen.mpi_task is not None)
    screen = app.screen
    assert isinstance(screen, SubtasksScreen) and (screen.job_id, screen.task_id) == (job_id, task_id)
    return screen


async def test_ranks_show_nodes_states_and_the_dead_rank_with_its_failure() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, MPI_JOB, RANK_FAILS)
        async with make_client(sim) as direct:
            task = await direct.get_task(MPI_JOB, RANK_FAILS)
            subtasks = await direct.list_subtasks(MPI_JOB, RANK_FAILS)
        n = task.multi_instance_settings.number_of_instances
        # Rank 0 (the primary) is the task itself; the service lists ranks 1..n-1.
        assert [s.id for s in subtasks] == list(range(1, n))
        assert list(screen.table.rows_by_key) == [str(i) for i in range(n)]
        assert task.node_info.node_id in cells(screen, "0")
        for sub in subtasks:
            assert sub.node_info.node_id in cells(screen, str(sub.id))

        dead = [s for s in subtasks if s.result == "failure"]
        assert len(dead) == 1
        dead_rank = dead[0]
        running = sum(1 for s in subtasks if s.state == "running") + (task.state == "running")
        header = str(screen.query_one("#subtasks-header").visual)
        assert f"{running}/{n} running, 1 failed" in header
        assert task.multi_instance_settings.coordination_command_line in header
        assert f"instances {n}" in header
        alerts = str(screen.query_one("#subtasks-alerts").visual)
        assert f"rank {dead_rank.id} failed (exit {dead_rank.exit_code}" in alerts
        assert "may hang" in alerts
        assert screen.table.rows_by_key[str(dead_rank.id)].trouble

        screen.table.select_key(str(dead_rank.id))
        pane = screen.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: dead_rank.failure_info.message in pane.plain)
        text = unwrapped(pane)
        node = dead_rank.node_info
        failure = dead_rank.failure_info
        for value in (
            failure.code,
            failure.category,
            node.node_id,
            node.affinity_id,
            node.node_url,
            node.task_root_directory,
            node.task_root_directory_url,
        ):
            assert value in text
        for detail in dead_rank.failure_info.details:
            assert detail.name in text and detail.value in text
        assert pane.border_title == f"rank {dead_rank.id}"


async def test_escape_goes_back_with_the_cursor_where_it_was() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, MPI_JOB, STRAGGLER)
        # enter puts the keyboard in the rank's detail pane; escape takes it back to the table.
        await pilot.press("enter")
        assert app.focused is screen.query_one(SubtaskDetail)
        await pilot.press("escape")
        assert app.focused is screen.table and app.screen is screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        assert app.screen.table.selected_key == STRAGGLER
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        assert app.screen.table.selected_key == MPI_JOB


async def test_a_straggler_is_flagged_and_the_cursor_stays_on_its_rank_across_refreshes() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, MPI_JOB, STRAGGLER)
        await wait_for(pilot, lambda: any(a.kind == "straggler" for a in screen.alerts))
        alert = next(a for a in screen.alerts if a.kind == "straggler")
        assert 0 not in alert.rank_ids  # the primary waits for everyone; it is not the straggler
        slow = str(alert.rank_ids[0])
        assert "straggler: rank" in str(screen.query_one("#subtasks-alerts").visual)
        assert "⚠" in cells(screen, slow)[1]
        screen.table.select_key(slow)
        await pilot.press("s")  # sort by state: rows move, the cursor follows the rank
        fetches = screen.fetches
        sim.clock.advance(60)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches)
        await pilot.pause()
        assert screen.table.selected_key == slow


async def test_slash_filters_the_ranks() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, MPI_JOB, RANK_FAILS)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"failure")
        failed = [k for k, r in screen.ranks.items() if r.failed]
        assert list(screen.table.visible_keys) == failed
        await pilot.press("enter")
        assert screen.table.selected_key == failed[0]
        await pilot.press("escape")
        assert screen.table.visible_count == len(screen.ranks)
        assert app.screen is screen


async def test_a_finished_task_polls_slowly_and_says_so() -> None:
    app, _ = make_sim_app(refresh=5.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, FINISHED_JOB, "solver-00")
        await wait_for(pilot, lambda: screen.is_finished)
        assert screen.refresh_interval() == 30.0
        assert screen.status.interval == 30.0
        assert "finished" in screen.status.plain


async def test_a_deleted_task_is_reported_and_the_screen_goes_back() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await drill(pilot, app, MPI_JOB, RANK_FAILS)
        assert sim.delete_task(MPI_JOB, RANK_FAILS)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        assert any(f"Task {RANK_FAILS} no longer exists" in n.message for n in app._notifications)
        assert not screen.is_attached
        # The task list no longer has it either.
        await wait_for(pilot, lambda: RANK_FAILS not in app.screen.table.rows_by_key)


async def test_a_deleted_job_takes_the_operator_back_to_the_jobs_with_one_notice() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await drill(pilot, app, MPI_JOB, RANK_FAILS)
        assert sim.delete_job(MPI_JOB)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        notices = [n.message for n in app._notifications]
        assert sum(f"Job {MPI_JOB} no longer exists" in m for m in notices) == 1
        assert not any("Task" in m and "no longer exists" in m for m in notices)


# --------------------------------------------------------------------------- hostile text

HOSTILE_MESSAGE = "[red]boom[/red] \x1b[2J\x1b[31mred\x07 [link=http://x]y[/link]"
HOSTILE_COMMAND = "[b]rm -rf /[/b] \x1b]0;pwned\x07 $(whoami)"


class Tamper:
    """ASGI middleware: lets the simulator answer, then edits the JSON bodies on the way out."""

    def __init__(self, app: Simulator, edit: Callable[[str, Any], None]) -> None:
        self.app = app
        self.edit = edit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            data = bytes(body)
            if data.startswith(b"{"):
                obj = json.loads(data)
                self.edit(scope["path"], obj)
                data = json.dumps(obj).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, capture)


def poison(path: str, body: Any) -> None:
    if path.endswith("/subtasksinfo"):
        for sub in body.get("value", []):
            if "failureInfo" in sub:
                sub["failureInfo"]["message"] = HOSTILE_MESSAGE
                sub["failureInfo"]["details"] = [{"name": "[i]Note[/i]", "value": HOSTILE_MESSAGE}]
            sub.setdefault("nodeInfo", {})["nodeId"] = "[blink]node[/blink]\x1b[5m"
    elif path.endswith(f"/tasks/{RANK_FAILS}"):
        body["multiInstanceSettings"]["coordinationCommandLine"] = HOSTILE_COMMAND
        body["commandLine"] = HOSTILE_COMMAND
        body["displayName"] = "[reverse]solver[/reverse]"


async def test_hostile_failure_messages_and_command_lines_are_shown_literally() -> None:
    sim = make_sim()
    client = make_client(sim, app=Tamper(sim, poison))
    app = make_app(client, refresh=3600.0, now=sim.clock.now)
    async with app.run_test(size=SIZE) as pilot:
        screen = await drill(pilot, app, MPI_JOB, RANK_FAILS)
        shown_command = "[b]rm -rf /[/b] \\x1b]0;pwned\\x07 $(whoami)"
        header = str(screen.query_one("#subtasks-header").visual)
        assert shown_command in header
        assert "[reverse]solver[/reverse]" in header
        dead = next(k for k, r in screen.ranks.items() if r.failed)
        assert "[blink]node[/blink]\\x1b[5m" in cells(screen, dead)[2]
        screen.table.select_key(dead)
        pane = screen.query_one(SubtaskDetail)
        shown_message = "[red]boom[/red] \\x1b[2J\\x1b[31mred\\x07 [link=http://x]y[/link]"
        await wait_for(pilot, lambda: shown_message in unwrapped(pane))
        assert "[i]Note[/i]" in pane.plain
        # What the terminal gets: the same characters, and no raw escape or bell anywhere.
        await pilot.pause()
        svg = app.export_screenshot().replace("&#160;", " ")
        assert shown_message in svg and shown_command in svg
        assert "\x1b" not in svg and "\x07" not in svg
        # The primary's pane carries the full command lines, literally too.
        screen.table.select_key("0")
        await wait_for(pilot, lambda: shown_command in unwrapped(pane))
