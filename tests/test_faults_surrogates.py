"""Lone surrogates in valid JSON (issue 14.4): ``"\\udfff"`` in a job id, ``"\\ud800"`` in a
display name. On the dashboard they are shown escaped, the other jobs load as usual, and only
the requests that would have to name the bad id fail, each with its own clear error."""

from __future__ import annotations

import json

import httpx
from ui_support import FrozenClock, wait_for

from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.sanitize import clean
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.tasks import TasksScreen

ENDPOINT = "http://127.0.0.1:9"
BAD = "job-\udfff"
COUNTS = {"active": 3, "running": 1, "completed": 0, "succeeded": 0, "failed": 0}


def service(seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/jobs":
            jobs = [{"id": BAD, "displayName": "name \ud800", "state": "active"}]
            jobs += [{"id": f"job-{i}", "state": "active"} for i in range(3)]
            # As the service writes it: "\udfff" escaped in otherwise valid JSON.
            body = json.dumps({"value": jobs}).encode()
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return httpx.Response(200, json={"taskCounts": COUNTS, "taskSlotCounts": COUNTS})

    return httpx.MockTransport(handler)


async def test_a_job_id_with_a_lone_surrogate_blocks_nothing() -> None:
    seen: list[str] = []
    client = BatchClient(ENDPOINT, transport=service(seen), retry=RetryPolicy(max_attempts=1))
    app = make_app(client, refresh=3600.0, monotonic=FrozenClock())
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.table
        await wait_for(pilot, lambda: screen.snapshot is not None and len(screen.snapshot.counts) == 4)
        assert set(table.rows_by_key) == {BAD, "job-0", "job-1", "job-2"}
        snap = screen.snapshot
        assert snap is not None
        for good in ("job-0", "job-1", "job-2"):
            entry = snap.counts[good]
            assert entry.result is not None and entry.result.task_counts.active == 3
        bad = snap.counts[BAD]
        assert bad.result is None and bad.error is not None
        assert str(bad.error) == "job id 'job-\\udfff' cannot be sent: it holds a lone surrogate"
        cells = [c.plain for c in table.get_row(BAD)]
        assert cells[0] == "job-\\udfff" and cells[1] == "name \\ud800"
        assert not any("\udfff" in c or "\ud800" in c for c in cells)
        assert not any(p.startswith(f"/jobs/{BAD}") for p in seen)  # never put on the wire

        # Open the bad job: its screen says why it cannot load, and nothing crashes.
        assert table.select_key(BAD)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        await wait_for(pilot, lambda: tasks.status.error is not None)
        assert "cannot be sent: it holds a lone surrogate" in tasks.status.plain
        assert "\udfff" not in tasks.status.plain and clean(BAD) in tasks.status.plain
