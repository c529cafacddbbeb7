"""Garbage on the wire, through a test-only httpx transport wrapped around the simulator:
truncated JSON, a proxy's HTML error page, a 200 with an unexpected shape, a 1 MB display
name, an answer slower than the client's timeout. Each gives one clear line on the status
line, the rows stay, and the next good refresh recovers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from ui_support import FrozenClock, make_client, make_sim, wait_for

from batchtui.batch.client import BatchClient
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)
TIMEOUT = 0.3


class Garble(httpx.AsyncBaseTransport):
    """The simulator behind a transport that can spoil its answers on request.

    ``mode`` picks the spoiling (None: pass through); ``edit`` rewrites JSON bodies in place
    (for strange-but-valid data); ``only`` limits both to paths it accepts.
    """

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.mode: str | None = None
        self.edit: Callable[[str, Any], None] | None = None
        self.only: Callable[[str], bool] = lambda path: True
        self.spoiled = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        mode = self.mode if self.only(path) else None
        if mode == "html502":
            self.spoiled += 1
            page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body>"
            return httpx.Response(502, headers={"content-type": "text/html"}, content=page)
        if mode == "huge-error":
            self.spoiled += 1
            error = {"code": "InternalError", "message": {"lang": "en-US", "value": "E" * 1_000_000}}
            return httpx.Response(500, json=error)
        if mode == "slow":
            self.spoiled += 1
            await asyncio.sleep(30)  # far beyond the client's timeout; cancelled by it
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if mode == "truncate":
            self.spoiled += 1
            body = body[: len(body) // 2]
        elif mode == "shape":
            self.spoiled += 1
            body = json.dumps({"value": {"id": "not a list"}, "odata.nextLink": 42}).encode()
        elif self.edit is not None and self.only(path) and body.startswith(b"{"):
            doc = json.loads(body)
            self.edit(path, doc)
            body = json.dumps(doc).encode()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


def garbled_app(sim: Simulator, **kw: Any) -> tuple[BatchApp, Garble]:
    garble = Garble(sim)
    client = make_client(sim, transport=garble, timeout=TIMEOUT)
    kw.setdefault("refresh", 3600.0)
    return make_app(client, now=sim.clock.now, monotonic=FrozenClock(), **kw), garble


async def home(pilot: Any, app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    await wait_for(pilot, lambda: screen.status.last_ok is not None and screen.status.error is None)
    return screen


def rows(screen: JobsScreen) -> dict[str, list[str]]:
    return {k: [c.plain for c in screen.table.get_row(k)] for k in screen.table.rows_by_key}


@pytest.mark.parametrize(
    ("mode", "head", "reason"),
    [
        (
            "truncate",
            "⚠ refresh failed",
            "bad response: list_jobs: the response is not JSON (JSONDecodeError)",
        ),
        (
            "html502",
            "⚠ offline since 10:00:00",
            "unavailable: HTTP 502: Bad Gateway: the server answered with a text/html body, not a Batch error",
        ),
        ("shape", "⚠ refresh failed", "bad response: list_jobs: "),
        (
            "slow",
            "⚠ offline since 10:00:00",
            f"offline: list_jobs: timed out (no complete answer within {2 * TIMEOUT:g} s)",
        ),
    ],
)
async def test_garbage_gives_one_clear_line_keeps_the_rows_and_the_next_good_refresh_recovers(
    mode: str, head: str, reason: str
) -> None:
    sim = make_sim()
    app, garble = garbled_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        before = rows(screen)
        garble.mode = mode
        await pilot.press("ctrl+r")
        # A slow answer is cut at the client's timeout: the wait below would time out otherwise.
        await wait_for(pilot, lambda: screen.status.error is not None)
        plain = screen.status.plain
        assert plain.startswith(f"{head} · updated 0s ago · {reason}"), plain
        assert "\n" not in plain and "<html>" not in plain and "internal error" not in plain
        assert rows(screen) == before
        assert garble.spoiled >= 1
        garble.mode = None
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is None)
        assert screen.status.plain.startswith("updated 0s ago · demo")
        assert app.is_running


async def test_a_one_megabyte_display_name_is_cut_to_fit_and_the_dashboard_stays_quick() -> None:
    sim = make_sim()
    huge = "N" * 1_000_000

    def enlarge(path: str, doc: Any) -> None:
        for job in doc.get("value", [doc]):
            if isinstance(job, dict) and "displayName" in job:
                job["displayName"] = huge

    app, garble = garbled_app(sim)
    garble.edit = enlarge
    garble.only = lambda path: path.startswith("/jobs") and "/tasks" not in path and "taskcounts" not in path
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        key = screen.table.selected_key
        assert key is not None
        name = screen.table.get_row(key)[1].plain
        assert name.endswith("…") and set(name[:-1]) == {"N"} and len(name) <= 24
        assert all(screen.table.get_row(k)[1].plain == name for k in screen.table.rows_by_key)
        # The tasks screen's header carries the name too: still one bounded header, no stall.
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "job", None) is not None)
        tasks = app.screen
        header = tasks.query_one("#tasks-header")
        await pilot.pause()
        assert header.outer_size.height <= 4  # name, counts, failures, filter keys
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.is_running


async def test_a_one_megabyte_error_message_is_cut_on_the_status_line() -> None:
    sim = make_sim()
    app, garble = garbled_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        garble.mode = "huge-error"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is not None)
        plain = screen.status.plain
        assert "service error: HTTP 500 InternalError: EEEE" in plain and "…" in plain
        assert len(plain) < 600
        # What keeps it quick is the bound above (len < 600), not a wall clock: bench/ times.
        for _ in range(3):
            screen.status._tick()
            await pilot.press("j")
        garble.mode = None
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is None)


def test_once_table_stays_narrow_with_a_one_megabyte_pool_id(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchtui.cli import main

    sim = make_sim()

    def enlarge(path: str, doc: Any) -> None:
        for job in doc.get("value", []):
            job.setdefault("poolInfo", {})["poolId"] = "P" * 1_000_000

    def demo_client(**_: Any) -> tuple[Simulator, BatchClient]:
        _, garble = garbled_app(sim)
        garble.edit = enlarge
        client = make_client(sim, transport=garble)
        return sim, client

    monkeypatch.setattr("batchtui.demo.demo_client", demo_client)
    assert main(["--demo", "--once", "-o", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    jobs = lines[: lines.index("")]  # then the pools' table, then the footer
    assert len(jobs) == len(sim.job_ids()) + 1
    assert max(len(line) for line in lines) < 250
    assert all(("P" * 63 + "…") in line for line in jobs[1:])


async def test_a_one_megabyte_failure_message_opens_in_the_task_details_without_a_stall() -> None:
    from batchtui.ui.screens.task_detail import TaskDetailScreen
    from batchtui.ui.screens.tasks import TasksScreen
    from batchtui.ui.widgets.subtask_detail import SubtaskDetail

    sim = make_sim()
    huge = "M" * 1_000_000

    def enlarge(path: str, doc: Any) -> None:
        for task in doc.get("value", [doc]):
            info = task.get("executionInfo") if isinstance(task, dict) else None
            if isinstance(info, dict) and isinstance(info.get("failureInfo"), dict):
                info["failureInfo"]["message"] = huge
                task["commandLine"] = huge

    app, garble = garbled_app(sim)
    garble.edit = enlarge
    garble.only = lambda path: "/tasks" in path
    async with app.run_test(size=SIZE) as pilot:
        screen = await home(pilot, app)
        assert screen.table.select_key("render-shot-0018")  # seed 7: frame-0001 failed
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
        assert app.screen.table.select_key("frame-0001")
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        pane = app.screen.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: "more characters" in pane.plain)
        await pilot.pause()
        # What keeps it from stalling: the pane holds a bounded excerpt, not the megabyte
        # (a wall-clock bound here failed on a busy machine; bench/ is where time is measured).
        assert "MMMM" in pane.plain and len(pane.plain) < 200_000
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
