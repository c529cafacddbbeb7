"""Several accounts and the kiosk (issue 16), from the command line down: a config.toml in a tmp
BATCHTUI_CONFIG_DIR with two [accounts.X] pointing at two simulators on loopback, the app built
by ``make_dashboard(argv)`` exactly as ``main(argv)`` would run it, then piloted with the
refresh moved by a ManualTimer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Footer
from ui_support import FrozenClock, settle, step, wait_for

from batchtui.cli import main, make_dashboard
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.ui.app import BatchApp
from batchtui.ui.screens.accounts import AccountsScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.kiosk import KioskScreen
from batchtui.ui.widgets.count_tile import CountTile

SIZE = (120, 40)


@pytest.fixture
def two_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, tuple[Simulator, str]]]:
    east = Simulator(SimConfig(seed=7, jobs=12, time_scale=0, account="east"))
    west = Simulator(SimConfig(seed=11, jobs=9, time_scale=0, account="west"))
    with BackgroundServer(east) as e, BackgroundServer(west) as w:
        config = tmp_path / "config"
        config.mkdir()
        (config / "config.toml").write_text(
            "\n".join(
                f'[accounts.{name}]\nendpoint = "{url}"\naccount = "{sim.config.account}"\nkey = "{sim.config.key}"\n'
                for name, sim, url in (("east", east, e.url), ("west", west, w.url))
            )
        )
        (config / "config.toml").chmod(0o600)
        monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(config))
        monkeypatch.setenv("BATCHTUI_STATE_DIR", str(tmp_path / "state"))
        yield {"east": (east, e.url), "west": (west, w.url)}


def dashboard(argv: list[str], timer: ManualTimer) -> BatchApp:
    return make_dashboard([*argv, "--refresh", "5"], timer=timer, monotonic=FrozenClock())


async def test_profile_given_twice_shows_both_accounts_each_read_on_its_own(
    two_accounts: dict[str, tuple[Simulator, str]],
) -> None:
    east, west = two_accounts["east"][0], two_accounts["west"][0]
    timer = ManualTimer()
    app = dashboard(["--profile", "east", "--profile", "west"], timer)
    assert [a.name for a in app.accounts] == ["east", "west"]
    assert app.accounts[0].client is not app.accounts[1].client
    assert app.accounts[0].engine is not app.accounts[1].engine
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AccountsScreen)

        def rows() -> dict[str, list[str]]:
            return {k: [c.plain for c in r.cells] for k, r in screen.table.rows_by_key.items()}  # type: ignore[union-attr]

        await wait_for(pilot, lambda: all(r[1] == "ok" for r in rows().values()), within=20)
        assert screen.table.visible_keys == ("east", "west")
        assert rows()["east"][:3] == ["east", "ok", "12"] and rows()["west"][:3] == ["west", "ok", "9"]

        # One account down: it says so, the other keeps its pace.
        west.faults.outage(3600, kind="refuse")
        before = len(east.requests)
        for _ in range(12):  # west's poll retries (on the same timer) before it gives up
            await step(pilot, app, timer, 5.0)
            if app.account_named("west").summary().status == "offline":  # type: ignore[union-attr]
                break
        assert app.account_named("west").summary().status == "offline"  # type: ignore[union-attr]
        assert app.account_named("east").summary().status == "ok"  # type: ignore[union-attr]
        assert len(east.requests) > before
        await wait_for(pilot, lambda: rows()["west"][1] == "offline")
        west.faults.outage(0)

        # Enter opens an account; escape comes back; :ctx switches.
        assert screen.table.select_key("east")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count == 12
        )
        assert app.account.name == "east" and set(app.screen.table.visible_keys) == set(east.job_ids())
        await pilot.press("colon")
        await pilot.press(*"ctx west", "enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count == 9
        )
        assert app.account.name == "west" and set(app.screen.table.visible_keys) == set(west.job_ids())
        assert "west" in app.screen.status.account  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountsScreen))


async def test_an_account_opens_with_what_its_watch_read_even_while_it_fails(
    two_accounts: dict[str, tuple[Simulator, str]],
) -> None:
    west = two_accounts["west"][0]
    timer = ManualTimer()
    app = dashboard(["--profile", "east", "--profile", "west"], timer)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        await wait_for(pilot, lambda: all(a.latest is not None for a in app.accounts), within=20)
        await settle(pilot, app, timer)
        west.faults.outage(3600)  # 503s from now on: the jobs screen's own read fails
        assert screen.table.select_key("west")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        await pilot.pause()
        assert set(jobs.table.visible_keys) == set(west.job_ids())  # at once, from the watch
        for _ in range(3):
            await step(pilot, app, timer, 5.0)
        assert set(jobs.table.visible_keys) == set(west.job_ids())  # kept while its reads fail
        west.faults.outage(0)


def test_several_accounts_refuse_one_account_flags(
    two_accounts: dict[str, tuple[Simulator, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--profile", "east", "--profile", "west", "--endpoint", "https://x.batch.azure.com"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--endpoint" in err
    code = main(["--profile", "east", "--profile", "west", "--once"])
    err = capsys.readouterr().err
    assert code == 2 and "--once reads one account" in err


async def test_all_profiles_opens_every_account(two_accounts: dict[str, tuple[Simulator, str]]) -> None:
    app = dashboard(["--all-profiles"], ManualTimer())
    assert [a.name for a in app.accounts] == ["east", "west"]
    for account in app.accounts:
        await account.client.aclose()


async def test_kiosk_never_sends_a_non_get_and_shows_no_footer(
    two_accounts: dict[str, tuple[Simulator, str]], tmp_path: Path
) -> None:
    east = two_accounts["east"][0]
    # Pins from an earlier (non-kiosk) session, in the state directory.
    timer = ManualTimer()
    first = dashboard(["--profile", "east"], timer)
    pinned = east.job_ids()[:3]
    for job_id in pinned:
        first.account.toggle_pin(job_id)
    await first.account.client.aclose()

    timer = ManualTimer()
    app = dashboard(["--kiosk", "--cycle", "30", "--profile", "east"], timer)
    assert app.client.readonly
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, KioskScreen) and len(app.screen.tiles) == 3)
        kiosk = app.screen
        assert isinstance(kiosk, KioskScreen)
        assert [t.key.split("\n")[1] for t in kiosk.query(CountTile)] == pinned
        assert kiosk.current == 0
        # The cycle runs on the refresh's clock: every 30 s the next tile is shown in full.
        await settle(pilot, app, timer)
        timer.advance(30)
        await wait_for(pilot, lambda: kiosk.cycles == 1)
        assert kiosk.current == 1 and kiosk.query(CountTile)[1].has_class("-current")
        # Every key an operator (or a cat) might press: nothing but GETs, no dialog, no footer.
        for key in ("ctrl+k", "R", "space", "d", "enter", "p", "colon", "ctrl+p", "c", "asterisk", "H", "x"):
            await pilot.press(key)
            await pilot.pause()
            if app.screen is not kiosk:  # the feed (e) is a modal that keeps the refresh going
                await pilot.press("escape")
        for _ in range(3):
            await step(pilot, app, timer, 5.0)
        assert isinstance(app.screen, KioskScreen)
        assert not list(app.screen.query(Footer))
        assert {r.method for r in east.requests} <= {"GET", "HEAD"}
        assert len(east.requests) > 3


async def test_kiosk_tiles_follow_the_pins_when_they_change(
    two_accounts: dict[str, tuple[Simulator, str]],
) -> None:
    # Unpinned, the kiosk shows the first active jobs; once a job is pinned the set of tiles
    # changes under it (tiles removed and added in one go), in the order of the pins.
    east = two_accounts["east"][0]
    timer = ManualTimer()
    app = dashboard(["--kiosk", "--profile", "east"], timer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, KioskScreen) and len(app.screen.tiles) > 1)
        kiosk = app.screen
        assert isinstance(kiosk, KioskScreen)
        shown = list(kiosk.keys)
        pinned = [j for j in east.job_ids() if f"east\n{j}" not in shown][:2]
        for job_id in pinned:
            app.account.toggle_pin(job_id)
        await step(pilot, app, timer, 5.0)
        await wait_for(pilot, lambda: [t.key.split("\n")[1] for t in kiosk.query(CountTile)] == pinned)
        assert kiosk.keys == [f"east\n{j}" for j in pinned]


def test_kiosk_and_cycle_flags(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "soon", "nan"):
        with pytest.raises(SystemExit) as exited:
            main(["--demo", "--kiosk", "--cycle", bad])
        code, err = exited.value.code, capsys.readouterr().err
        assert code == 2 and "--cycle" in err and err.count("\n") == 1


def test_alerts_setting_in_config_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c"
    config.mkdir()
    (config / "config.toml").write_text('alerts = "pinned"\nnotify = "off"\n')
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(config))
    app = make_dashboard(["--demo"])
    assert app.alerts.mode == "pinned" and app.alerts.protocol is None
    assert make_dashboard(["--demo", "--alerts", "all"]).alerts.mode == "all"
    (config / "config.toml").write_text('alerts = "some"\n')
    code = main(["--demo"])
    assert code == 2


def test_how_much_failures_rise_and_how_long_offline_before_an_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c"
    config.mkdir()
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(config))
    detector = make_dashboard(["--demo"]).account.detector
    assert (detector.rise_by, detector.offline_after) == (1, 60.0)
    (config / "config.toml").write_text("alert_rise = 25\nalert_offline = 300\n")
    detector = make_dashboard(["--demo"]).account.detector
    assert (detector.rise_by, detector.offline_after) == (25, 300.0)
    detector = make_dashboard(["--demo", "--alert-rise", "5", "--alert-offline", "0"]).account.detector
    assert (detector.rise_by, detector.offline_after) == (5, 0.0)  # flags win over the file
    for bad in (["--alert-rise", "0"], ["--alert-rise", "many"], ["--alert-offline", "nan"]):
        with pytest.raises(SystemExit) as exited:
            main(["--demo", *bad])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and bad[0] in err
    (config / "config.toml").write_text('alert_rise = "ten"\n')
    assert main(["--demo"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "alert_rise must be a whole number" in err
