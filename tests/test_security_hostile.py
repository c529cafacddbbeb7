"""Hostile service text on every screen and in ``--once``: Rich/Textual markup (colours, links,
``[@click=app.quit]``), ANSI escapes (CSI, OSC, the 8-bit CSI 0x9b), other control characters
and bidi overrides, in ids, display names, pool ids, failure messages and details, command
lines and node URLs. Everything is shown literally (control characters as visible escapes),
nothing becomes a style, a link or an action, and no row grows past one line.

The service's ids are replaced on the way out and mapped back on the way in by a test-only
transport (which re-signs the request), so the simulator itself never sees them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from textual.geometry import Region
from textual.widget import Widget
from ui_support import ENDPOINT, FrozenClock, make_client, make_sim, wait_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.sanitize import clean
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.count_bar import CountBar
from batchtui.ui.widgets.keyed_table import KeyedTable
from batchtui.ui.widgets.subtask_detail import LABEL_WIDTH, SubtaskDetail

SIZE = (160, 50)
H = (
    "[red]x[/red][link=https://evil.example]L[/link][@click=app.quit]Q[/]"
    "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil\u2066\r\nrow2\tT\x00\x7f"
)
SHOWN = clean(H)  # one line: "[red]x[/red]...\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil..."
#: characters that must never reach the terminal from service text
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\r", "\x00", "\x7f")

MIXED_JOB = "render-shot-0018"
MPI_JOB = "mpi-cfd-0001"
MPI_TASK = "solver-00"
FAILED_TASK = "frame-0001"  # seed 7: a failed task of MIXED_JOB
IDS = {MIXED_JOB: MIXED_JOB + H, MPI_JOB: MPI_JOB + H, MPI_TASK: MPI_TASK + H, FAILED_TASK: FAILED_TASK + H}
BACK = {v: k for k, v in IDS.items()}


def poison(doc: Any) -> Any:
    """The service's answer with hostile ids and text everywhere the dashboard shows text."""
    if isinstance(doc, list):
        return [poison(x) for x in doc]
    if not isinstance(doc, dict):
        return IDS.get(doc, doc) if isinstance(doc, str) else doc
    out = {k: poison(v) for k, v in doc.items()}
    for name in (
        "displayName",
        "commandLine",
        "coordinationCommandLine",
        "poolId",
        "nodeId",
        "taskRootDirectory",
        "message",
        "code",
        "error",
    ):
        if isinstance(out.get(name), str):
            out[name] = H
    for name in ("nodeUrl", "taskRootDirectoryUrl"):
        if isinstance(out.get(name), str):
            out[name] = "https://node.example/" + H
    if isinstance(out.get("details"), list):
        out["details"] = [{"name": H, "value": H}]
    if "odata.nextLink" in doc:
        out["odata.nextLink"] = doc["odata.nextLink"]  # links stay links
    return out


class Hostile(httpx.AsyncBaseTransport):
    """The simulator, with hostile ids and text in every answer."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.auth = SharedKeyAuth(sim.config.account, sim.config.key)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw_path, _, query = request.url.raw_path.decode("ascii").partition("?")
        segments = [quote(BACK.get(unquote(s), unquote(s)), safe="") for s in raw_path.split("/")]
        path = "/".join(segments)
        if path != raw_path:
            url = httpx.URL(str(request.url.copy_with(raw_path=f"{path}?{query}".encode())))
            headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            request = httpx.Request(request.method, url, headers=headers)
            self.auth.sign(request)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        if body.startswith(b"{") and response.status_code == 200:  # errors keep their codes
            body = json.dumps(poison(json.loads(body))).encode()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


def hostile_client(sim: Simulator) -> BatchClient:
    return make_client(sim, transport=Hostile(sim))


# --------------------------------------------------------------------------- what to check


def shown_text(widget: Widget) -> Iterator[tuple[str, Any]]:
    """(text, style) of every segment the widget paints."""
    width, height = widget.size
    for strip in widget.render_lines(Region(0, 0, width, height)):
        for segment in strip:
            yield segment.text, segment.style


def assert_inert(*widgets: Widget) -> None:
    """Nothing painted carries a raw control character, a link or an action from the service."""
    for widget in widgets:
        for text, style in shown_text(widget):
            assert not any(c in text for c in RAW), (widget, text)
            if style is not None:
                assert "evil.example" not in str(style.link or ""), (widget, text)
                assert "app.quit" not in str(style.meta or ""), (widget, text)


def assert_clean_svg(app: BatchApp) -> str:
    svg = app.export_screenshot().replace("&#160;", " ")
    found = {repr(c): svg[max(svg.find(c) - 80, 0) : svg.find(c) + 20] for c in RAW if c in svg}
    assert not found, found
    return svg


def assert_one_line_rows(table: KeyedTable) -> None:
    # One line per row (plus the header), and every line drawn exactly as wide as the table.
    assert table.virtual_size.height == table.visible_count + 1
    for y in range(table.size.height):
        strip = table.render_line(y)
        assert "\n" not in strip.text and strip.cell_length == table.size.width, (y, strip.text)


def shows(cell: str, text: str) -> bool:
    """The cell holds ``text`` literally, or its start cut with an ellipsis to fit."""
    return cell == text or (cell.endswith("…") and len(cell) > 8 and text.startswith(cell[:-1]))


def unwrapped(pane: SubtaskDetail) -> str:
    return pane.plain.replace("\n" + " " * (LABEL_WIDTH + 2), "")


def cells(table: KeyedTable, key: str) -> list[str]:
    return [c.plain for c in table.rows_by_key[key].cells]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the dashboard


async def test_hostile_text_is_literal_and_inert_on_every_screen() -> None:
    sim = make_sim()
    app = make_app(hostile_client(sim), refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    jid, mpi_jid, tid = IDS[MIXED_JOB], IDS[MPI_JOB], IDS[MPI_TASK]
    async with app.run_test(size=SIZE) as pilot:
        # ---- jobs: id, display name and pool columns, the count bar, the status line
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen)
        assert jid in jobs.table.rows_by_key and mpi_jid in jobs.table.rows_by_key
        row = cells(jobs.table, jid)
        assert shows(row[0], clean(jid)) and shows(row[1], SHOWN) and shows(row[3], SHOWN)
        for key in jobs.table.rows_by_key:
            assert not any(c in cell for cell in cells(jobs.table, key) for c in RAW)
        assert_one_line_rows(jobs.table)
        assert jobs.table.select_key(jid)
        bar = jobs.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.job_id == jid and bar.data.counts is not None)
        await pilot.pause()
        assert clean(jid) in "\n".join(line.plain for line in bar._lines(200))
        assert_inert(jobs.table, bar, jobs.query_one("#title"), jobs.status)
        assert_clean_svg(app)

        # ---- tasks of the hostile job: breadcrumbs, header, rows, then one task's details
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
        tasks = app.screen
        assert isinstance(tasks, TasksScreen) and tasks.job_id == jid
        title = str(tasks.query_one("#title").visual)
        assert f"jobs › {clean(jid)} › tasks" in title
        header = tasks.query_one("#tasks-header")
        assert clean(jid) in str(header.visual) and SHOWN in str(header.visual)
        node_cells = [cells(tasks.table, k)[6] for k in tasks.table.rows_by_key]
        assert node_cells and all(shows(c, SHOWN) for c in node_cells if c)
        assert_one_line_rows(tasks.table)
        await pilot.pause()
        assert_inert(tasks.table, header, tasks.query_one("#title"), tasks.status)
        assert_clean_svg(app)
        failed = IDS[FAILED_TASK]
        assert shows(cells(tasks.table, failed)[0], clean(failed))
        assert tasks.tasks[failed].execution_info.failure_info is not None  # type: ignore[union-attr]
        assert tasks.table.select_key(failed)
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        detail = app.screen.query_one(SubtaskDetail)
        multi = clean(H, single_line=False).replace("\n", "")
        await wait_for(pilot, lambda: unwrapped(detail).replace("\n", "").count(multi) >= 5)
        text = unwrapped(detail)
        assert "https://node.example/" + clean(H, single_line=False).split("\n")[0] in text
        assert not any(c in text for c in RAW)
        assert detail._border_title is not None and detail._border_title.plain.startswith("task ")
        assert "[red]x[/red]" in detail._border_title.plain  # the markup is text, not a colour
        await pilot.pause()
        assert_inert(*detail.query("*"))
        assert_clean_svg(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is tasks)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is jobs)

        # ---- the ranks of the hostile MPI task: header, table, detail
        assert jobs.table.select_key(mpi_jid)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
        assert app.screen.table.select_key(tid)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and bool(app.screen.ranks))
        ranks = app.screen
        assert isinstance(ranks, SubtasksScreen) and ranks.task_id == tid
        assert f"› {clean(tid)} › subtasks" in str(ranks.query_one("#title").visual)
        head = str(ranks.query_one("#subtasks-header").visual)
        assert clean(tid) in head and head.count(SHOWN) >= 2  # display name, coordination command
        assert_one_line_rows(ranks.table)
        assert all(
            not any(c in cell for c in RAW) for k in ranks.table.rows_by_key for cell in cells(ranks.table, k)
        )
        dead = next(k for k, r in ranks.ranks.items() if r.failed)
        ranks.table.select_key(dead)
        pane = ranks.query_one(SubtaskDetail)
        await wait_for(pilot, lambda: unwrapped(pane).replace("\n", "").count(multi) >= 3)
        await pilot.pause()
        assert_inert(
            ranks.table,
            ranks.query_one("#subtasks-header"),
            ranks.query_one("#title"),
            *pane.query("*"),
            ranks.status,
        )
        assert_clean_svg(app)
        # Clicking around the hostile text does nothing but what the dashboard does.
        await pilot.click("#subtasks-header", offset=(5, 0))
        await pilot.click("#title", offset=(30, 0))
        await pilot.pause()
        assert app.is_running


async def test_a_notice_about_a_hostile_job_is_literal_too() -> None:
    sim = make_sim()
    app = make_app(hostile_client(sim), refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    jid = IDS[MIXED_JOB]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        jobs = app.screen
        assert isinstance(jobs, JobsScreen) and jobs.monitor is not None
        assert jobs.table.select_key(jid)
        await pilot.pause()
        assert sim.delete_job(MIXED_JOB)
        jobs.monitor._ticks = 1  # a counts-only tick finds it gone
        jobs.refresh_now("timer")
        await wait_for(pilot, lambda: jid not in jobs.table.rows_by_key)
        await wait_for(pilot, lambda: bool(app._notifications))
        assert [n.message for n in app._notifications] == [f"Job {clean(jid)} is gone (deleted)."]
        await pilot.pause(0.2)
        svg = assert_clean_svg(app)
        assert "is gone (deleted)" in svg
        assert app.is_running


# --------------------------------------------------------------------------- --once


@pytest.fixture
def hostile_demo(monkeypatch: pytest.MonkeyPatch) -> Simulator:
    sim = make_sim()

    def demo_client(**_: Any) -> tuple[Simulator, BatchClient]:
        return sim, hostile_client(sim)

    monkeypatch.setattr("batchtui.demo.demo_client", demo_client)
    return sim


def test_once_table_shows_hostile_text_literally_one_line_per_job(
    hostile_demo: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchtui.cli import main

    assert main(["--demo", "--once", "-o", "table"]) == 0
    out = capsys.readouterr().out
    assert not any(c in out for c in RAW)
    lines = out.rstrip("\n").split("\n")
    jobs = lines[: lines.index("")]  # then the pools' table, then the footer
    assert len(jobs) == 1 + len(hostile_demo.job_ids())  # header, one per job
    # the job id and the pool id after it, literally (cut at 64 characters, as Batch ids are)
    mine = [line for line in lines if line.startswith(clean(IDS[MIXED_JOB])[:63] + "…")]
    assert len(mine) == 1 and f"  {SHOWN[:63]}…  " in mine[0]


def test_once_json_is_valid_and_carries_the_text_exactly_without_raw_controls(
    hostile_demo: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchtui.cli import main

    assert main(["--demo", "--once", "-o", "json"]) == 0
    out = capsys.readouterr().out
    # JSON for machines, but often read on a terminal: nothing in it may act on one.
    assert not any(c in out for c in RAW)
    doc = json.loads(out)
    by_id = {j["id"]: j for j in doc["jobs"]}
    assert by_id[IDS[MIXED_JOB]]["displayName"] == H
    assert by_id[IDS[MIXED_JOB]]["poolId"] == H


async def test_a_hostile_error_message_from_the_service_is_literal_on_the_status_line() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {
            "code": "[b]Internal[/b]",
            "message": {"value": H},
            "values": [{"key": "Reason", "value": H}],
        }
        return httpx.Response(500, json=error, headers={"request-id": "[red]rid[/red]"})

    client = BatchClient(
        ENDPOINT,
        transport=httpx.MockTransport(handler),
        account="[i]acct[/i]\x1b[2J",
        retry=RetryPolicy(max_attempts=1, base_delay=0, max_delay=0),
    )
    app = make_app(client, refresh=3600.0, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.status.error is not None)
        await pilot.pause()
        plain = screen.status.plain
        assert f"service error: HTTP 500 [b]Internal[/b]: {SHOWN}" in plain
        assert "(request-id [red]rid[/red])" in plain and "[i]acct[/i]\\x1b[2J" in plain
        assert_inert(screen.status)
        assert_clean_svg(app)
