"""The node actions on the wire and in the world: reboot, disable and enable scheduling, remove
nodes. Statuses and headers as recorded (NEXT-APIS §4), the service's refusals, and the world
following: tasks requeued elsewhere, terminated or let finish; offline, back, gone; every task
still agreeing with its node as the clock moves."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from test_sim_pools import check_agreement, everything, frozen
from test_sim_support import API, client, get

from batchtui.sim import Simulator
from batchtui.sim.node_views import NodeView

POOL = "pool-etl-d16"  # seed 7: busy, short tasks, no multi-instance tasks
RENDER = "pool-render-spot"  # seed 7: tasks of a few minutes each


async def post(c: httpx.AsyncClient, path: str, body: Any = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return await c.post(path, params={"api-version": API}, content=content)


def running_nodes(sim: Simulator, pool_id: str = POOL) -> list[NodeView]:
    pool = sim.world.pools[pool_id]
    return [v for v in sim.world.nodes.nodes_at(pool, sim.clock.seconds()) if v.state == "running"]


def node_at(sim: Simulator, node_id: str, dt: float = 0.0, pool_id: str = POOL) -> NodeView | None:
    return sim.world.nodes.find_node(sim.world.pools[pool_id], node_id, sim.clock.seconds() + dt)


def code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["code"]


async def test_answers_as_recorded() -> None:
    sim = frozen()
    a, b = running_nodes(sim)[:2]
    async with client(sim) as c:
        reboot = await post(c, f"/pools/{POOL}/nodes/{a.node.id}/reboot")  # empty body: requeue
        disable = await post(c, f"/pools/{POOL}/nodes/{b.node.id}/disablescheduling")
        enable = await post(c, f"/pools/{POOL}/nodes/{b.node.id}/enablescheduling")
        pool_before = (await get(c, f"/pools/{POOL}")).headers["ETag"]
        remove = await post(c, f"/pools/{POOL}/removenodes", {"nodeList": [b.node.id]})
    for r, status in ((reboot, 202), (disable, 200), (enable, 200), (remove, 202)):
        assert r.status_code == status and r.content == b""
        assert r.headers["DataServiceId"] == f"http://127.0.0.1:8765{r.request.url.path}"
        assert r.headers["request-id"]
    assert "ETag" not in reboot.headers and "ETag" not in disable.headers  # as the recordings
    assert remove.headers["ETag"] != pool_before and remove.headers["Last-Modified"]


async def test_refusals_in_the_services_words() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    pool = sim.world.pools["pool-hpc-a"]
    unusable = next(v for v in sim.world.nodes.nodes_at(pool, t) if v.state == "unusable")
    failed = next(v for v in sim.world.nodes.nodes_at(pool, t) if v.state == "starttaskfailed")
    node = running_nodes(sim)[0].node.id
    async with client(sim) as c:
        assert code(await post(c, f"/pools/{POOL}/nodes/tvm-0_0-00000000t000000z/reboot")) == (
            404,
            "NodeNotFound",
        )
        assert code(await post(c, f"/pools/nope/nodes/{node}/reboot")) == (404, "PoolNotFound")
        assert code(await post(c, f"/pools/pool-hpc-a/nodes/{unusable.node.id}/reboot")) == (
            409,
            "NodeStateUnusable",
        )
        assert code(await post(c, f"/pools/pool-hpc-a/nodes/{failed.node.id}/reboot")) == (
            409,
            "OperationNotValidOnNode",
        )
        bad = await post(c, f"/pools/{POOL}/nodes/{node}/reboot", {"nodeRebootOption": "later"})
        assert code(bad) == (400, "InvalidPropertyValue")
        assert code(await post(c, f"/pools/{POOL}/nodes/{node}/enablescheduling")) == (
            409,
            "NodeAlreadyInTargetSchedulingState",
        )
        assert (await post(c, f"/pools/{POOL}/nodes/{node}/disablescheduling")).status_code == 200
        assert code(await post(c, f"/pools/{POOL}/nodes/{node}/disablescheduling")) == (
            409,
            "NodeAlreadyInTargetSchedulingState",
        )
        # offline now: "only if it is in an idle or running state"
        assert code(await post(c, f"/pools/{POOL}/nodes/{node}/reboot")) == (409, "OperationNotValidOnNode")
        busy = running_nodes(sim)[0].node.id
        later = {"nodeRebootOption": "taskcompletion"}
        assert (await post(c, f"/pools/{POOL}/nodes/{busy}/reboot", later)).status_code == 202
        assert code(await post(c, f"/pools/{POOL}/nodes/{busy}/reboot")) == (409, "NodeBeingRebooted")

        removes = f"/pools/{POOL}/removenodes"
        assert code(await post(c, removes, {})) == (400, "MissingRequiredProperty")
        assert code(await post(c, removes, {"nodeList": [f"n{i}" for i in range(101)]})) == (
            400,
            "InvalidPropertyValue",
        )
        short = {"nodeList": [node], "resizeTimeout": "PT4M"}
        assert code(await post(c, removes, short)) == (400, "InvalidPropertyValue")
        assert code(await post(c, removes, {"nodeList": ["tvm-0_0-00000000t000000z"]})) == (
            404,
            "NodeNotFound",
        )
        assert (await post(c, removes, {"nodeList": [node], "resizeTimeout": "PT10M"})).status_code == 202
        other = running_nodes(sim)[0].node.id
        assert code(await post(c, removes, {"nodeList": [other]})) == (409, "PoolBeingResized")
        resizing = await get(c, f"/pools/{POOL}/nodes/{node}")
        assert resizing.json()["state"] == "leavingpool"
        assert code(await post(c, f"/pools/{POOL}/nodes/{node}/enablescheduling")) == (
            409,
            "OperationNotValidOnNode",
        )


@pytest.mark.parametrize("option", ["requeue", "terminate", "taskcompletion"])
async def test_a_reboot_requeues_terminates_or_waits_for_the_running_tasks(option: str) -> None:
    sim = frozen()
    t = sim.clock.seconds()
    node = next(v for v in running_nodes(sim, RENDER) if all(o.end > t + 30 for o in v.running))
    tasks = [(o.plan, o.spec) for o in node.running]
    async with client(sim) as c:
        r = await post(c, f"/pools/{RENDER}/nodes/{node.node.id}/reboot", {"nodeRebootOption": option})
        assert r.status_code == 202
    now = node_at(sim, node.node.id, pool_id=RENDER)
    assert now is not None
    views = [sim.world.task_view(plan, spec, t) for plan, spec in tasks]
    if option == "taskcompletion":
        # it finishes what it runs, takes nothing new, then reboots
        assert now.state == "running" and all(v.state == "running" for v in views)
        last = max(o.end for o in node.running)
        later = node_at(sim, node.node.id, last - t + 1, RENDER)
        assert later is not None and later.state == "rebooting" and not later.running
    else:
        assert now.state == "rebooting"
        if option == "requeue":
            assert all(v.state == "active" and v.previous_state == "running" for v in views)
            soon = [sim.world.task_view(plan, spec, t + 10) for plan, spec in tasks]
            # another node picked them up; no retry counted
            assert all(v.state in ("preparing", "running") and v.node != node.node.index for v in soon)
            assert all(v.retry_count == views[i].retry_count for i, v in enumerate(soon))
        else:
            assert all(v.state == "completed" and v.exit_code == 137 for v in views)
    back = node_at(sim, node.node.id, 900, RENDER)
    assert back is not None and back.state in ("idle", "running") and back.last_boot is not None
    assert back.last_boot > t
    for step in (0, 30, 120, 900):
        sim.clock.advance(step)
        check_agreement(await everything(sim))


@pytest.mark.parametrize("option", ["requeue", "terminate", "taskcompletion"])
async def test_scheduling_disabled_takes_the_node_offline_and_enable_brings_it_back(option: str) -> None:
    sim = frozen()
    t = sim.clock.seconds()
    node = next(v for v in running_nodes(sim, RENDER) if all(o.end > t + 30 for o in v.running))
    body = {"nodeDisableSchedulingOption": option}
    async with client(sim) as c:
        assert (
            await post(c, f"/pools/{RENDER}/nodes/{node.node.id}/disablescheduling", body)
        ).status_code == 200
        now = node_at(sim, node.node.id, pool_id=RENDER)
        assert now is not None and now.scheduling == "disabled"
        if option == "taskcompletion":
            assert now.state == "running"  # offline once its tasks finish
            done = max(o.end for o in node.running) - t
            later = node_at(sim, node.node.id, done + 1, RENDER)
            assert later is not None and later.state == "offline"
        else:
            assert now.state == "offline"
        far = node_at(sim, node.node.id, 4 * 3600, RENDER)
        assert far is not None and far.state == "offline" and not far.running  # nothing new started
        for step in (0, 60, 1800):
            sim.clock.advance(step)
            check_agreement(await everything(sim))
        assert (await post(c, f"/pools/{RENDER}/nodes/{node.node.id}/enablescheduling")).status_code == 200
    back = node_at(sim, node.node.id, pool_id=RENDER)
    assert back is not None and back.scheduling == "enabled" and back.state in ("idle", "running")


async def test_the_fleets_own_offline_node_comes_back_when_enabled() -> None:
    sim = frozen()
    pool = sim.world.pools["pool-render-spot"]
    offline = next(v for v in sim.world.nodes.nodes_at(pool, sim.clock.seconds()) if v.state == "offline")
    async with client(sim) as c:
        r = await post(c, f"/pools/{pool.id}/nodes/{offline.node.id}/enablescheduling")
        assert r.status_code == 200
    back = node_at(sim, offline.node.id, 1, pool.id)
    assert back is not None and back.state == "idle" and back.scheduling == "enabled"


async def test_removed_nodes_leave_the_pool_and_the_counts_follow() -> None:
    sim = frozen()
    t = sim.clock.seconds()
    leaving = [v.node for v in running_nodes(sim)[:2]]
    held = [(o.plan, o.spec) for v in running_nodes(sim)[:2] for o in v.running]
    async with client(sim) as c:
        before = (await get(c, f"/pools/{POOL}")).json()
        counts0 = (await get(c, "/nodecounts", **{"$filter": f"poolId eq '{POOL}'"})).json()["value"][0]
        r = await post(c, f"/pools/{POOL}/removenodes", {"nodeList": [n.id for n in leaving]})
        assert r.status_code == 202
        pool = (await get(c, f"/pools/{POOL}")).json()
        assert pool["allocationState"] == "resizing"
        assert pool["targetDedicatedNodes"] == before["targetDedicatedNodes"] - 2
        states = {(await get(c, f"/pools/{POOL}/nodes/{n.id}")).json()["state"] for n in leaving}
        assert states == {"leavingpool"}
        # requeued, and picked up by the nodes that stay
        assert all(sim.world.task_view(plan, spec, t).state == "active" for plan, spec in held)
        sim.clock.advance(300)
        assert {(await get(c, f"/pools/{POOL}/nodes/{n.id}")).status_code for n in leaving} == {404}
        pool = (await get(c, f"/pools/{POOL}")).json()
        counts = (await get(c, "/nodecounts", **{"$filter": f"poolId eq '{POOL}'"})).json()["value"][0]
    assert pool["allocationState"] == "steady"
    assert pool["currentDedicatedNodes"] == before["currentDedicatedNodes"] - 2
    assert counts["dedicated"]["total"] == counts0["dedicated"]["total"] - 2
    t2 = sim.clock.seconds()
    assert all(
        sim.world.task_view(plan, spec, t2).node not in (n.index for n in leaving) for plan, spec in held
    )
    check_agreement(await everything(sim))


async def test_the_world_before_a_node_action_stays_as_it_was() -> None:
    acted, untouched = frozen(), frozen()
    t = acted.clock.seconds()
    node = running_nodes(acted)[0]
    async with client(acted) as c:
        await post(c, f"/pools/{POOL}/nodes/{node.node.id}/reboot", {"nodeRebootOption": "terminate"})
    for earlier in (t - 600, t - 0.001):
        a = [
            (v.node.id, v.state, len(v.running))
            for v in acted.world.nodes.nodes_at(acted.world.pools[POOL], earlier)
        ]
        b = [
            (v.node.id, v.state, len(v.running))
            for v in untouched.world.nodes.nodes_at(untouched.world.pools[POOL], earlier)
        ]
        assert a == b
    plan, spec = node.running[0].plan, node.running[0].spec
    assert acted.world.task_view(plan, spec, t - 1) == untouched.world.task_view(plan, spec, t - 1)
