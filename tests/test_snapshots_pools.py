"""Snapshot tests of the pool screens: pools, a pool's nodes, a node (the likely bad one, reached
with ``b`` from its job's failures) and the tasks screen's failure line. Same frozen world and
clock as tests/test_snapshots.py; update with ``--snapshot-update`` and look at the report."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_support import make_sim_app, wait_for

from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.nodes import NodesScreen
from batchtui.ui.screens.pools import PoolsScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.count_bar import CountBar

SIZE = (120, 40)


async def _go(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, JobsScreen) and app.screen.query_one(CountBar).data.counts is not None,
    )
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*("space" if c == " " else c for c in text))
    await pilot.press("enter")


async def _settled(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: not pilot.app.screen.table.flashed_keys)  # type: ignore[attr-defined]
    await pilot.pause()


def test_pools(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _go(pilot, "pools")
        await wait_for(pilot, lambda: isinstance(app.screen, PoolsScreen) and app.screen.snapshot is not None)
        await _settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_nodes_sick_first(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _go(pilot, "nodes pool-hpc-a")
        await wait_for(pilot, lambda: isinstance(app.screen, NodesScreen) and app.screen.pool is not None)
        await _settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_likely_bad_node(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _go(pilot, "job etl-nightly-0011")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.failures is not None)
        await pilot.press("b")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        await _settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tasks_with_their_failures_grouped(snap_compare: Any) -> None:
    app, _ = make_sim_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await _go(pilot, "job etl-nightly-0011")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.failures is not None)
        await _settled(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
