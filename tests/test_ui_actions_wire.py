"""The dashboard on a loopback simulator, over real HTTP: read-only (--readonly, the environment,
config.toml) sends nothing but GET and HEAD whatever key is pressed, and what the official SDK
does to the account while batchtui is open shows up within one refresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_support import sdk_for
from ui_support import FrozenClock, wait_for

from batchtui.cli import _make_client, build_parser
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.action_history import ActionHistoryScreen
from batchtui.ui.screens.confirm import ConfirmAction
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen, task_failed

SIZE = (120, 40)
MIXED_JOB = "render-shot-0018"  # seed 7, 20 jobs, frozen: tasks in every state
MPI_JOB = "mpi-cfd-0001"
ACTION_WORDS = ("Terminate", "Reactivate", "Disable", "Enable", "Delete")


@pytest.fixture
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, server.url


def dashboard(sim: Simulator, argv: list[str]) -> BatchApp:
    """The app as `batchtui ARGV` builds it (the CLI's own client factory), on the simulator."""
    args = build_parser().parse_args(argv)
    client, label, _warnings, _extra = _make_client(args, False)
    return make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock(), account_label=label)


def action_titles(screen: Any) -> list[str]:
    return [c.title for c in screen.system_commands() if any(w in c.title for w in ACTION_WORDS)]


@pytest.mark.parametrize("source", ["flag", "environment", "config.toml"])
async def test_read_only_sends_only_gets_whatever_is_pressed(
    served: tuple[Simulator, str], source: str, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    sim, url = served
    argv = ["--endpoint", url, "--account", sim.config.account]
    monkeypatch.setenv("AZURE_BATCH_ACCESS_KEY", sim.config.key)
    if source == "flag":
        argv.append("--readonly")
    elif source == "environment":
        monkeypatch.setenv("BATCHTUI_READONLY", "1")
    else:
        config = isolated_home / "batchtui-config"
        config.mkdir()
        (config / "config.toml").write_text(f'[accounts.sim]\nendpoint = "{url}"\nreadonly = true\n')
        argv = ["--account", sim.config.account]
    app = dashboard(sim, argv)
    assert app.readonly
    async with app.run_test(size=SIZE, notifications=True) as pilot:

        async def press_every_action_key() -> None:
            for key in ("ctrl+k", "R", "y", "space"):
                app.clear_notifications()
                await pilot.press(key)
                await pilot.pause()
                assert not isinstance(app.screen, ConfirmAction)
                if key in ("ctrl+k", "R") and not (
                    key == "R" and isinstance(app.screen, JobsScreen | SubtasksScreen)
                ):
                    assert any("read-only" in n.message for n in app._notifications), key  # the keys say so

        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        jobs = app.screen
        assert action_titles(jobs) == []  # no action offered in the palette
        jobs.table.select_key(MIXED_JOB)
        await press_every_action_key()

        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        tasks = app.screen
        assert isinstance(tasks, TasksScreen) and action_titles(tasks) == []
        for wanted in ("running", "failed"):
            key = next(
                k
                for k, t in tasks.tasks.items()
                if (task_failed(t) if wanted == "failed" else t.state == wanted)
            )
            tasks.table.select_key(key)
            await press_every_action_key()
        tasks.action_delete_task()  # even reached another way, nothing is asked or sent
        assert not isinstance(app.screen, ConfirmAction)

        await pilot.press("escape", "escape")  # the marks space made, then back to the jobs
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        app.screen.table.select_key(MPI_JOB)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        app.screen.table.select_key("solver-00")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and bool(app.screen.ranks))
        assert action_titles(app.screen) == []
        await press_every_action_key()

        await pilot.press("H")
        await wait_for(pilot, lambda: isinstance(app.screen, ActionHistoryScreen))
        assert "read-only" in str(app.screen.query_one("#history-foot").render())
    methods = {r.method for r in sim.requests}
    assert methods == {"GET"} and len(sim.requests) > 10
    assert not app.actions.history  # nothing was even tried


async def test_what_the_sdk_does_shows_within_one_refresh(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    from azure.batch.models._models import BatchJobTerminateOptions

    app = dashboard(sim, ["--endpoint", url, "--account", sim.config.account, "--key", sim.config.key])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        jobs.table.select_key(MIXED_JOB)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        running = next(k for k, t in tasks.tasks.items() if t.state == "running")
        failed = next(k for k, t in tasks.tasks.items() if task_failed(t))

        sdk.terminate_task(MIXED_JOB, running)
        sdk.reactivate_task(MIXED_JOB, failed)
        polls = tasks.fetches
        await pilot.press("ctrl+r")  # one refresh
        await wait_for(pilot, lambda: tasks.fetches > polls)
        assert tasks.tasks[running].state == "completed" and task_failed(tasks.tasks[running])
        assert tasks.tasks[failed].state == "active"

        t = sim.clock.seconds()
        other = next(
            j
            for j in sim.job_ids()
            if j != MIXED_JOB and sim.world.job_view(sim.world.plan(j), t).state == "active"
        )
        sdk.begin_terminate_job(other, BatchJobTerminateOptions(termination_reason="from the SDK"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        polls = jobs.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: jobs.fetches > polls)
        states = {j.id: j.state for j in jobs.snapshot.jobs} if jobs.snapshot else {}
        assert states[other] in ("terminating", "completed")
