"""``l`` on a node's details: its start task's output in the log screen, through the node-files
API, against the in-process simulator. A failed start task opens at its stderr (exactly the
simulator's bytes), ``o`` switches to stdout, a running one is followed as the virtual clock
moves (a HEAD a tick, a ranged GET only when it grew) until it completes, and a node that
cannot serve files, or is gone, says so in place."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from textual.pilot import Pilot
from ui_support import make_client, make_sim, step, wait_for

from batchtui.batch.client import RequestEvent
from batchtui.batch.files import NodeFileRef
from batchtui.logtext import decode
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.sim.file_tree import node_file
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.drive import command, home, reach
from batchtui.ui.screens.file_list import FileListScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.node_log import NodeLogScreen

SIZE = (120, 40)
POOL = "pool-hpc-a"
FAILED, REBOOTING = 3, 5  # seed 7, frozen: node 4's start task failed, node 6 is rebooting


def truth(sim: Simulator, pool: str, index: int, name: str) -> bytes:
    """The start task's file as the simulator's world holds it now, read without any HTTP."""
    t = sim.clock.seconds()
    f = node_file(sim.world, pool, index, f"startup\\{name}", t)
    assert f is not None and f.content is not None
    return f.content.read(0, f.content.size(t), t)


def texts(screen: NodeLogScreen) -> list[str]:
    return [line.text for line in screen.view.rows.lines]


def header(screen: Any) -> str:
    return str(screen.query_one("#log-header").render())


def shown(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).visual)


async def node_details(pilot: Pilot[Any], app: BatchApp, pool: str, node: str) -> NodeDetailScreen:
    """``:node POOL NODE`` (from any screen: the command line is everywhere)."""
    if isinstance(app.screen, JobsScreen):
        await home(pilot)
    await command(pilot, f"node {pool} {node}")
    return await reach(pilot, NodeDetailScreen, lambda s: s.node_id == node and s.node is not None)


async def opened(pilot: Pilot[Any], app: BatchApp) -> NodeLogScreen:
    screen = await reach(pilot, NodeLogScreen, lambda s: s.snapshot is not None)
    await pilot.pause()
    return screen


def file_calls(events: list[RequestEvent]) -> list[tuple[str, str]]:
    return [(e.method, unquote(urlsplit(e.url).path)) for e in events if "/files" in e.url]


async def test_l_on_a_node_whose_start_task_failed_opens_its_stderr_and_o_its_stdout() -> None:
    sim = make_sim()
    events: list[RequestEvent] = []
    app = make_app(make_client(sim, on_event=events.append), refresh=3600.0, now=sim.clock.now)
    node = sim.world.pools[POOL].nodes[FAILED].id
    async with app.run_test(size=SIZE) as pilot:
        detail = await node_details(pilot, app, POOL, node)
        assert detail.node is not None and detail.node.start_task_info is not None
        assert detail.node.start_task_info.exit_code == 100
        events.clear()
        await pilot.press("l")
        screen = await opened(pilot, app)
        assert screen.file == NodeFileRef(POOL, node, "startup/stderr.txt", root="startup")
        stderr = truth(sim, POOL, FAILED, "stderr.txt")
        assert texts(screen) == [line.text for line in decode(stderr)]
        assert any("Could not get lock /var/lib/dpkg/lock-frontend" in t for t in texts(screen))
        top = header(screen)
        assert top.startswith("stderr.txt") and f"start task · node {node}" in top
        assert f"{len(stderr):,} B" in top and "modified" in top and "■ complete" in top
        assert screen.crumbs() == ("pools", POOL, "nodes", node, "start task", "stderr.txt")
        # through the node-files API: a HEAD, then a GET of the bytes
        path = f"/pools/{POOL}/nodes/{node}/files/startup/stderr.txt"
        assert ("HEAD", path) in file_calls(events) and ("GET", path) in file_calls(events)
        states = [e for e in events if urlsplit(e.url).path == f"/pools/{POOL}/nodes/{node}"]
        assert states and parse_qs(urlsplit(states[0].url).query)["$select"] == ["id,state,startTaskInfo"]

        await pilot.press("o")
        screen = await opened(pilot, app)
        assert screen.file == NodeFileRef(POOL, node, "startup/stdout.txt", root="startup")
        assert texts(screen) == [] and truth(sim, POOL, FAILED, "stdout.txt") == b""
        assert shown(screen, "#log-notice") == "The file is empty."
        await pilot.press("o")
        screen = await opened(pilot, app)
        assert screen.file.path == "startup/stderr.txt" and texts(screen) == [
            line.text for line in decode(stderr)
        ]
        # f: the start task's directory, listed through the node (names relative to startup/)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FileListScreen) and bool(app.screen.entries))
        listing = app.screen
        assert isinstance(listing, FileListScreen)
        assert set(listing.entries) == {"stderr.txt", "stdout.txt", "wd"}
        await pilot.press("escape")
        await pilot.press("q")
        assert isinstance(app.screen, NodeDetailScreen)


async def test_a_running_start_task_is_followed_until_it_completes() -> None:
    sim = make_sim()
    pool = sim.world.pools["pool-hpc-b"]  # resizing: its new nodes come up and run the start task
    index = None
    for _ in range(200):
        sim.clock.advance(5)
        for k in range(len(pool.nodes)):
            view = sim.world.nodes.find_node(pool, pool.nodes[k].id, sim.clock.seconds())
            st = view.start_task if view is not None else None
            if view is not None and view.state == "waitingforstarttask" and st and st.state == "running":
                index = k
                break
        if index is not None:
            break
    assert index is not None
    node = pool.nodes[index].id
    timer = ManualTimer()
    events: list[RequestEvent] = []
    app = make_app(make_client(sim, on_event=events.append), refresh=2.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        await node_details(pilot, app, pool.id, node)
        await pilot.press("l")
        screen = await opened(pilot, app)
        assert screen.file.path == "startup/stdout.txt"  # it has not failed: stdout
        await step(pilot, app, timer, 0)
        assert screen.task_state == "running" and "● following" in header(screen)
        counts = [len(texts(screen))]
        for _ in range(30):
            sim.clock.advance(1)
            events.clear()
            await step(pilot, app, timer, 2.0)
            await pilot.pause()
            calls = Counter(method for method, _ in file_calls(events))
            assert calls["HEAD"] <= 1 and calls["GET"] <= calls["HEAD"]  # only what is new
            counts.append(len(texts(screen)))
            if screen.task_state == "completed" and screen.snapshot and not screen.snapshot.live:
                break
        assert counts == sorted(counts) and counts[0] < counts[-1] and len(set(counts)) > 2
        assert texts(screen) == [line.text for line in decode(truth(sim, pool.id, index, "stdout.txt"))]
        assert texts(screen)[-1] == "setup-node.sh: node ready"
        assert "■ complete" in header(screen)
        assert screen.handle is not None and screen.handle.pace.interval > 2.0  # done: read slowly


async def test_a_node_that_cannot_serve_files_or_is_gone_says_so() -> None:
    sim = make_sim()
    app = make_app(make_client(sim), refresh=3600.0, now=sim.clock.now)
    rebooting = sim.world.pools[POOL].nodes[REBOOTING].id
    async with app.run_test(size=SIZE) as pilot:
        detail = await node_details(pilot, app, POOL, rebooting)
        assert detail.node is not None and detail.node.state == "rebooting"
        await pilot.press("l")
        screen = await opened(pilot, app)
        error = shown(screen, "#log-error")
        assert "NodeNotReady" in error and "cannot serve files in its current state" in error
        assert "○ waiting for it" in header(screen)
        await pilot.press("q")

        # gone while its log is open: the next read says so, in the operator's words
        idle = sim.world.pools[POOL].nodes[0].id
        await node_details(pilot, app, POOL, idle)
        await pilot.press("l")
        screen = await opened(pilot, app)
        assert texts(screen) and not shown(screen, "#log-error")
        sim.world.remove_node(POOL, idle, sim.clock.seconds())
        await pilot.press("r")
        await wait_for(pilot, lambda: bool(screen.snapshot and screen.snapshot.error))
        await pilot.pause()
        error = shown(screen, "#log-error")
        assert (
            "NodeNotFound" in error and "the node is gone" in error and "lines read before are kept" in error
        )
        assert "■ unavailable" in header(screen)

        # a node already known to be gone: l says so without opening anything
        await pilot.press("q")
        back = app.screen
        assert isinstance(back, NodeDetailScreen)
        sim.clock.advance(120)  # past leavingpool: the node itself is no longer listed
        await pilot.press("r")
        await wait_for(pilot, lambda: back.gone is not None)
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, NodeDetailScreen)
        assert any("This node is gone" in n.message for n in app._notifications)
