"""Pools, nodes and a node's details against the simulator, as an operator reaches them: ``:``
then ``pools``, enter on a pool, enter on a node, ``n`` from a task or rank, ``b`` for the bad
node, and the queued job's hint on the count bar."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from textual.pilot import Pilot
from ui_support import make_client, make_sim, wait_for

from batchtui.batch.client import RequestEvent
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.nodes import NodesScreen
from batchtui.ui.screens.pools import PoolsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.count_bar import CountBar
from batchtui.ui.widgets.subtask_detail import SubtaskDetail

SIZE = (120, 40)
BAD_JOB = "etl-nightly-0011"  # seed 7: most of its failures on the etl pool's bad node


def recording_app(sim: Simulator) -> tuple[BatchApp, list[RequestEvent]]:
    events: list[RequestEvent] = []
    app = make_app(make_client(sim, on_event=events.append), refresh=3600.0, now=sim.clock.now)
    return app, events


def paths(events: list[RequestEvent]) -> list[str]:
    return [urlsplit(e.url).path for e in events]


async def home(pilot: Pilot[Any], app: BatchApp) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)


async def command(pilot: Pilot[Any], text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("enter")


def header(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).visual)


async def test_colon_pools_enter_enter_reaches_a_sick_node_and_its_error() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, "pools")
        await wait_for(
            pilot, lambda: isinstance(app.screen, PoolsScreen) and app.screen.table.total_count > 0
        )
        pools = app.screen
        assert isinstance(pools, PoolsScreen)
        assert list(pools.table.rows_by_key) == sorted(sim.world.pools)
        assert paths(events).count("/nodecounts") == 1  # one call for every pool
        row = [c.plain for c in pools.table.get_row("pool-gpu-h100")]  # type: ignore[union-attr]
        assert "0/4" in row and any("AccountCoreQuotaReached" in c for c in row)
        hpc = [c.plain for c in pools.table.get_row("pool-hpc-a")]  # type: ignore[union-attr]
        assert "start task failed" in hpc[-1] and hpc[-2] == "2"
        await pilot.press("ctrl+z")  # only pools in trouble
        await pilot.pause()
        assert "pool-hpc-b" not in pools.table.visible_keys and "pool-hpc-a" in pools.table.visible_keys
        await pilot.press("ctrl+z")
        assert pools.table.select_key("pool-hpc-a")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodesScreen) and app.screen.table.total_count > 0
        )
        nodes = app.screen
        assert isinstance(nodes, NodesScreen) and len(nodes.nodes) == 64
        first = nodes.table.visible_keys[:2]  # sick first
        assert {nodes.nodes[k].state for k in first} == {"starttaskfailed", "unusable"}
        assert "1 starttaskfailed" in header(nodes, "#nodes-header")
        failed = next(k for k in first if nodes.nodes[k].state == "starttaskfailed")
        assert any(c.plain == "failed, exit 100" for c in nodes.table.get_row(failed))
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert set(nodes.table.visible_keys) == set(first)
        unusable = next(k for k in first if nodes.nodes[k].state == "unusable")
        assert nodes.table.select_key(unusable)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        detail = app.screen
        assert isinstance(detail, NodeDetailScreen)
        text = detail.query_one(SubtaskDetail).plain
        assert "DiskFull" in text and "There is not enough disk space on the node" in text
        assert "FreeSpaceMiB" in text and "/mnt/batch/tasks" in text  # every detail
        assert "agent version" in text and "1.12.39" in text and "VM size" in text and "10.0." in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is nodes)
        await pilot.press("escape")  # clears trouble-only first
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is pools)


async def test_a_recent_task_is_a_jump_to_the_task() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        bad = sim.world.pools["pool-etl-d16"].nodes[6].id
        await command(pilot, f"node pool-etl-d16 {bad}")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.table.total_count > 0
        )
        detail = app.screen
        assert [type(s).__name__ for s in app.screen_stack] == [
            "JobsScreen",
            "PoolsScreen",
            "NodesScreen",
            "NodeDetailScreen",
        ]
        key = detail.table.selected_key
        assert key is not None
        job_id, task_id = key.split("#")[0].split("/")[:2]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        assert app.screen.task_snapshot.id == task_id  # type: ignore[attr-defined]
        under = app.screen_stack[-2]
        assert isinstance(under, TasksScreen) and under.job_id == job_id


async def test_n_opens_the_node_of_a_task_and_of_its_details() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, f"job {BAD_JOB}")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        ran = next(t for t in tasks.tasks.values() if t.node_info is not None)
        assert tasks.table.select_key(ran.id or "")
        await pilot.press("n")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        node = app.screen
        assert isinstance(node, NodeDetailScreen) and ran.node_info is not None
        assert (node.pool_id, node.node_id) == (ran.node_info.pool_id, ran.node_info.node_id)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is tasks)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NodeDetailScreen))
        assert app.screen.node_id == ran.node_info.node_id  # type: ignore[attr-defined]
        waiting = next((t for t in tasks.tasks.values() if t.node_info is None), None)
        if waiting is not None:
            await pilot.press("escape")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is tasks)
            tasks.table.select_key(waiting.id or "")
            await pilot.press("n")
            await pilot.pause()
            assert app.screen is tasks  # nothing to open: it says so


async def test_n_on_a_rank_and_the_ranks_failures_grouped() -> None:
    sim = make_sim()
    sim.clock.advance(3 * 3600)  # rank 4 died; the others hung until the wall clock ended them
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, "task mpi-cfd-0001 solver-00")
        await wait_for(
            pilot, lambda: isinstance(app.screen, SubtasksScreen) and app.screen.table.total_count > 0
        )
        subtasks = app.screen
        assert isinstance(subtasks, SubtasksScreen)
        failed = [r for r in subtasks.ranks.values() if r.failed]
        alerts = header(subtasks, "#subtasks-alerts")
        assert len(failed) > 1 and alerts.startswith(f"ranks: {len(failed)} failed")
        assert "TaskEnded (exit 137) on" in alerts and "1 exit 139 on 1 node" in alerts
        rank = next(r for r in subtasks.ranks.values() if not r.primary)
        assert subtasks.table.select_key(str(rank.id))
        await pilot.press("n")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        assert app.screen.node_id == rank.node_id  # type: ignore[attr-defined]


async def test_a_node_that_is_gone_says_so() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, f"job {BAD_JOB}")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        ran = next(t for t in tasks.tasks.values() if t.node_info is not None)
        assert ran.node_info is not None and ran.node_info.node_id and ran.node_info.pool_id
        sim.world.remove_node(ran.node_info.pool_id, ran.node_info.node_id, sim.clock.seconds() - 600)
        tasks.table.select_key(ran.id or "")
        await pilot.press("n")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.gone is not None
        )
        node = app.screen
        text = header(node, "#node-header")
        assert "this node is gone" in text and "no longer in pool" in text
        assert ran.node_info.node_url in node.query_one(SubtaskDetail).plain  # what the task knew


async def test_the_tasks_screen_names_the_likely_bad_node_and_b_opens_it() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, f"job {BAD_JOB}")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.failures is not None)
        tasks = app.screen
        assert isinstance(tasks, TasksScreen) and tasks.failures is not None and tasks.counts is not None
        bad = tasks.failures.bad_node
        assert bad is not None and bad.node_id.split("_")[1].startswith("7-")
        failed = tasks.counts.task_counts.failed
        line = header(tasks, "#tasks-header").splitlines()[2]
        assert line.startswith(f"tasks: {failed} failed · {bad.count} on {bad.node_id} (exit 137)")
        assert "likely bad node (b opens it)" in line
        reads = [
            e for e in events if urlsplit(e.url).path == f"/jobs/{BAD_JOB}/tasks" and "result%20eq" in e.url
        ]
        assert len(reads) == 1  # $filter=executionInfo/result eq 'failure', one page
        assert "%24select=id%2CexecutionInfo%2CnodeInfo" in reads[0].url
        await pilot.press("ctrl+r")  # the tasks refresh, their failed count unchanged
        await wait_for(pilot, lambda: tasks.fetches >= 2)
        await pilot.pause(0.2)
        assert len([e for e in events if "result%20eq" in e.url]) == 2  # ctrl+r reads them again too
        await pilot.press("b")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        assert app.screen.node_id == bad.node_id  # type: ignore[attr-defined]


async def test_a_queued_job_says_why_on_its_count_bar() -> None:
    sim = make_sim()
    app, events = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        assert jobs.table.select_key("llm-train-0008")
        await pilot.pause()
        bar = jobs.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.queued is not None and "resize" in bar.data.queued)
        assert bar.data.queued == (
            "pool pool-gpu-h100 has no nodes: its resize failed: AccountCoreQuotaReached "
            "(The specified account has reached VM core quota limit)"
        )
        assert "/pools/pool-gpu-h100" in paths(events)
        busy = next(k for k in jobs.table.rows_by_key if k.startswith("render-shot-0000"))
        jobs.table.select_key(busy)
        await pilot.pause(0.2)
        assert bar.data.queued is None


async def test_pool_and_node_ids_complete_from_what_is_on_screen() -> None:
    sim = make_sim()
    app, _ = recording_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app)
        await command(pilot, "nodes pool-etl-d16")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodesScreen) and app.screen.table.total_count > 0
        )
        from batchtui.ui.commands import complete
        from batchtui.ui.navigate import known_ids

        def known(arg: str, before: Any) -> Any:
            return known_ids(app, arg, before)

        assert complete("nodes pool-e", known) == "nodes pool-etl-d16"
        assert complete("node pool-etl-d16 tvm-", known) is not None
        assert complete("node pool-etl-d16 tvm-", known).startswith("node pool-etl-d16 tvm-")  # type: ignore[union-attr]
