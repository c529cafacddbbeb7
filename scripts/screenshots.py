"""Regenerate screenshots/*.svg: every screen of the dashboard, from the simulator.

The world is fixed (seed 7, 20 jobs, frozen clock) and freshness is frozen too, so running
this twice gives the same files. Usage: ``python scripts/screenshots.py [--out screenshots]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.app import numbered_request_ids
from batchtui.ui.app import AccountSpec, BatchApp, make_app
from batchtui.ui.drive import command, home, open_row, reach, until
from batchtui.ui.screens.accounts import AccountsScreen
from batchtui.ui.screens.action_history import ActionHistoryScreen
from batchtui.ui.screens.choose_option import ChooseOption
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.feed import FeedScreen
from batchtui.ui.screens.file_list import FileListScreen
from batchtui.ui.screens.help import HelpScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.kiosk import KioskScreen
from batchtui.ui.screens.logs import LogScreen
from batchtui.ui.screens.node_detail import NodeDetailScreen
from batchtui.ui.screens.node_log import NodeLogScreen
from batchtui.ui.screens.nodes import NodesScreen
from batchtui.ui.screens.pools import PoolsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.count_bar import CountBar
from batchtui.ui.widgets.count_tile import CountTile

MPI_JOB = "mpi-cfd-0001"
MIXED_JOB = "render-shot-0018"
BAD_JOB = "etl-nightly-0011"  # most of its failures on the etl pool's bad node
BIG = (120, 40)
SMALL = (80, 24)


async def help_screen(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))


async def tasks(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await open_row(pilot, MPI_JOB, TasksScreen)


async def subtasks(pilot: Pilot[Any]) -> None:
    await tasks(pilot)
    app = pilot.app
    screen = app.screen
    mpi = [t for t in screen.tasks.values() if t.is_multi_instance]
    # The most telling one: a failed MPI task, else a running one, else any.
    mpi.sort(key=lambda t: (t.result != "failure", t.state != "running", t.id or ""))
    await open_row(pilot, mpi[0].id, SubtasksScreen)


async def confirm_dialog(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(
        pilot, lambda: isinstance(app.screen, ConfirmAction) and bool(app.screen.query("#confirm-keys"))
    )
    await pilot.pause()


async def confirm(pilot: Pilot[Any]) -> None:
    """ctrl+k on the ranks of the MPI task whose rank 4 failed while the others keep running."""
    await tasks(pilot)
    await open_row(pilot, "solver-00", SubtasksScreen)
    await pilot.press("ctrl+k")
    await confirm_dialog(pilot)


async def confirm_destructive(pilot: Pilot[Any]) -> None:
    """ctrl+k on a job with running tasks: its id must be typed."""
    await home(pilot)
    assert pilot.app.screen.table.select_key(MIXED_JOB)
    await pilot.pause()
    await pilot.press("ctrl+k")
    await confirm_dialog(pilot)
    await pilot.press(*"render")


async def history(pilot: Pilot[Any]) -> None:
    """Two terminations (one accepted, one refused in the service's words), then H."""
    await home(pilot)
    app = pilot.app
    assert isinstance(app, BatchApp)
    screen = await open_row(pilot, MIXED_JOB, TasksScreen)
    running = sorted(k for k, t in screen.tasks.items() if t.state == "running")[0]
    done = sorted(k for k, t in screen.tasks.items() if t.state == "completed" and t.result == "success")[0]
    for task in (running, done):
        assert screen.table.select_key(task)
        await pilot.pause()
        await pilot.press("ctrl+k")
        await confirm_dialog(pilot)
        await pilot.press("y")
        await until(pilot, lambda task=task: any(task in r.target for r in app.actions.history))
    app.clear_notifications()  # they time out in real seconds: not part of a stable picture
    await pilot.press("H")
    await until(pilot, lambda: isinstance(app.screen, ActionHistoryScreen))


async def rank_stderr(pilot: Pilot[Any]) -> None:
    """l on the rank that failed, then o: its stderr, with the backtrace."""
    await subtasks(pilot)
    app = pilot.app
    screen = app.screen
    assert isinstance(screen, SubtasksScreen)
    failed = [key for key, rank in screen.ranks.items() if rank.failed]
    assert failed and screen.table.select_key(failed[0])
    await pilot.pause()
    await pilot.press("l")
    await reach(pilot, LogScreen, lambda s: s.snapshot is not None)
    await pilot.press("o")
    await reach(pilot, LogScreen, lambda s: s.snapshot is not None and s.file.path.endswith("stderr.txt"))


async def log_files(pilot: Pilot[Any]) -> None:
    """f on the log: the files of the rank's directory."""
    await rank_stderr(pilot)
    await pilot.press("f")
    await reach(pilot, FileListScreen, lambda s: bool(s.entries))


async def pools(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await command(pilot, "pools")
    await reach(pilot, PoolsScreen)


async def nodes(pilot: Pilot[Any]) -> None:
    await pools(pilot)
    await open_row(pilot, "pool-hpc-a", NodesScreen)


async def bad_node(pilot: Pilot[Any]) -> None:
    """The tasks of a job whose failures sit on one node, then ``b``: that node."""
    await home(pilot)
    await command(pilot, f"job {BAD_JOB}")
    await reach(pilot, TasksScreen, lambda s: s.failures is not None)
    await pilot.press("b")
    await reach(pilot, NodeDetailScreen, lambda s: s.node is not None)


async def node_reboot(pilot: Pilot[Any]) -> None:
    """On the bad node, ``B`` then ``enter`` (requeue): the confirmation names what follows."""
    await bad_node(pilot)
    app = pilot.app
    await pilot.press("B")
    await until(pilot, lambda: isinstance(app.screen, ChooseOption))
    await pilot.pause()
    await pilot.press("enter")
    await confirm_dialog(pilot)


async def failed_start(pilot: Pilot[Any]) -> None:
    """Enter on the node of pool-hpc-a whose start task failed."""
    await nodes(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, NodesScreen)
    failed = next(k for k in screen.table.visible_keys if screen.nodes[k].state == "starttaskfailed")
    await open_row(pilot, failed, NodeDetailScreen, lambda s: s.node is not None)


async def start_task_log(pilot: Pilot[Any]) -> None:
    """l on that node: its start task's stderr, where it says why it failed."""
    await failed_start(pilot)
    await pilot.press("l")
    await reach(pilot, NodeLogScreen, lambda s: s.snapshot is not None)


async def bad_job(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await command(pilot, f"job {BAD_JOB}")
    await reach(pilot, TasksScreen, lambda s: s.failures is not None)


async def world_moves(pilot: Pilot[Any], minutes: int = 12) -> None:
    """Move the (frozen) world on a minute at a time, reading it again after each step, so that
    the trend, the change feed and the alerts have something to say."""
    app = pilot.app
    assert isinstance(app, BatchApp)
    for _ in range(minutes):
        SIMS[0].clock.advance(60)
        before = app.account.latest
        handle = app.account.watch_handle
        if handle is not None and not handle.closed:
            handle.refresh_now()  # the kiosk: no key refreshes, its watch reads the account
        else:
            await pilot.press("r")
        await until(pilot, lambda before=before: app.account.latest is not before)
    await pilot.pause()


async def wallboard(pilot: Pilot[Any]) -> None:
    await home(pilot)
    app = pilot.app
    assert isinstance(app, BatchApp)
    app.toggle_pin(MPI_JOB)
    await world_moves(pilot)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    moving = "render-shot-0000"  # still running after the twelve minutes (seed 7)
    screen.table.select_key(moving)
    await until(pilot, lambda: screen.query_one(CountBar).data.job_id == moving)
    await until(pilot, lambda: bool(app.alerts.shown) and not screen.table.flashed_keys)


async def feed(pilot: Pilot[Any]) -> None:
    await home(pilot)
    await world_moves(pilot)
    await pilot.press("e")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, FeedScreen) and bool(app.screen.lines()))


async def accounts(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, BatchApp)

    def ready() -> bool:
        s = app.screen
        return isinstance(s, AccountsScreen) and all(a.latest is not None for a in app.accounts)

    await until(pilot, ready)


async def kiosk(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, BatchApp)
    for job in (MPI_JOB, MIXED_JOB, BAD_JOB, "render-shot-0000"):
        app.toggle_pin(job)
    await until(pilot, lambda: isinstance(app.screen, KioskScreen) and app.accounts[0].latest is not None)
    await world_moves(pilot, 6)
    screen = app.screen
    await until(pilot, lambda: len(screen.query(CountTile)) >= 4)


class Frozen:
    def __call__(self) -> float:
        return 1000.0


#: the simulated worlds of the app being shot (the first is the current account's)
SIMS: list[Simulator] = []


def client_of(sim: Simulator, endpoint: str = "http://127.0.0.1:8765") -> BatchClient:
    return BatchClient(
        endpoint,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
    )


def build(theme: str | None = None, **kw: Any) -> BatchApp:
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0), request_ids=numbered_request_ids())
    SIMS[:] = [sim]
    return make_app(
        client_of(sim),
        refresh=5.0,
        theme=theme,
        now=sim.clock.now,
        monotonic=Frozen(),
        account_label="demo",
        **kw,
    )


def build_kiosk(theme: str | None = None) -> BatchApp:
    return build(theme, kiosk=True, cycle=3600)


def build_accounts(theme: str | None = None) -> BatchApp:
    worlds = [
        ("prod-eastus", Simulator(SimConfig(seed=7, jobs=20, time_scale=0, account="prodeast"))),
        ("research-westeu", Simulator(SimConfig(seed=11, jobs=9, time_scale=0, account="research"))),
        ("render-farm", Simulator(SimConfig(seed=3, jobs=14, time_scale=0, account="render"))),
    ]
    SIMS[:] = [sim for _, sim in worlds]
    specs = [
        AccountSpec(
            name, client_of(sim, f"https://{sim.config.account}.example.batch.azure.com"), now=sim.clock.now
        )
        for name, sim in worlds
    ]
    return make_app(specs, refresh=5.0, theme=theme, monotonic=Frozen())


SCENES: list[tuple[str, str | None, tuple[int, int], Callable[[Pilot[Any]], Awaitable[None]]]] = [
    ("jobs", None, BIG, home),
    ("jobs-light", "batchtui-light", BIG, home),
    ("jobs-high-contrast", "batchtui-high-contrast", BIG, home),
    ("jobs-80x24", None, SMALL, home),
    ("help", None, BIG, help_screen),
    ("tasks", None, BIG, tasks),
    ("subtasks", None, BIG, subtasks),
    ("confirm", None, BIG, confirm),
    ("confirm-destructive", None, BIG, confirm_destructive),
    ("history", None, BIG, history),
    ("logs-rank-stderr", None, BIG, rank_stderr),
    ("logs-files", None, BIG, log_files),
    ("tasks-failures", None, BIG, bad_job),
    ("pools", None, BIG, pools),
    ("nodes", None, BIG, nodes),
    ("node", None, BIG, bad_node),
    ("node-reboot", None, BIG, node_reboot),
    ("node-start-task-failed", None, BIG, failed_start),
    ("node-start-task-log", None, BIG, start_task_log),
    ("wallboard", None, BIG, wallboard),
    ("feed", None, BIG, feed),
    ("accounts", None, BIG, accounts),
    ("kiosk", None, BIG, kiosk),
]
#: scenes whose app is not the one-account dashboard
BUILDERS: dict[str, Callable[[str | None], BatchApp]] = {"accounts": build_accounts, "kiosk": build_kiosk}


async def shoot(out: Path, only: set[str] | None = None) -> None:
    for name, theme, size, scene in SCENES:
        if only and name not in only:
            continue
        app = BUILDERS.get(name, build)(theme)
        async with app.run_test(size=size) as pilot:
            await scene(pilot)
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            app.save_screenshot(filename=f"{name}.svg", path=str(out))
        print(f"wrote {out / (name + '.svg')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="shoot only these scenes")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(shoot(args.out, set(args.only) if args.only else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
