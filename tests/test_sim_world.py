"""The simulated world: determinism, every job state, consistent counts, realistic tasks, MPI ranks."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from test_sim_support import client, get, get_all

from batchtui.sim import SimConfig, Simulator


class FakeTime:
    """A controllable monotonic clock for the simulator's real-time source."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def _snapshot(sim: Simulator) -> dict[str, Any]:
    """Every job, and the tasks and subtasks of a few, as JSON."""
    out: dict[str, Any] = {}
    async with client(sim) as c:
        jobs, _ = await get_all(c, "/jobs")
        out["jobs"] = jobs
        for job in jobs:
            tasks, _ = await get_all(c, f"/jobs/{job['id']}/tasks")
            out[job["id"]] = tasks
            out[job["id"] + "/counts"] = (await get(c, f"/jobs/{job['id']}/taskcounts")).json()
            for task in tasks:
                if "multiInstanceSettings" in task:
                    subs, _ = await get_all(c, f"/jobs/{job['id']}/tasks/{task['id']}/subtasksinfo")
                    out[f"{job['id']}/{task['id']}"] = subs
    return out


async def test_same_seed_and_clock_give_the_same_world() -> None:
    a = await _snapshot(Simulator(SimConfig(seed=5, jobs=25, time_scale=0)))
    b = await _snapshot(Simulator(SimConfig(seed=5, jobs=25, time_scale=0)))
    assert a == b
    c = await _snapshot(Simulator(SimConfig(seed=6, jobs=25, time_scale=0)))
    assert c != a
    assert [j["id"] for j in c["jobs"]] != [j["id"] for j in a["jobs"]] or c["jobs"] != a["jobs"]


async def test_same_seed_at_the_same_sim_instant_agrees_whatever_the_time_scale() -> None:
    now = FakeTime()
    moving = Simulator(SimConfig(seed=5, jobs=12, time_scale=10), now=now)
    now.t += 90  # 900 sim seconds later
    frozen = Simulator(SimConfig(seed=5, jobs=12, time_scale=0))
    frozen.clock.advance(900)
    assert moving.clock.now() == frozen.clock.now()
    assert await _snapshot(moving) == await _snapshot(frozen)


@pytest.fixture(scope="module")
def world40() -> Simulator:
    return Simulator(SimConfig(seed=1, jobs=40, time_scale=0))


async def test_warm_up_leaves_jobs_in_every_state(world40: Simulator) -> None:
    async with client(world40) as c:
        jobs, _ = await get_all(c, "/jobs")
        counts = {j["id"]: (await get(c, f"/jobs/{j['id']}/taskcounts")).json()["taskCounts"] for j in jobs}
    states = Counter(j["state"] for j in jobs)
    assert {"active", "completed", "disabled", "terminating", "deleting"} <= set(states)
    reasons = {j["executionInfo"].get("terminateReason") for j in jobs if j["state"] == "completed"}
    assert {"AllTasksComplete", "TaskFailed", "MaxWallClockTimeExpiry", "UserTerminate"} <= reasons
    for job in jobs:
        if job["state"] == "completed":
            assert job["executionInfo"]["endTime"] >= job["executionInfo"]["startTime"]
            assert job["previousState"] == "terminating"
        else:
            assert "endTime" not in job["executionInfo"]
    assert any(counts[j["id"]]["running"] > 0 for j in jobs if j["state"] == "active")
    assert len({j["priority"] for j in jobs}) > 2
    assert len({j["poolInfo"]["poolId"] for j in jobs}) >= 3


async def test_tasks_show_realistic_failures_retries_and_slots(world40: Simulator) -> None:
    tasks: list[dict[str, Any]] = []
    async with client(world40) as c:
        for job_id in world40.job_ids():
            items, _ = await get_all(c, f"/jobs/{job_id}/tasks")
            tasks.extend(items)
    failures = {}
    for t in tasks:
        info = t["executionInfo"]
        assert "retryCount" in info and "requeueCount" in info
        if t["state"] == "completed":
            assert info["result"] in ("success", "failure")
            assert "nodeInfo" in t and "endTime" in info
            if info["result"] == "failure":
                failures.setdefault(info["failureInfo"]["code"], t)
            else:
                assert info["exitCode"] == 0 and "failureInfo" not in info
        else:
            assert "result" not in info and "endTime" not in info
        if t["state"] == "active" and "previousState" not in t:
            assert info == {"retryCount": 0, "requeueCount": 0}
    assert {"FailureExitCode", "ResourceFileDownloadFailed", "CommandProgramNotFound", "TaskEnded"} <= set(
        failures
    )
    exit_failure = failures["FailureExitCode"]["executionInfo"]
    assert exit_failure["exitCode"] != 0
    assert exit_failure["failureInfo"]["category"] == "usererror"
    assert {"name": "Message", "value": exit_failure["failureInfo"]["message"]} in exit_failure[
        "failureInfo"
    ]["details"]
    blob = failures["ResourceFileDownloadFailed"]
    assert any(d["name"] == "BlobNotFound" for d in blob["executionInfo"]["failureInfo"]["details"])
    assert blob["resourceFiles"][0]["httpUrl"].startswith("https://")
    retried = [t for t in tasks if t["executionInfo"]["retryCount"] > 0]
    assert retried and all("lastRetryTime" in t["executionInfo"] for t in retried)
    assert any(t["requiredSlots"] > 1 for t in tasks)
    node = next(t["nodeInfo"] for t in tasks if "nodeInfo" in t)
    assert node["affinityId"] == f"TVM:{node['nodeId']}"
    assert node["nodeUrl"].endswith(f"/pools/{node['poolId']}/nodes/{node['nodeId']}")
    assert node["nodeId"].startswith("tvm-")
    assert node["taskRootDirectory"].startswith("workitems\\")
    assert node["taskRootDirectoryUrl"].startswith(node["nodeUrl"] + "/files/workitems/")


def _tally(tasks: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    counts = dict.fromkeys(("active", "running", "completed", "succeeded", "failed"), 0)
    slots = dict(counts)
    for t in tasks:
        keys = {"active": ["active"], "preparing": ["running"], "running": ["running"]}.get(t["state"])
        if keys is None:
            keys = ["completed", "succeeded" if t["executionInfo"]["result"] == "success" else "failed"]
        for k in keys:
            counts[k] += 1
            slots[k] += t["requiredSlots"]
    return counts, slots


async def test_counts_match_the_task_list_once_the_lag_has_passed() -> None:
    sim = Simulator(SimConfig(seed=3, jobs=10, tasks=40, time_scale=0, count_lag=30.0))
    differed = 0
    async with client(sim) as c:
        for _ in range(5):
            for job_id in sim.job_ids():
                if (await get(c, f"/jobs/{job_id}")).status_code == 404:
                    continue  # deleted while we were looking at the others
                tasks, _ = await get_all(c, f"/jobs/{job_id}/tasks")
                expected = _tally(tasks)
                now = (await get(c, f"/jobs/{job_id}/taskcounts")).json()
                sim.clock.advance(30.0)  # let the counts catch up with the list we just read
                later = (await get(c, f"/jobs/{job_id}/taskcounts")).json()
                assert (later["taskCounts"], later["taskSlotCounts"]) == expected, job_id
                for body in (now, later):
                    for key in ("taskCounts", "taskSlotCounts"):
                        b = body[key]
                        assert b["succeeded"] + b["failed"] == b["completed"]
                differed += now != later
                sim.clock.advance(97.0)
    assert differed, "the counts never lagged the list: the lag is not simulated"


async def test_multi_instance_tasks_and_their_subtasks() -> None:
    sim = Simulator(SimConfig(seed=4, jobs=10, instances=24, time_scale=0))
    async with client(sim) as c:
        mpi_jobs = [j for j in sim.job_ids() if j.startswith("mpi")]
        all_subs: dict[str, list[dict[str, Any]]] = {}
        tasks: dict[str, dict[str, Any]] = {}
        for job_id in mpi_jobs:
            items, _ = await get_all(c, f"/jobs/{job_id}/tasks")
            for t in items:
                assert t["multiInstanceSettings"]["coordinationCommandLine"]
                assert t["requiredSlots"] == 1
                subs, _ = await get_all(c, f"/jobs/{job_id}/tasks/{t['id']}/subtasksinfo")
                all_subs[f"{job_id}/{t['id']}"] = subs
                tasks[f"{job_id}/{t['id']}"] = t
        plain = (await get(c, "/jobs/render-shot-0000/tasks", maxresults=1)).json()["value"][0]
        empty = await get(c, f"/jobs/render-shot-0000/tasks/{plain['id']}/subtasksinfo")
    assert empty.json()["value"] == []
    assert max(t["multiInstanceSettings"]["numberOfInstances"] for t in tasks.values()) == 24
    modes = set()
    for key, subs in all_subs.items():
        task = tasks[key]
        n = task["multiInstanceSettings"]["numberOfInstances"]
        if task["state"] == "active":
            assert subs == []
            continue
        assert [s["id"] for s in subs] == list(range(1, n)), "ranks 1..N-1; the primary is the task itself"
        nodes = [s["nodeInfo"]["nodeId"] for s in subs] + [task["nodeInfo"]["nodeId"]]
        assert len(set(nodes)) == n, "every rank on its own node"
        for s in subs:
            assert s["state"] in ("preparing", "running", "completed")
            assert s["nodeInfo"]["taskRootDirectory"].endswith(f"\\{s['id']}")
            if s["state"] == "completed":
                assert {"endTime", "exitCode", "result", "previousState"} <= set(s)
            if s["state"] == "running":
                assert s["previousState"] == "preparing" and "startTime" in s
        states = Counter((s["state"], s.get("result")) for s in subs)
        if (
            task["state"] == "running"
            and states[("completed", "failure")] == 1
            and states[("running", None)] == n - 2
        ):
            modes.add("one rank failed, the others keep running")
        if (
            task["state"] == "running"
            and states[("running", None)] == 1
            and states[("completed", "success")] == n - 2
        ):
            modes.add("one rank straggles")
    assert modes == {"one rank failed, the others keep running", "one rank straggles"}


async def test_the_clock_moves_the_world_on() -> None:
    now = FakeTime()
    sim = Simulator(SimConfig(seed=1, jobs=20, time_scale=60), now=now)
    before = await _snapshot(sim)
    start = sim.clock.now()
    now.t += 10  # ten real seconds = ten simulated minutes
    assert (sim.clock.now() - start).total_seconds() == pytest.approx(600)
    after = await _snapshot(sim)
    assert after["jobs"] != before["jobs"]
    ids_before = {j["id"] for j in before["jobs"]}
    ids_after = {j["id"] for j in after["jobs"]}
    assert ids_after - ids_before, "new jobs are submitted as time passes"
    assert ids_before - ids_after, "deleted jobs disappear"
    moved = [j for j in ids_before & ids_after if after[j] != before[j]]
    assert moved, "tasks move on"


async def test_time_scale_zero_is_frozen() -> None:
    now = FakeTime()
    sim = Simulator(SimConfig(seed=1, jobs=6, time_scale=0), now=now)
    before = await _snapshot(sim)
    now.t += 3600
    assert await _snapshot(sim) == before
    assert sim.clock.now() == SimConfig().start + timedelta(seconds=SimConfig().warmup)


async def test_delete_helpers() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=6, time_scale=0))
    job_id = sim.job_ids()[0]
    async with client(sim) as c:
        task_id = (await get(c, f"/jobs/{job_id}/tasks", maxresults=1)).json()["value"][0]["id"]
        before = (await get(c, f"/jobs/{job_id}/taskcounts")).json()["taskCounts"]
        assert sim.delete_task(job_id, task_id)
        # Same instant (frozen clock), one task fewer: the counts are not served from before.
        after = (await get(c, f"/jobs/{job_id}/taskcounts")).json()["taskCounts"]
        assert sum(before[k] for k in ("active", "running", "completed")) == 1 + sum(
            after[k] for k in ("active", "running", "completed")
        )
        assert (await get(c, f"/jobs/{job_id}/tasks/{task_id}")).json()["code"] == "TaskNotFound"
        listed, _ = await get_all(c, f"/jobs/{job_id}/tasks")
        assert task_id not in {t["id"] for t in listed}
        assert sim.delete_job(job_id)
        assert job_id not in sim.job_ids()
        r = await get(c, f"/jobs/{job_id}")
        assert (r.status_code, r.json()["code"]) == (404, "JobNotFound")
    assert not sim.delete_job("no-such-job")


def test_a_long_run_keeps_a_bounded_working_set() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    start = len(sim.job_ids())
    sizes = []
    for _ in range(10):
        sim.clock.advance(86400)
        sizes.append(len(sim.job_ids()))
    assert max(sizes) < 3 * start, sizes
    assert min(sizes) > start // 2, sizes
