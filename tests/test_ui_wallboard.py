"""The wallboard (issue 16) as an operator meets it: alerts that reach a hook, coalesced, never
for what was already there; trends on the count bar; the change feed; pins that survive a
restart. Piloted against the in-process simulator, time moved with a ManualTimer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sim_support import make_client, make_sim
from textual.pilot import Pilot
from ui_support import FrozenClock, settle, step, wait_for

from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.feed import FeedScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.alert_bar import AlertBar
from batchtui.ui.widgets.count_bar import CountBar

SIZE = (120, 40)


class Failures:
    """An ASGI app in front of the simulator that reports ``failed`` failures for one job."""

    def __init__(self, sim: Simulator, job_id: str, failed: int) -> None:
        self.sim, self.job_id, self.failed = sim, job_id, failed

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope.get("type") != "http" or scope.get("path") != f"/jobs/{self.job_id}/taskcounts":
            await self.sim(scope, receive, send)
            return
        start: dict[str, Any] = {}

        async def tamper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            doc = json.loads(message["body"])
            c = doc["taskCounts"]
            c["failed"] = self.failed
            c["active"] = 40
            c["completed"] = c["succeeded"] + self.failed
            body = json.dumps(doc).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.sim(scope, receive, tamper)


def hook_into(folder: Path) -> str:
    """A hook that writes each event's stdin to a file of its own in ``folder``."""
    folder.mkdir()
    return f'f=$(mktemp "{folder}/event-XXXXXX") && cat > "$f"'


def events_in(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.iterdir())]


def app_for(sim: Simulator, timer: ManualTimer, app: Any = None, **kw: Any) -> BatchApp:
    return make_app(
        make_client(sim, app=app),
        refresh=5.0,
        now=sim.clock.now,
        monotonic=FrozenClock(),
        timer=timer,
        account_label="demo",
        **kw,
    )


async def home(pilot: Pilot[Any], app: BatchApp, timer: ManualTimer) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    await settle(pilot, app, timer)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def test_a_burst_of_500_failures_is_one_alert_and_the_hook_gets_the_json(tmp_path: Path) -> None:
    sim = make_sim()
    timer = ManualTimer()
    job = next(j for j in sim.job_ids() if j.startswith("etl"))
    front = Failures(sim, job, failed=3)  # failures there at start: a baseline, no alert
    got = tmp_path / "events"
    app = app_for(sim, timer, app=front, on_event=hook_into(got))
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app, timer)
        assert screen.table.select_key(job)
        for _ in range(3):
            await step(pilot, app, timer, 5.0)
        assert not app.alerts.shown and events_in(got) == []
        front.failed = 503
        await step(pilot, app, timer, 5.0)
        await wait_for(pilot, lambda: app.alerts.hooks_run == 1)
        for _ in range(3):  # the same 503 read again: nothing new
            await step(pilot, app, timer, 5.0)
        (alert,) = app.alerts.shown
        assert alert.event.message == f"job {job}: failures up 500 to 503"
        bar = app.screen.query_one(AlertBar)
        assert bar.has_class("-shown") and "failures up 500 to 503" in str(bar.render())
        (doc,) = events_in(got)
        assert set(doc) == {"kind", "account", "job", "at", "message", "counts"}
        assert doc["kind"] == "task-failed" and doc["account"] == "demo" and doc["job"] == job
        assert doc["message"] == f"job {job}: failures up 500 to 503"
        at = datetime.fromisoformat(doc["at"])
        assert at.tzinfo is not None and at == sim.clock.now()
        assert doc["counts"]["failed"] == 503 and set(doc["counts"]) == {
            "active",
            "running",
            "completed",
            "succeeded",
            "failed",
        }
        # The alert stays until acknowledged.
        await step(pilot, app, timer, 5.0)
        assert bar.has_class("-shown")
        await pilot.press("a")
        assert not app.alerts.shown and not bar.has_class("-shown")


async def test_a_failing_hook_is_reported_not_fatal(tmp_path: Path) -> None:
    sim = make_sim()
    timer = ManualTimer()
    job = next(j for j in sim.job_ids() if j.startswith("etl"))
    front = Failures(sim, job, failed=0)
    app = app_for(sim, timer, app=front, on_event="echo 'queue is down' >&2; exit 4")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await home(pilot, app, timer)
        assert screen.table.select_key(job)
        await step(pilot, app, timer, 5.0)
        front.failed = 1
        await step(pilot, app, timer, 5.0)
        await wait_for(pilot, lambda: app.alerts.hooks_run == 1)
        await wait_for(pilot, lambda: any(n.title == "Hook failed" for n in app._notifications))
        said = [n.message for n in app._notifications if n.title == "Hook failed"]
        assert said == ["--on-event hook exited 4 (task-failed): queue is down"]
        assert app.alerts.shown[0].event.message == f"job {job}: its first failure"
        await step(pilot, app, timer, 5.0)  # still refreshing
        assert app.is_running


async def test_nothing_already_failed_alerts_and_the_world_moving_does(tmp_path: Path) -> None:
    sim = make_sim()
    timer = ManualTimer()
    got = tmp_path / "events"
    app = app_for(sim, timer, on_event=hook_into(got))
    async with app.run_test(size=SIZE) as pilot:
        await home(pilot, app, timer)
        for _ in range(6):  # a frozen world with failures in it: nothing is news
            await step(pilot, app, timer, 5.0)
        assert list(app.alerts.shown) == [] and events_in(got) == []
        for _ in range(30):  # the world moves on: jobs complete, tasks fail
            sim.clock.advance(60)
            await step(pilot, app, timer, 5.0)
        assert app.alerts.shown
        await wait_for(pilot, lambda: app.alerts.hooks_run == len(list(got.iterdir())) > 0)
        kinds = {d["kind"] for d in events_in(got)}
        assert kinds <= {"job-completed", "task-failed"} and kinds
        await pilot.press("e")
        feed = app.screen
        assert isinstance(feed, FeedScreen)
        lines = [line.plain for line in feed.lines()]
        assert lines and all(line[:2].isdigit() and line[2] == ":" for line in lines)  # each with its time
        assert any("created" in line or "completed" in line for line in lines)
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)


async def test_the_count_bar_shows_throughput_eta_and_sparklines() -> None:
    sim = make_sim()
    timer = ManualTimer()
    app = app_for(sim, timer)
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app, timer)
        moving = next(
            j.id
            for j in screen.snapshot.jobs  # type: ignore[union-attr]
            if j.id and j.state == "active" and j.id.startswith(("render", "etl"))
        )
        assert screen.table.select_key(moving)
        for _ in range(12):
            sim.clock.advance(60)
            await step(pilot, app, timer, 5.0)
        bar = screen.query_one(CountBar)
        assert bar.data.trend is not None
        text = "\n".join(line.plain for line in bar._lines(110))
        (trend_line,) = [line for line in text.splitlines() if line.startswith("trend ")]
        assert re.search(r"trend [\d.]+/min", trend_line), trend_line
        assert re.search(r"· done [·▁▂▃▄▅▆▇█]{8,} · failed [·▁▂▃▄▅▆▇█]{8,} · last \d+ min$", trend_line)
        assert set(trend_line.split(" · done ")[1].split(" ")[0]) != {"·"}, trend_line  # something completed
        assert "completed/min" in text


async def test_star_pins_and_the_pin_survives_a_restart(tmp_path: Path, monkeypatch: Any) -> None:
    from batchtui.paths import user_state_dir

    monkeypatch.setenv("BATCHTUI_STATE_DIR", str(tmp_path / "state"))
    sim = make_sim()
    timer = ManualTimer()
    app = app_for(sim, timer, state_dir=user_state_dir())
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app, timer)
        last = screen.table.visible_keys[-1]
        assert screen.table.select_key(last)
        await pilot.press("asterisk")
        await pilot.pause()
        assert screen.table.visible_keys[0] == last  # pinned jobs stay at the top
        assert screen.table.rows_by_key[last].cells[0].plain.startswith("★ ")  # type: ignore[union-attr]
    assert list((tmp_path / "state" / "accounts").iterdir())

    timer = ManualTimer()
    again = app_for(sim, timer, state_dir=user_state_dir())
    async with again.run_test(size=SIZE) as pilot:
        screen = await home(pilot, again, timer)
        assert last in again.account.pins
        assert screen.table.visible_keys[0] == last
        assert screen.table.selected_key is not None
        assert screen.table.select_key(last)
        await pilot.press("asterisk")  # unpinned: back among the others
        await pilot.pause()
        assert screen.table.visible_keys[0] != last
    assert last not in app_for(sim, ManualTimer(), state_dir=user_state_dir()).account.pins


async def test_on_the_tasks_screen_a_means_all_tasks_and_shift_a_acknowledges() -> None:
    sim = make_sim()
    timer = ManualTimer()
    job = next(j for j in sim.job_ids() if j.startswith("etl"))
    front = Failures(sim, job, failed=3)
    app = app_for(sim, timer, app=front)
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app, timer)
        assert screen.table.select_key(job)
        await step(pilot, app, timer, 5.0)
        front.failed = 40
        await step(pilot, app, timer, 5.0)
        await wait_for(pilot, lambda: bool(app.alerts.shown))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        tasks = app.screen
        bar = tasks.query_one(AlertBar)
        assert "A: acknowledge" in str(bar.render())
        await pilot.press("4", "a")  # failed only, then all again: `a` is the screen's own
        await pilot.pause()
        assert app.alerts.shown and bar.has_class("-shown")
        await pilot.press("A")
        await pilot.pause()
        assert not app.alerts.shown and not bar.has_class("-shown")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        assert "a: acknowledge" not in str(app.screen.query_one(AlertBar).render())  # hidden: none left
