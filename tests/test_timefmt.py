"""Times shown to the operator (issue 14.6): local time by default, UTC when asked (and then
labelled), the date whenever the moment is not today; the status line, the count bar and the
detail panes all go through batchtui.timefmt."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from ui_support import ENDPOINT, FrozenClock, make_sim, wait_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import ConfigError
from batchtui.batch.retry import RetryPolicy
from batchtui.config import times_in_utc
from batchtui.sim import Simulator
from batchtui.timefmt import fmt_when
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar

MOMENT = datetime(2026, 5, 1, 9, 36, 58, tzinfo=UTC)  # 18:36:58 in Tokyo


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_local_time_today_is_the_time_of_day(tokyo: None) -> None:
    assert fmt_when(MOMENT, MOMENT + timedelta(hours=1)) == "18:36:58"


def test_another_day_brings_the_date(tokyo: None) -> None:
    # 09:36 UTC on May 1st and 15:30 UTC are both May 1st in UTC, but not in Tokyo.
    later = MOMENT + timedelta(hours=6)
    assert fmt_when(MOMENT, later) == "2026-05-01 18:36:58"
    assert fmt_when(MOMENT, MOMENT + timedelta(days=3)) == "2026-05-01 18:36:58"


def test_utc_is_labelled(tokyo: None) -> None:
    assert fmt_when(MOMENT, MOMENT, utc=True) == "09:36:58 UTC"
    assert fmt_when(MOMENT, MOMENT + timedelta(days=1), utc=True) == "2026-05-01 09:36:58 UTC"
    assert fmt_when(MOMENT, MOMENT, utc=True, date=True) == "2026-05-01 09:36:58 UTC"
    assert fmt_when(None) == ""


def test_moments_at_the_edges_of_time_do_not_raise(tokyo: None) -> None:
    assert fmt_when(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), MOMENT) == "9999-12-31 23:00:00 UTC"
    assert fmt_when(datetime(1, 1, 1, tzinfo=UTC), MOMENT).startswith("0001-01-01")


def test_utc_setting_in_config_toml(tmp_path: Any) -> None:
    cfg = tmp_path / "config.toml"
    assert times_in_utc(config_file=cfg) is False  # no file
    cfg.write_text("utc = true\n")
    assert times_in_utc(config_file=cfg) is True
    cfg.write_text('utc = "yes"\n')
    with pytest.raises(ConfigError, match="utc must be true or false"):
        times_in_utc(config_file=cfg)


class Switch(httpx.AsyncBaseTransport):
    """The simulator, until the test pulls the plug."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def run_outage(utc: bool) -> tuple[str, str, str, Simulator]:
    """(count bar caveat, status line when offline, status line two days on, the simulator)."""
    sim = make_sim()
    switch = Switch(sim)
    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        transport=switch,
        retry=RetryPolicy(max_attempts=1),
    )
    app = make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock(), utc=utc)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        bar = screen.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.fetched_at is not None)
        caveat = bar._lines(120)[-1].plain
        switch.down = True
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.offline_since is not None)
        offline = screen.status.plain
        sim.clock.advance(2 * 86_400.0)
        screen.status._tick()
        later = screen.status.plain
    return caveat, offline, later, sim


async def test_dashboard_times_are_local_with_the_date_once_it_is_another_day(tokyo: None) -> None:
    caveat, offline, later, sim = await run_outage(utc=False)
    start = sim.clock.now() - timedelta(days=2)
    local = start.astimezone()
    hms = f"{local:%H:%M:%S}"
    assert caveat.startswith(f"counts read at {hms} · ")
    assert offline.startswith(f"⚠ offline since {hms} · ")
    assert later.startswith(f"⚠ offline since {local:%Y-%m-%d} {hms} · ")


async def test_dashboard_times_in_utc_say_so(tokyo: None) -> None:
    caveat, offline, later, sim = await run_outage(utc=True)
    start = sim.clock.now() - timedelta(days=2)
    hms = f"{start.astimezone(UTC):%H:%M:%S}"
    assert caveat.startswith(f"counts read at {hms} UTC · ")
    assert offline.startswith(f"⚠ offline since {hms} UTC · ")
    assert later.startswith(f"⚠ offline since {start:%Y-%m-%d} {hms} UTC · ")


def test_the_offline_alert_says_when_in_local_time(tokyo: None) -> None:
    from batchtui.refresh.events import EventDetector

    for utc, said in ((False, "18:36:58"), (True, "09:36:58 UTC")):
        detector = EventDetector("acct", offline_after=60.0, utc=utc)
        assert detector.reachable(False, MOMENT) == []
        (event,) = detector.reachable(False, MOMENT + timedelta(seconds=61))
        assert event.message == f"acct offline since {said}"
