"""How the simulated world follows an operator's actions, over time: the past stays as it was,
disable's three modes, reactivation under a disabled job, terminating tasks that never ran."""

from __future__ import annotations

import json
from typing import Any

import httpx
from test_sim_support import API, client, get

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.schedule import JobPlan, TaskView


def frozen() -> Simulator:
    return Simulator(SimConfig(seed=7, jobs=20, time_scale=0))


async def post(c: httpx.AsyncClient, path: str, body: Any = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    r = await c.post(path, params={"api-version": API}, content=content)
    assert r.status_code in (200, 202, 204), r.text
    return r


def views(sim: Simulator, job_id: str, t: float) -> dict[str, TaskView]:
    plan = sim.world.plan(job_id)
    assert plan is not None
    return {s.id: sim.world.task_view(plan, s, t) for s in sim.world.visible_tasks(plan, t)}


def plan_of(sim: Simulator, job_id: str) -> JobPlan:
    plan = sim.world.plan(job_id)
    assert plan is not None
    return plan


JOB = "render-shot-0000"  # seed 7: active, in the middle of a wave when the warm-up ends


async def test_the_world_before_an_action_stays_as_it_was() -> None:
    acted, untouched = frozen(), frozen()
    t = acted.clock.seconds()
    running = [k for k, v in views(acted, JOB, t).items() if v.state == "running"]
    async with client(acted) as c:
        await post(c, f"/jobs/{JOB}/tasks/{running[0]}/terminate")
        await post(c, f"/jobs/{JOB}/disable", {"disableTasks": "requeue"})
    for earlier in (t - 600, t - 1, t - 0.001):
        assert views(acted, JOB, earlier) == views(untouched, JOB, earlier)
        assert acted.world.job_view(plan_of(acted, JOB), earlier) == untouched.world.job_view(
            plan_of(untouched, JOB), earlier
        )
    assert views(acted, JOB, t) != views(untouched, JOB, t)


async def test_disable_wait_lets_running_tasks_finish_and_holds_the_rest() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    before = views(sim, JOB, t)
    running = {k for k, v in before.items() if v.state == "running"}
    waiting = {k for k, v in before.items() if v.state == "active"}
    assert running and waiting
    async with client(sim) as c:
        await post(c, f"/jobs/{JOB}/disable", {"disableTasks": "wait"})
        assert (await get(c, f"/jobs/{JOB}")).json()["state"] == "disabling"
        sim.clock.advance(3 * 3600)  # long after the running ones would have ended
        assert (await get(c, f"/jobs/{JOB}")).json()["state"] == "disabled"
    later = views(sim, JOB, sim.clock.seconds())
    assert {later[k].state for k in running} == {"completed"}
    assert {later[k].state for k in waiting} == {"active"}  # nothing new starts while disabled


async def test_a_requeue_is_not_a_retry_and_is_counted() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    running = {k: v for k, v in views(sim, JOB, t).items() if v.state == "running"}
    async with client(sim) as c:
        await post(c, f"/jobs/{JOB}/disable", {"disableTasks": "requeue"})
        sim.clock.advance(2)
        await post(c, f"/jobs/{JOB}/enable")
        sim.clock.advance(3)
        tasks = {d["id"]: d for d in (await get(c, f"/jobs/{JOB}/tasks")).json()["value"]}
    for task_id, was in running.items():
        info = tasks[task_id]["executionInfo"]
        assert info["requeueCount"] == 1
        assert info["retryCount"] == was.retry_count


async def test_a_task_reactivated_under_a_disabled_job_waits_for_the_enable() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    task = next(k for k, v in views(sim, JOB, t).items() if v.state == "running")
    async with client(sim) as c:
        await post(c, f"/jobs/{JOB}/tasks/{task}/terminate")
        await post(c, f"/jobs/{JOB}/disable", {"disableTasks": "requeue"})
        await post(c, f"/jobs/{JOB}/tasks/{task}/reactivate")
        sim.clock.advance(600)
        assert (await get(c, f"/jobs/{JOB}/tasks/{task}")).json()["state"] == "active"
        await post(c, f"/jobs/{JOB}/enable")
        sim.clock.advance(5)
        assert (await get(c, f"/jobs/{JOB}/tasks/{task}")).json()["state"] in ("preparing", "running")


async def test_terminating_a_task_that_never_ran() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    fresh = next(k for k, v in views(sim, JOB, t).items() if v.state == "active" and v.retry_count == 0)
    async with client(sim) as c:
        await post(c, f"/jobs/{JOB}/tasks/{fresh}/terminate")
        d = (await get(c, f"/jobs/{JOB}/tasks/{fresh}")).json()
    info = d["executionInfo"]
    assert (d["state"], d["previousState"], info["result"]) == ("completed", "active", "failure")
    assert info["failureInfo"]["code"] == "TaskEnded"
    assert "startTime" not in info and "exitCode" not in info and "nodeInfo" not in d


async def test_a_terminated_job_leaves_its_waiting_tasks_active() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    waiting = {k for k, v in views(sim, JOB, t).items() if v.state == "active"}
    async with client(sim) as c:
        await post(c, f"/jobs/{JOB}/terminate")
        sim.clock.advance(3600)
        job = (await get(c, f"/jobs/{JOB}")).json()
        tasks = {d["id"]: d for d in (await get(c, f"/jobs/{JOB}/tasks")).json()["value"]}
        counts = (await get(c, f"/jobs/{JOB}/taskcounts")).json()["taskCounts"]
    assert job["state"] == "completed"
    assert {tasks[k]["state"] for k in waiting} == {"active"}  # the service leaves them be
    assert counts["running"] == 0 and counts["active"] == len(waiting)
