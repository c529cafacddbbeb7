"""The change feed and alerts (issue 16): transitions between snapshots, a baseline that never
alerts, failures coalesced per job, offline after a while and back, and --on-event hooks."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from batchtui.batch.models import Job, TaskCounts
from batchtui.refresh.events import EventDetector
from batchtui.refresh.hooks import run_hook

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def job(job_id: str, state: str) -> Job:
    return Job(id=job_id, state=state)


def failed(n: int, active: int = 10) -> TaskCounts:
    return TaskCounts(active, 2, n, 0, n)


def test_the_first_snapshot_is_a_baseline_and_changes_after_it_are_events() -> None:
    d = EventDetector("demo")
    assert d.jobs([job("a", "active"), job("b", "active")], {"a": failed(5)}, T0) == []
    at = T0 + timedelta(seconds=5)
    events = d.jobs([job("a", "completed"), job("c", "active")], {"a": failed(5), "b": failed(0)}, at)
    assert [(e.kind, e.job) for e in events] == [
        ("job-completed", "a"),
        ("job-created", "c"),
        ("job-deleted", "b"),
    ]
    assert list(d.feed)[0].kind == "job-deleted"  # newest first


def test_failures_are_coalesced_per_job_and_old_ones_never_alert() -> None:
    d = EventDetector("demo", rise_by=10)
    d.jobs([job("a", "active"), job("b", "active")], {"a": failed(3)}, T0)
    # b's counts arrive later: its 7 old failures are a baseline too.
    assert d.jobs([job("a", "active"), job("b", "active")], {"a": failed(3), "b": failed(7)}, T0) == []
    burst = d.jobs([job("a", "active"), job("b", "active")], {"a": failed(503), "b": failed(7)}, T0)
    assert [(e.kind, e.job, e.message) for e in burst] == [
        ("task-failed", "a", "job a: failures up 500 to 503")
    ]
    assert d.jobs([job("a", "active"), job("b", "active")], {"a": failed(509), "b": failed(7)}, T0) == []
    # A new job's first failure alerts at once, whatever rise_by says.
    d.jobs([job("a", "active"), job("b", "active"), job("n", "active")], {"n": failed(0)}, T0)
    first = d.jobs([job("a", "active"), job("b", "active"), job("n", "active")], {"n": failed(1)}, T0)
    assert [(e.job, e.message) for e in first] == [("n", "job n: its first failure")]


def test_failures_trickling_in_make_one_alert_a_minute_at_most() -> None:
    d = EventDetector("demo", hold=60)
    jobs = [job("a", "active")]
    d.jobs(jobs, {"a": failed(0)}, T0)
    told = []
    for k in range(1, 25):  # five more failures every 5 s for two minutes
        told += d.jobs(jobs, {"a": failed(5 * k)}, T0 + timedelta(seconds=5 * k))
    assert [e.message for e in told] == [
        "job a: its first 5 failures",  # 5 s
        "job a: failures up 60 to 65",  # 65 s: the whole rise since, in one alert
    ]
    assert (told[1].at - told[0].at).total_seconds() == 60


def test_offline_after_a_while_and_back_once() -> None:
    d = EventDetector("demo", offline_after=60)
    assert d.reachable(False, T0) == []
    assert d.reachable(False, T0 + timedelta(seconds=30)) == []
    (off,) = d.reachable(False, T0 + timedelta(seconds=61))
    assert off.kind == "account-offline" and "since 12:00:00" in off.message
    assert d.reachable(False, T0 + timedelta(seconds=120)) == []
    (on,) = d.reachable(True, T0 + timedelta(seconds=130))
    assert on.kind == "account-online"
    assert d.reachable(True, T0 + timedelta(seconds=135)) == []


def test_a_rank_failing_while_others_run() -> None:
    d = EventDetector("demo")
    assert d.ranks("mpi", "solver", [], running=8, at=T0) == []
    (e,) = d.ranks("mpi", "solver", ["4"], running=7, at=T0)
    assert (e.kind, e.task) == (
        "rank-failed",
        "solver",
    ) and "rank 4 of solver (mpi) failed while 7" in e.message
    assert json.loads(e.to_json())["task"] == "solver"


async def test_a_hook_gets_one_json_object_and_a_hung_one_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    d = EventDetector("demo")
    d.jobs([job("a", "active")], {}, T0)
    (e,) = d.jobs([job("a", "completed")], {"a": failed(2, active=0)}, T0)
    assert await run_hook(f"cat > {out}", e) is None
    doc = json.loads(out.read_text())
    assert set(doc) == {"kind", "account", "job", "at", "message", "counts"}
    assert doc["kind"] == "job-completed" and doc["at"] == "2026-12-01T12:00:00+00:00"
    assert doc["counts"] == {"active": 0, "running": 2, "completed": 2, "succeeded": 0, "failed": 2}
    said = await run_hook(f"{sys.executable} -c 'import time; time.sleep(30)'", e, kill_after=0.5)
    assert said == "--on-event hook killed after 0.5 s (job-completed)"
    said = await run_hook("echo 'no such queue' >&2; exit 3", e)
    assert said == "--on-event hook exited 3 (job-completed): no such queue"
