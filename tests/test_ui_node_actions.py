"""Acting on nodes from the dashboard against the in-process simulator: B reboots (how, then y),
D and E switch scheduling, X removes (the id typed), on the nodes screen (selected or marked
with space) and on a node's screen; each goes over the wire once, comes back in the service's
words, lands in the action history and --log with its request id, and the rows follow at once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import Input
from ui_support import make_sim_app, wait_for

from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp
from batchtui.ui.screens.choose_option import ChooseOption
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.nodes import NodesScreen

SIZE = (120, 40)
POOL = "pool-render-spot"  # seed 7: tasks of minutes on most nodes


def notes(app: BatchApp) -> list[str]:
    return [n.message for n in app._notifications]


def writes(sim: Simulator) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in sim.requests if r.method not in ("GET", "HEAD")]


async def nodes_screen(pilot: Any, app: BatchApp, pool: str = POOL) -> NodesScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    app.go(f"nodes {pool}")
    await wait_for(pilot, lambda: isinstance(app.screen, NodesScreen) and app.screen.nodes)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, NodesScreen)
    return screen


async def dialog(pilot: Any, app: BatchApp, kind: type) -> Any:
    await wait_for(pilot, lambda: isinstance(app.screen, kind))
    await pilot.pause()
    return app.screen


def busy(screen: NodesScreen, n: int = 1) -> list[str]:
    found = [k for k, node in screen.nodes.items() if node.state == "running" and node.running_tasks_count]
    assert len(found) >= n
    return found[:n]


async def test_b_asks_how_then_reboots_and_the_row_follows(batchtui_log: Path) -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await nodes_screen(pilot, app)
        (node,) = busy(screen)
        running = screen.nodes[node].running_tasks_count
        screen.table.select_key(node)
        await pilot.press("B")
        chooser = await dialog(pilot, app, ChooseOption)
        assert [w for w, _ in chooser.options] == [
            "requeue",
            "terminate",
            "taskcompletion",
            "retaineddata",
        ]
        await pilot.press("enter")  # the first, requeue
        confirm = await dialog(pilot, app, ConfirmAction)
        what = "1 running task is" if running == 1 else f"{running} running tasks are"
        assert confirm.plan.summary == (
            f"reboot (requeue) node {node} of pool {POOL}: its {what} stopped and queued again"
            " (other nodes run them)"
        )
        assert writes(sim) == []  # asking sends nothing
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.nodes[node].state == "rebooting")
        assert writes(sim) == [("POST", f"/pools/{POOL}/nodes/{node}/reboot", 202)]
        await wait_for(pilot, lambda: bool(notes(app)))
        assert notes(app) == [f"node {node} of pool {POOL}: accepted (202)"]
        (record,) = app.actions.history
        assert record.outcome == "done" and record.request_id
    text = await asyncio.to_thread(batchtui_log.read_text, encoding="utf-8")
    assert f"reboot (requeue) node {node} of pool {POOL}: done" in text
    assert f"request-id {record.request_id}" in text


async def test_space_marks_survive_a_refresh_and_d_disables_every_marked_node() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await nodes_screen(pilot, app)
        marked = busy(screen, 2)
        for key in marked:
            screen.table.select_key(key)
            await pilot.press("space")
        assert "2 marked" in screen.view_summary()
        polls = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > polls)
        assert set(screen.table.marked_keys) == set(marked)  # they survive the refresh
        await pilot.press("D")
        await dialog(pilot, app, ChooseOption)
        await pilot.press("3")  # taskcompletion
        confirm = await dialog(pilot, app, ConfirmAction)
        assert confirm.plan.verb == "disable scheduling (taskcompletion) on node"
        assert confirm.plan.summary.startswith("disable scheduling (taskcompletion) on 2 nodes: no new task")
        assert all(k in str(confirm.query_one("#confirm-targets").visual) for k in marked)
        await pilot.press("y")
        await wait_for(pilot, lambda: all(screen.nodes[k].scheduling_state == "disabled" for k in marked))
        assert sorted(writes(sim)) == sorted(
            ("POST", f"/pools/{POOL}/nodes/{k}/disablescheduling", 200) for k in marked
        )
        assert not screen.table.marked_keys  # spent
        sim.clock.advance(1800)
        polls = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > polls)
        assert {screen.nodes[k].state for k in marked} == {"offline"}

        screen.table.select_key(marked[0])
        await pilot.press("E")  # no choice to make: straight to the confirmation
        confirm = await dialog(pilot, app, ConfirmAction)
        assert (
            confirm.plan.summary
            == f"enable scheduling on node {marked[0]} of pool {POOL}: it takes tasks again"
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.nodes[marked[0]].scheduling_state == "enabled")
        assert screen.nodes[marked[0]].state in ("idle", "running")
        app.clear_notifications()
        await pilot.press("E")  # enabled already: the service refuses, in its words
        await dialog(pilot, app, ConfirmAction)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes(app)))
        assert notes(app) == [
            f"node {marked[0]} of pool {POOL}: refused: NodeAlreadyInTargetSchedulingState: The node is already in the target scheduling state."
        ]


async def test_escape_clears_the_marks_and_n_cancels() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await nodes_screen(pilot, app)
        screen.table.select_key(busy(screen)[0])
        await pilot.press("space")
        assert screen.table.marked_keys
        await pilot.press("B")
        await dialog(pilot, app, ChooseOption)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("B", "enter")
        await dialog(pilot, app, ConfirmAction)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.table.marked_keys  # nothing was done: the marks stay
        await pilot.press("escape")
        assert not screen.table.marked_keys
        assert isinstance(app.screen, NodesScreen)
    assert writes(sim) == [] and not app.actions.history


async def test_x_on_a_nodes_screen_needs_the_id_typed_and_the_node_leaves() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await nodes_screen(pilot, app)
        (node,) = busy(screen)
        screen.table.select_key(node)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        detail = app.screen
        assert isinstance(detail, NodeDetailScreen)
        await pilot.press("X")
        await dialog(pilot, app, ChooseOption)
        await pilot.press("2")  # terminate
        confirm = await dialog(pilot, app, ConfirmAction)
        assert confirm.plan.destructive and confirm.plan.confirm_text == node
        assert confirm.plan.summary.startswith(
            f"remove (terminate) node {node} of pool {POOL}: it leaves the pool"
        )
        await pilot.press("y")  # one key is not enough
        await pilot.pause()
        assert isinstance(app.screen, ConfirmAction) and writes(sim) == []
        typed = confirm.query_one("#confirm-typed", Input)
        typed.value = node
        await pilot.press("enter")
        await wait_for(pilot, lambda: detail.node is not None and detail.node.state == "leavingpool")
        assert writes(sim) == [("POST", f"/pools/{POOL}/removenodes", 202)]
        sim.clock.advance(300)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: detail.gone is not None)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        polls = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > polls)
        assert node not in screen.nodes
