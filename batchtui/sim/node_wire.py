"""Pools, nodes and node counts -> the service's JSON, in the recorded key order.

As recorded (NEXT-APIS §3, examples recorded_js_Pools_*, recorded_js_Nodes_*): pool list items
carry ``eTag`` and ``lastModified``; a node has no ``errors`` or ``recentTasks`` key when they are
empty; ``/nodecounts`` spells its states in camelCase (``startTaskFailed``), unlike a node's
``state`` (``starttaskfailed``); a rebooting or starting node still shows its old ``lastBootTime``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from batchtui.sim.fleet import NodeError, Pool
from batchtui.sim.node_views import NodeView, Occupancy, task_state
from batchtui.sim.nodes import PoolView
from batchtui.sim.schedule import REQUEUED, SUCCESS
from batchtui.sim.start_task_files import APT_LOCK_EXIT, LAST_RETRY_BEFORE_END
from batchtui.sim.wire import Renderer, duration, failure_info

AGENT_VERSION = "1.12.39"
#: ``BatchNodeCounts`` in wire order, each with the node state it counts
COUNT_KEYS: tuple[tuple[str, str], ...] = (
    ("creating", "creating"),
    ("deallocated", "deallocated"),
    ("deallocating", "deallocating"),
    ("idle", "idle"),
    ("leavingPool", "leavingpool"),
    ("offline", "offline"),
    ("preempted", "preempted"),
    ("rebooting", "rebooting"),
    ("reimaging", "reimaging"),
    ("running", "running"),
    ("starting", "starting"),
    ("startTaskFailed", "starttaskfailed"),
    ("unusable", "unusable"),
    ("unknown", "unknown"),
    ("upgradingOS", "upgradingos"),
    ("waitingForStartTask", "waitingforstarttask"),
)
START_TASK_FAILURE = {
    "category": "usererror",
    "code": "FailureExitCode",
    "message": "The task process exited with an unexpected exit code",
    "details": [{"name": "Message", "value": "The task process exited with an unexpected exit code"}],
}


def _start_task(pool: Pool) -> dict[str, Any]:
    return {
        "commandLine": pool.start_task,
        "userIdentity": {"autoUser": {"scope": "pool", "elevationLevel": "admin"}},
        "maxTaskRetryCount": 2,
        "waitForSuccess": True,
    }


def _image(pool: Pool, exact: bool) -> dict[str, Any]:
    publisher, offer, sku = pool.image
    d: dict[str, Any] = {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"}
    if exact:
        d["exactVersion"] = "22.04.202411140"
    return d


def _errors(errors: tuple[NodeError, ...], details_key: str) -> list[dict[str, Any]]:
    return [
        {
            "code": e.code,
            "message": e.message,
            details_key: [{"name": n, "value": v} for n, v in e.details],
        }
        for e in errors
    ]


def pool(r: Renderer, view: PoolView) -> dict[str, Any]:
    p = view.pool
    iso = r.tb.iso
    d: dict[str, Any] = {
        "id": p.id,
        "url": f"{r.base}/pools/{p.id}",
        "eTag": r.tb.etag(pool_version(view)),
        "lastModified": iso(view.last_modified),
        "creationTime": iso(p.created),
        "state": "active",
        "stateTransitionTime": iso(p.created),
        "allocationState": view.allocation_state,
        "allocationStateTransitionTime": iso(view.allocation_since),
        "vmSize": p.vm_size,
        "resizeTimeout": "PT15M",
    }
    if view.resize_errors:
        d["resizeErrors"] = _errors(view.resize_errors, "values")
    d["currentDedicatedNodes"] = view.current_dedicated
    d["targetDedicatedNodes"] = view.target_dedicated
    d["currentLowPriorityNodes"] = view.current_low_priority
    d["targetLowPriorityNodes"] = view.target_low_priority
    d["enableAutoScale"] = False
    d["enableInterNodeCommunication"] = p.inter_node
    d["startTask"] = _start_task(p)
    d["metadata"] = [{"name": "owner", "value": "platform-team"}]
    d["taskSlotsPerNode"] = p.slots_per_node
    d["taskSchedulingPolicy"] = {"nodeFillType": "Spread", "jobDefaultOrder": "none"}
    d["virtualMachineConfiguration"] = {
        "imageReference": _image(p, exact=False),
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
    }
    return d


def pool_version(view: PoolView) -> float:
    """What a pool's ETag is made from: its lastModified moves only on pool-level changes (a
    resize asked for), but a conditional GET must not answer 304 across an allocation change."""
    return max(view.last_modified, view.allocation_since)


def pool_stats(r: Renderer, view: PoolView, t: float) -> dict[str, Any]:
    """``$expand=stats``: usage since the pool was created (simulated figures)."""
    p = view.pool
    cores = (view.current_dedicated + view.current_low_priority) * 16
    return {
        "url": f"{r.base}/pools/{p.id}/stats",
        "startTime": r.tb.iso(p.created),
        "lastUpdateTime": r.tb.iso(t),
        "usageStats": {
            "startTime": r.tb.iso(p.created),
            "lastUpdateTime": r.tb.iso(t),
            "dedicatedCoreTime": duration(max(0.0, t - p.created) * cores),
        },
    }


def node(r: Renderer, pool: Pool, view: NodeView, t: float, *, recent: bool = True) -> dict[str, Any]:
    n = view.node
    iso = r.tb.iso
    d: dict[str, Any] = {
        "id": n.id,
        "url": f"{r.base}/pools/{pool.id}/nodes/{n.id}",
        "state": view.state,
        "schedulingState": view.scheduling,
        "stateTransitionTime": iso(view.since),
    }
    if view.last_boot is not None:
        d["lastBootTime"] = iso(view.last_boot)
    d["allocationTime"] = iso(n.allocated)
    d["ipAddress"] = n.ip
    d["affinityId"] = f"TVM:{n.id}"
    d["vmSize"] = pool.vm_size
    d["totalTasksRun"] = view.total_run
    d["totalTasksSucceeded"] = view.total_succeeded
    d["runningTasksCount"] = len(view.running)
    d["runningTaskSlotsCount"] = sum(o.slots for o in view.running)
    if recent and view.recent:
        d["recentTasks"] = [recent_task(r, o, t) for o in view.recent]
    d["startTask"] = _start_task(pool)
    st = view.start_task
    if st is not None:
        # in the recorded order: state, startTime, endTime, exitCode, result, retryCount
        info: dict[str, Any] = {"state": st.state, "startTime": iso(st.start)}
        if st.end is not None:
            info["endTime"] = iso(st.end)
            # apt-get's "could not get the lock" exit code, every retry (its stderr says so)
            info["exitCode"] = APT_LOCK_EXIT if st.failed else 0
            if st.failed:
                info["failureInfo"] = START_TASK_FAILURE
            info["result"] = "failure" if st.failed else "success"
        info["retryCount"] = st.retries
        if st.retries and st.end is not None:
            info["lastRetryTime"] = iso(st.end - LAST_RETRY_BEFORE_END)
        d["startTaskInfo"] = info
    d["isDedicated"] = n.dedicated
    if view.errors:
        d["errors"] = _errors(view.errors, "errorDetails")
    if view.last_boot is not None:
        d["nodeAgentInfo"] = {"lastUpdateTime": iso(view.last_boot), "version": AGENT_VERSION}
    d["virtualMachineInfo"] = {"imageReference": _image(pool, exact=True)}
    return d


def recent_task(r: Renderer, o: Occupancy, t: float) -> dict[str, Any]:
    """A ``BatchTaskInfo``: what the node knows of one task (or rank) it ran."""
    job_id, task_id = o.plan.id, o.spec.id
    d: dict[str, Any] = {
        "taskUrl": f"{r.base}/jobs/{job_id}/tasks/{task_id}",
        "jobId": job_id,
        "taskId": task_id,
    }
    if o.rank:
        d["subtaskId"] = o.rank
    state = task_state(o, t)
    d["taskState"] = state
    info: dict[str, Any] = {}
    if t >= o.run:
        info["startTime"] = r.tb.iso(o.run)
    if t >= o.end and o.outcome == REQUEUED:
        pass  # stopped and queued again (a disable or a node action): no result, it runs again
    elif t >= o.end:
        info["endTime"] = r.tb.iso(o.end)
        if o.exit_code is not None:  # none when the process never started (a resource file)
            info["exitCode"] = o.exit_code
        fi = failure_info(o.outcome, o.spec.resource_file)
        if fi is not None:
            info["failureInfo"] = fi
        info["result"] = "success" if o.outcome == SUCCESS else "failure"
    info["retryCount"] = o.attempt
    info["requeueCount"] = 0
    d["executionInfo"] = info
    return d


def counts(dedicated: Counter[str], low: Counter[str]) -> tuple[dict[str, int], dict[str, int]]:
    def one(c: Counter[str]) -> dict[str, int]:
        out = {key: c.get(state, 0) for key, state in COUNT_KEYS}
        out["total"] = sum(c.values())
        return out

    return one(dedicated), one(low)
