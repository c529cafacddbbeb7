"""The official azure-batch SDK (15.x) acting on the simulator's nodes over real loopback HTTP:
begin_reboot_node, disable_node_scheduling, enable_node_scheduling, begin_remove_nodes, and the
service's refusals as the SDK raises them. Each test has its own frozen world, moved by hand
while the SDK's long-running pollers wait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sim_support import sdk_for

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.batch.models import BatchNodeDisableSchedulingOptions, BatchNodeRemoveOptions  # noqa: E402
from azure.batch.models._models import BatchNodeRebootOptions  # noqa: E402 - not exported in 15.1
from azure.core.exceptions import HttpResponseError  # noqa: E402

POLL = 0.05  # seconds between the SDK's LRO polls (its default is 5)
POOL = "pool-render-spot"  # seed 9: tasks of minutes, no multi-instance tasks


@pytest.fixture
def served() -> Iterator[tuple[Simulator, azure_batch.BatchClient]]:
    sim = Simulator(SimConfig(seed=9, jobs=30, instances=16, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, sdk_for(sim, server.url)


def running_node(sdk: azure_batch.BatchClient) -> str:
    return next(n.id for n in sdk.list_nodes(POOL, filter="state eq 'running'") if n.running_tasks_count)


def tasks_on(sdk: azure_batch.BatchClient, node_id: str) -> list[tuple[str, str]]:
    node = sdk.get_node(POOL, node_id)
    return [(r.job_id, r.task_id) for r in node.recent_tasks or [] if r.task_state.value == "running"]


def code_of(info: pytest.ExceptionInfo[HttpResponseError]) -> tuple[int | None, str | None]:
    return info.value.status_code, info.value.error.code if info.value.error else None


def test_reboot_requeues_the_running_tasks_and_the_node_comes_back(
    served: tuple[Simulator, azure_batch.BatchClient],
) -> None:
    sim, sdk = served
    node_id = running_node(sdk)
    held = tasks_on(sdk, node_id)
    assert held
    poller = sdk.begin_reboot_node(
        POOL, node_id, BatchNodeRebootOptions(node_reboot_kind="requeue"), polling_interval=POLL
    )
    assert sdk.get_node(POOL, node_id).state.value == "rebooting"
    for job_id, task_id in held:
        task = sdk.get_task(job_id, task_id)
        assert task.state.value == "active" and task.previous_state.value == "running"
    with pytest.raises(HttpResponseError) as info:
        # (azure-batch 15.1 cannot send a reboot without options: it needs a Content-Type)
        sdk.begin_reboot_node(POOL, node_id, BatchNodeRebootOptions(node_reboot_kind="terminate"))
    assert code_of(info) == (409, "NodeBeingRebooted")
    sim.clock.advance(600)  # it boots, runs its start task and is back
    poller.result(timeout=20)
    node = sdk.get_node(POOL, node_id)
    assert node.state.value in ("idle", "running") and node.last_boot_time is not None
    for job_id, task_id in held:  # picked up by other nodes meanwhile
        task = sdk.get_task(job_id, task_id)
        assert task.node_info is None or task.node_info.node_id != node_id or task.state.value != "running"


def test_scheduling_disabled_then_enabled(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    sim, sdk = served
    node_id = running_node(sdk)
    options = BatchNodeDisableSchedulingOptions(node_disable_scheduling_option="taskcompletion")
    assert sdk.disable_node_scheduling(POOL, node_id, options) is None
    node = sdk.get_node(POOL, node_id)
    assert node.scheduling_state.value == "disabled" and node.state.value == "running"
    with pytest.raises(HttpResponseError) as info:
        sdk.disable_node_scheduling(POOL, node_id, options)  # (15.1 cannot send it without options)
    assert code_of(info) == (409, "NodeAlreadyInTargetSchedulingState")
    sim.clock.advance(1800)  # what ran has finished; nothing new started
    assert sdk.get_node(POOL, node_id).state.value == "offline"
    sdk.enable_node_scheduling(POOL, node_id)
    node = sdk.get_node(POOL, node_id)
    assert node.scheduling_state.value == "enabled" and node.state.value in ("idle", "running")
    with pytest.raises(HttpResponseError) as info:
        sdk.enable_node_scheduling(POOL, node_id)
    assert code_of(info) == (409, "NodeAlreadyInTargetSchedulingState")


def test_remove_nodes_resizes_the_pool_down(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    sim, sdk = served
    nodes = [n.id for n in sdk.list_nodes(POOL, filter="state eq 'idle' or state eq 'running'")][:2]
    before = sdk.get_pool(POOL)
    counts0 = next(c for c in sdk.list_pool_node_counts() if c.pool_id == POOL)
    options = BatchNodeRemoveOptions(
        node_ids=nodes, resize_timeout=timedelta(minutes=10), node_deallocation_option="requeue"
    )
    poller = sdk.begin_remove_nodes(POOL, options, polling_interval=POLL)
    assert sdk.get_pool(POOL).allocation_state.value == "resizing"
    assert {sdk.get_node(POOL, n).state.value for n in nodes} == {"leavingpool"}
    with pytest.raises(HttpResponseError) as info:
        sdk.begin_remove_nodes(POOL, BatchNodeRemoveOptions(node_ids=nodes[:1])).result(timeout=20)
    assert code_of(info) == (409, "PoolBeingResized")
    sim.clock.advance(300)
    poller.result(timeout=20)
    pool = sdk.get_pool(POOL)
    assert pool.allocation_state.value == "steady"
    assert pool.current_dedicated_nodes + pool.current_low_priority_nodes == (
        before.current_dedicated_nodes + before.current_low_priority_nodes - 2
    )
    assert not {n.id for n in sdk.list_nodes(POOL)} & set(nodes)
    counts = next(c for c in sdk.list_pool_node_counts() if c.pool_id == POOL)
    assert counts.dedicated.total + counts.low_priority.total == (
        counts0.dedicated.total + counts0.low_priority.total - 2
    )
    with pytest.raises(HttpResponseError) as info:
        sdk.get_node(POOL, nodes[0])
    assert code_of(info) == (404, "NodeNotFound")
