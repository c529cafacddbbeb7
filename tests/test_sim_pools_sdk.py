"""The official azure-batch SDK reads the simulated pools, nodes and node counts, and batchtui's
client reads exactly the same (the frozen world is served over loopback to the SDK and
in-process to batchtui)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sim_support import make_client

from batchtui.batch.pools import Node
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.core.credentials import AzureNamedKeyCredential  # noqa: E402
from azure.core.exceptions import HttpResponseError  # noqa: E402


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Simulator, Any]]:
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0, count_lag=0, max_page=7))
    with BackgroundServer(sim) as server:
        credential = AzureNamedKeyCredential(sim.config.account, sim.config.key)
        yield sim, azure_batch.BatchClient(endpoint=server.url, credential=credential)


def _value(x: Any) -> Any:
    return getattr(x, "value", x)  # SDK enums are str enums


async def test_pools_and_counts_read_the_same_through_the_sdk(served: tuple[Simulator, Any]) -> None:
    sim, sdk = served
    theirs = list(sdk.list_pools())  # pages of 7 through odata.nextLink
    counts = {c.pool_id: c for c in sdk.list_pool_node_counts()}
    async with make_client(sim) as client:
        ours = await client.list_pools(max_results=2)
        our_counts = {c.pool_id: c for c in await client.list_pool_node_counts(max_results=2)}
        one = await client.get_pool("pool-gpu-h100")
    assert [p.id for p in theirs] == [p.id for p in ours] and len(ours) == 6
    for sdk_pool, pool in zip(theirs, ours, strict=True):
        assert _value(sdk_pool.allocation_state) == pool.allocation_state
        assert sdk_pool.vm_size == pool.vm_size
        assert (sdk_pool.current_dedicated_nodes, sdk_pool.target_dedicated_nodes) == (
            pool.current_dedicated_nodes,
            pool.target_dedicated_nodes,
        )
        assert (sdk_pool.current_low_priority_nodes, sdk_pool.target_low_priority_nodes) == (
            pool.current_low_priority_nodes,
            pool.target_low_priority_nodes,
        )
        assert [(e.code, e.message) for e in sdk_pool.resize_errors or []] == [
            (e.code, e.message) for e in pool.resize_errors
        ]
    stuck = sdk.get_pool("pool-gpu-h100")
    assert stuck.resize_errors[0].code == one.resize_errors[0].code == "AccountCoreQuotaReached"
    # the SDK's models are mappings: their `values` attribute is Mapping.values, read it by key
    assert [(v["name"], v["value"]) for v in stuck.resize_errors[0]["values"]] == [
        (d.name, d.value) for d in one.resize_errors[0].details
    ]
    assert set(counts) == set(our_counts)
    for pool_id, c in counts.items():
        mine = our_counts[pool_id]
        for side, our_side in ((c.dedicated, mine.dedicated), (c.low_priority, mine.low_priority)):
            assert side.total == our_side.total
            assert side.start_task_failed == our_side.get("startTaskFailed")
            assert side.waiting_for_start_task == our_side.get("waitingForStartTask")
            assert side.leaving_pool == our_side.get("leavingPool")
            assert (side.idle, side.running, side.preempted, side.unusable, side.offline) == tuple(
                our_side.get(k) for k in ("idle", "running", "preempted", "unusable", "offline")
            )


def _same_node(sdk_node: Any, node: Node) -> None:
    assert sdk_node.id == node.id and _value(sdk_node.state) == node.state
    assert _value(sdk_node.scheduling_state) == node.scheduling_state
    assert sdk_node.is_dedicated == node.is_dedicated
    assert (sdk_node.running_tasks_count, sdk_node.running_task_slots_count) == (
        node.running_tasks_count,
        node.running_task_slots_count,
    )
    assert (sdk_node.total_tasks_run, sdk_node.total_tasks_succeeded) == (
        node.total_tasks_run,
        node.total_tasks_succeeded,
    )
    assert sdk_node.last_boot_time == node.last_boot_time
    assert sdk_node.state_transition_time == node.state_transition_time
    assert [
        (e.code, e.message, [(d.name, d.value) for d in e.error_details or []]) for e in sdk_node.errors or []
    ] == [(e.code, e.message, [(d.name, d.value) for d in e.details]) for e in node.errors]
    info, mine = sdk_node.start_task_info, node.start_task_info
    assert (info is None) == (mine is None)
    if info is not None and mine is not None:
        assert (_value(info.state), info.exit_code, _value(info.result) if info.result else None) == (
            mine.state,
            mine.exit_code,
            mine.result,
        )
        assert (info.failure_info.code if info.failure_info else None) == (
            mine.failure_info.code if mine.failure_info else None
        )
    assert [
        (r.job_id, r.task_id, r.subtask_id, _value(r.task_state)) for r in sdk_node.recent_tasks or []
    ] == [(r.job_id, r.task_id, r.subtask_id, r.task_state) for r in node.recent_tasks]
    agent = sdk_node.node_agent_info  # none before the first boot
    assert (agent.version if agent else None) == node.agent_version


async def test_nodes_read_the_same_through_the_sdk(served: tuple[Simulator, Any]) -> None:
    sim, sdk = served
    async with make_client(sim) as client:
        for pool_id in ("pool-hpc-a", "pool-etl-d16", "pool-render-spot", "pool-hpc-b"):
            theirs = list(sdk.list_nodes(pool_id))
            ours = await client.list_nodes(pool_id)
            assert len(theirs) == len(ours) > 7  # more than one page
            for sdk_node, node in zip(theirs, ours, strict=True):
                _same_node(sdk_node, node)
            sick = next((n for n in ours if n.sick), ours[-1])
            _same_node(sdk.get_node(pool_id, sick.id), await client.get_node(pool_id, sick.id or ""))
        picked = list(
            sdk.list_nodes("pool-hpc-a", filter="state eq 'starttaskfailed'", select=["id", "state"])
        )
        mine = await client.list_nodes(
            "pool-hpc-a", filter="state eq 'starttaskfailed'", select=["id", "state"]
        )
    assert [n.id for n in picked] == [n.id for n in mine] and len(mine) == 1
    assert picked[0].start_task_info is None and mine[0].start_task_info is None  # not selected


def test_sdk_sees_the_services_404s(served: tuple[Simulator, Any]) -> None:
    _, sdk = served
    with pytest.raises(HttpResponseError) as pool:
        sdk.get_pool("pool-none")
    with pytest.raises(HttpResponseError) as node:
        sdk.get_node("pool-hpc-a", "tvm-0_0-00000000t000000z")
    assert pool.value.status_code == 404 and "PoolNotFound" in str(pool.value)
    assert node.value.status_code == 404 and "NodeNotFound" in str(node.value)
