"""--log gets one line per action with its request id, as the action history does; never a key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sim_support import make_client, make_sim

from batchtui.refresh.actions import ActionRunner
from batchtui.ui import action_plans


async def test_each_action_is_logged_with_its_request_id(batchtui_log: Path) -> None:
    sim = make_sim()
    client = make_client(sim)
    job = "render-shot-0018"
    tasks = await client.list_tasks(job)
    running = next(t for t in tasks if t.state == "running")
    done = next(t for t in tasks if t.state == "completed")
    runner = ActionRunner(client, None, lambda: datetime(2026, 12, 1, tzinfo=UTC))
    records = await runner.run(action_plans.terminate_tasks(job, [running, done]))
    text = await asyncio.to_thread(batchtui_log.read_text, encoding="utf-8")
    for r in records:
        assert r.request_id and f"request-id {r.request_id}" in text
    assert f"terminate task {running.id} of {job}: done" in text
    assert f"terminate task {done.id} of {job}: refused, TaskCompleted" in text
    assert sim.config.key not in text
