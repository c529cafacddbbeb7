"""The node action plans: what the confirmation says, one removenodes per hundred nodes, the
wire bodies, and an unanswered node action re-read on the simulator, never sent again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sim_support import make_client, make_sim

from batchtui.batch.pools import Node
from batchtui.refresh.actions import ActionRunner
from batchtui.ui import node_plans

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POOL = "pool-render-spot"


def node(node_id: str, running: int = 0) -> Node:
    return Node(id=node_id, state="running" if running else "idle", running_tasks_count=running)


def test_what_each_plan_says() -> None:
    seven = node("tvm-1_7-x", 3)
    assert node_plans.reboot_nodes("p", [seven], "requeue").summary == (
        "reboot (requeue) node tvm-1_7-x of pool p: its 3 running tasks are stopped and queued again"
        " (other nodes run them)"
    )
    assert node_plans.reboot_nodes("p", [node("a")], "terminate").summary == (
        "reboot (terminate) node a of pool p: it runs no task now"
    )
    assert node_plans.reboot_nodes("p", [node("a", 1), node("b", 1)], "taskcompletion").summary == (
        "reboot (taskcompletion) 2 nodes: their 2 running tasks are left to finish first; then it reboots"
    )
    assert node_plans.disable_scheduling("p", [node("a")], "requeue").summary == (
        "disable scheduling (requeue) on node a of pool p: no new task starts on it; it runs no task now;"
        " offline until enabled again"
    )
    assert node_plans.disable_scheduling("p", [node("a", 1)], "taskcompletion").summary == (
        "disable scheduling (taskcompletion) on node a of pool p: no new task starts on it;"
        " its 1 running task is left to finish; then it is offline"
    )
    removal = node_plans.remove_nodes("p", [seven], "terminate")
    assert removal.destructive and removal.confirm_text == "tvm-1_7-x"
    assert removal.summary == (
        "remove (terminate) node tvm-1_7-x of pool p: it leaves the pool for good and its target shrinks;"
        " its 3 running tasks are stopped and fail"
    )
    assert not node_plans.enable_scheduling("p", [seven]).destructive
    with pytest.raises(ValueError):
        node_plans.reboot_nodes("p", [seven], "wait")


def test_a_removal_of_many_is_one_request_per_hundred_nodes() -> None:
    many = [node(f"n{i:03}") for i in range(150)]
    plan = node_plans.remove_nodes("p", many, "requeue")
    assert len(plan.targets) == 2 and plan.confirm_text == "150"
    assert plan.targets[0].label == "nodes n000, n001, n002 and 97 more of pool p"


async def test_the_bodies_on_the_wire() -> None:
    sim = make_sim()
    bodies: list[Any] = []

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        first = [scope["type"] == "http" and scope["method"] == "POST"]

        async def read() -> Any:
            message = await receive()
            if first[0] and message["type"] == "http.request":
                first[0] = False  # one message carries these small bodies whole
                raw = message.get("body", b"")
                bodies.append(json.loads(raw) if raw else None)
            return message

        await sim(scope, read, send)

    client = make_client(sim, app=recording)
    t = sim.clock.seconds()
    views = [v for v in sim.world.nodes.nodes_at(sim.world.pools[POOL], t) if v.state == "running"][:2]
    nodes = [node(v.node.id, len(v.running)) for v in views]
    runner = ActionRunner(client, None, lambda: NOW)
    for plan in (
        node_plans.reboot_nodes(POOL, nodes[:1], "retaineddata"),
        node_plans.disable_scheduling(POOL, nodes[1:], "terminate"),
        node_plans.enable_scheduling(POOL, nodes[1:]),
        node_plans.remove_nodes(POOL, nodes, "taskcompletion"),
    ):
        records = await runner.run(plan)
        assert [r.outcome for r in records] == ["done"], records
    sent = [(r.method, r.path, r.status) for r in sim.requests if r.method == "POST"]
    assert [s[2] for s in sent] == [202, 200, 200, 202]
    assert sent[0][1] == f"/pools/{POOL}/nodes/{nodes[0].id}/reboot"
    assert sent[3][1] == f"/pools/{POOL}/removenodes"
    assert bodies == [
        {"nodeRebootOption": "retaineddata"},
        {"nodeDisableSchedulingOption": "terminate"},
        None,
        {
            "nodeList": [n.id for n in nodes],
            "resizeTimeout": "PT15M",
            "nodeDeallocationOption": "taskcompletion",
        },
    ]
    await client.aclose()


async def test_an_unanswered_reboot_is_re_read_and_not_sent_again() -> None:
    sim = make_sim()

    async def lost_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The simulator does the POST; its answer is lost behind a 500."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await sim(scope, receive, send)
            return

        async def swallow(_message: Any) -> None:
            return None

        await sim(scope, receive, swallow)
        body = json.dumps({"code": "InternalError", "message": {"lang": "en-US", "value": "boom"}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    client = make_client(sim, app=lost_answer)
    t = sim.clock.seconds()
    view = next(v for v in sim.world.nodes.nodes_at(sim.world.pools[POOL], t) if v.state == "running")
    runner = ActionRunner(client, None, lambda: NOW)
    (record,) = await runner.run(node_plans.reboot_nodes(POOL, [node(view.node.id, 1)], "requeue"))
    assert record.outcome == "done" and "re-read shows it happened" in record.message
    assert [r.method for r in sim.requests] == ["POST", "GET"]  # sent once, then looked at
    await client.aclose()
