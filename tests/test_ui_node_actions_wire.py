"""The node actions on a loopback simulator over real HTTP: read-only (--readonly) sends nothing
but GET and HEAD whatever node key is pressed, its footer says "read-only", its palette offers no
node action; and what the official SDK does to a node shows in batchtui within one refresh."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_ui_actions_wire import dashboard, sdk_for
from ui_support import wait_for

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.ui.app import BatchApp
from batchtui.ui.screens.choose_option import ChooseOption
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.nodes import NodesScreen

SIZE = (120, 40)
POOL = "pool-render-spot"
NODE_WORDS = ("Reboot", "scheduling", "Remove")


@pytest.fixture
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, server.url


def node_titles(screen: Any) -> list[str]:
    return [c.title for c in screen.system_commands() if any(w in c.title for w in NODE_WORDS)]


def footer(screen: Any) -> dict[str, str]:
    """What the footer shows: key (as displayed) -> description, for the shown bindings."""
    return {
        (b.key_display or b.key): b.description for _, b, _, _ in screen.active_bindings.values() if b.show
    }


async def open_nodes(pilot: Any, app: BatchApp) -> NodesScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    app.go(f"nodes {POOL}")
    await wait_for(pilot, lambda: isinstance(app.screen, NodesScreen) and bool(app.screen.nodes))
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, NodesScreen)
    return screen


async def test_read_only_node_keys_send_only_gets(served: tuple[Simulator, str]) -> None:
    sim, url = served
    app = dashboard(
        sim, ["--endpoint", url, "--account", sim.config.account, "--key", sim.config.key, "--readonly"]
    )
    assert app.readonly
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def press_every_node_key() -> None:
            for key in ("B", "D", "E", "X", "space", "y", "1"):
                app.clear_notifications()
                await pilot.press(key)
                await pilot.pause()
                assert not isinstance(app.screen, ChooseOption | ConfirmAction)
                if key in ("B", "D", "E", "X"):
                    assert any("read-only" in n.message for n in app._notifications), key

        nodes = await open_nodes(pilot, app)
        shown = footer(nodes)
        assert shown.get("B D E X") == "read-only" and "Reboot" not in shown.values()
        assert node_titles(nodes) == []
        nodes.table.select_key(next(k for k, n in nodes.nodes.items() if n.state == "running"))
        await press_every_node_key()
        await pilot.press("escape")  # the mark space made
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        detail = app.screen
        assert footer(detail).get("B D E X") == "read-only" and node_titles(detail) == []
        await press_every_node_key()
        detail.action_remove_nodes()  # even reached another way, nothing is asked or sent
        assert not isinstance(app.screen, ChooseOption | ConfirmAction)
    methods = {r.method for r in sim.requests}
    assert methods == {"GET"} and len(sim.requests) > 5
    assert not app.actions.history


async def test_the_footer_shows_the_node_keys_when_acting_is_allowed(served: tuple[Simulator, str]) -> None:
    sim, url = served
    app = dashboard(sim, ["--endpoint", url, "--account", sim.config.account, "--key", sim.config.key])
    async with app.run_test(size=SIZE) as pilot:
        nodes = await open_nodes(pilot, app)
        shown = footer(nodes)
        assert {k: shown.get(k) for k in "BDEX"} == {
            "B": "Reboot",
            "D": "Sched off",
            "E": "Sched on",
            "X": "Remove",
        }
        assert len(node_titles(nodes)) == 4 + 3 + 1 + 4  # every option of every action
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, NodeDetailScreen) and app.screen.node is not None
        )
        # a node's footer also holds its start task's log: one entry for the four keys
        assert footer(app.screen).get("B D E X") == "Reboot, sched, remove"
        assert len(node_titles(app.screen)) == 12


async def test_what_the_sdk_does_to_a_node_shows_within_one_refresh(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    from azure.batch.models import BatchNodeDisableSchedulingOptions
    from azure.batch.models._models import BatchNodeRebootOptions

    app = dashboard(sim, ["--endpoint", url, "--account", sim.config.account, "--key", sim.config.key])
    async with app.run_test(size=SIZE) as pilot:
        nodes = await open_nodes(pilot, app)
        running = [k for k, n in nodes.nodes.items() if n.state == "running"]
        rebooted, disabled = running[0], running[1]
        sdk.begin_reboot_node(POOL, rebooted, BatchNodeRebootOptions(node_reboot_kind="terminate"))
        sdk.disable_node_scheduling(
            POOL, disabled, BatchNodeDisableSchedulingOptions(node_disable_scheduling_option="requeue")
        )
        polls = nodes.fetches
        await pilot.press("ctrl+r")  # one refresh
        await wait_for(pilot, lambda: nodes.fetches > polls)
        assert nodes.nodes[rebooted].state == "rebooting"
        assert (
            nodes.nodes[disabled].state == "offline" and nodes.nodes[disabled].scheduling_state == "disabled"
        )
