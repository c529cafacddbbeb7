"""Pools, their nodes and the node counts: list and get, with ``$select`` and ``$filter``.

As the service serves them (NEXT-APIS §3): ``/pools`` and ``/pools/{id}`` (``$expand=stats``;
get answers ``ETag``/``Last-Modified`` and honours conditional headers), ``/pools/{id}/nodes``
and ``/pools/{id}/nodes/{id}`` (``$select``; no ETag), and ``/nodecounts`` (``$filter`` on
``poolId eq`` only). The node ``$filter`` properties are the documented ones; for pools only
``state eq`` is documented, so the rest here (id, allocationState, vmSize) is a tolerant guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from batchtui.sim import node_wire, odata
from batchtui.sim.asgi import BatchHTTPError, Request, Response
from batchtui.sim.fleet import Pool
from batchtui.sim.routes import common
from batchtui.sim.routing import LIST_OPTIONS, Router

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator

NODE_STATES = (
    "idle",
    "rebooting",
    "reimaging",
    "running",
    "unusable",
    "creating",
    "starting",
    "waitingforstarttask",
    "starttaskfailed",
    "unknown",
    "leavingpool",
    "offline",
    "preempted",
    "upgradingos",
    "deallocated",
    "deallocating",
)
POOL_PROPERTIES = (
    "id",
    "displayName",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "allocationState",
    "allocationStateTransitionTime",
    "vmSize",
    "virtualMachineConfiguration",
    "resizeTimeout",
    "resizeErrors",
    "currentDedicatedNodes",
    "currentLowPriorityNodes",
    "targetDedicatedNodes",
    "targetLowPriorityNodes",
    "enableAutoScale",
    "autoScaleFormula",
    "autoScaleEvaluationInterval",
    "autoScaleRun",
    "enableInterNodeCommunication",
    "networkConfiguration",
    "startTask",
    "applicationPackageReferences",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "userAccounts",
    "metadata",
    "stats",
    "mountConfiguration",
    "identity",
    "targetNodeCommunicationMode",
    "currentNodeCommunicationMode",
    "upgradePolicy",
    "resourceTags",
)
NODE_PROPERTIES = (
    "id",
    "url",
    "state",
    "schedulingState",
    "stateTransitionTime",
    "lastBootTime",
    "allocationTime",
    "ipAddress",
    "ipv6Address",
    "affinityId",
    "vmSize",
    "totalTasksRun",
    "runningTasksCount",
    "runningTaskSlotsCount",
    "totalTasksSucceeded",
    "recentTasks",
    "startTask",
    "startTaskInfo",
    "isDedicated",
    "endpointConfiguration",
    "nodeAgentInfo",
    "virtualMachineInfo",
    "errors",
)
_ORDERED = odata.TIME_OPS
NODE_FILTER_FIELDS = (
    odata.Field("state", ("eq", "ne"), NODE_STATES),
    odata.Field("stateTransitionTime", _ORDERED, None, "datetime"),
    odata.Field("lastBootTime", _ORDERED, None, "datetime"),
    odata.Field("allocationTime", _ORDERED, None, "datetime"),
    odata.Field("startTaskInfo/state", ("eq",), ("running", "completed")),
    odata.Field("startTaskInfo/result", ("eq", "ne"), odata.RESULTS),
    odata.Field("startTaskInfo/exitCode", _ORDERED, None, "int"),
    odata.Field("startTaskInfo/startTime", _ORDERED, None, "datetime"),
    odata.Field("startTaskInfo/endTime", _ORDERED, None, "datetime"),
)
POOL_FILTER_FIELDS = (
    odata.Field("state", ("eq", "ne"), ("active", "deleting")),
    odata.Field("id", ("eq", "ne", "startswith"), None),
    odata.Field("allocationState", ("eq", "ne"), ("steady", "resizing", "stopping")),
    odata.Field("vmSize", ("eq", "ne"), None),
)
NODECOUNT_FILTER_FIELDS = (odata.Field("poolId", ("eq",), None),)
MESSAGES = {
    "PoolNotFound": "The specified pool does not exist.",
    "NodeNotFound": "The specified node does not exist.",
}


def register(router: Router) -> None:
    router.get("/pools", list_pools, serves=LIST_OPTIONS)
    router.get("/pools/{pool_id}", get_pool)
    router.get("/pools/{pool_id}/nodes", list_nodes, serves=LIST_OPTIONS)
    router.get("/pools/{pool_id}/nodes/{node_id}", get_node)
    router.get("/nodecounts", node_counts, serves=LIST_OPTIONS)


def _find_pool(sim: Simulator, pool_id: str, t: float) -> Pool:
    pool = sim.world.nodes.find_pool(pool_id, t)
    if pool is None:
        raise BatchHTTPError(404, "PoolNotFound", message=MESSAGES["PoolNotFound"])
    return pool


def _pool_body(sim: Simulator, request: Request, pool: Pool, t: float) -> dict[str, Any]:
    r = common.renderer(sim, request)
    view = sim.world.nodes.pool_view(pool, t)
    d = node_wire.pool(r, view)
    if common.expand(request):
        d["stats"] = node_wire.pool_stats(r, view, t)
    return d


def list_pools(sim: Simulator, request: Request) -> Response:
    t = sim.clock.seconds()
    after = common.after(request)

    def rendered() -> Iterator[dict[str, Any]]:
        for pool_id in sim.world.nodes.pool_ids(t):
            if after is None or pool_id > after:
                yield _pool_body(sim, request, sim.world.pools[pool_id], t)

    return common.paged(
        sim,
        request,
        rendered(),
        properties=POOL_PROPERTIES,
        filter_fields=POOL_FILTER_FIELDS,
        metadata="pools",
        path="/pools",
    )


def get_pool(sim: Simulator, request: Request, pool_id: str) -> Response:
    t = sim.clock.seconds()
    pool = _find_pool(sim, pool_id, t)
    select = common.select(request, POOL_PROPERTIES)
    view = sim.world.nodes.pool_view(pool, t)
    d = _pool_body(sim, request, pool, t)
    etag = d["eTag"]
    headers = {"ETag": etag, "Last-Modified": sim.timebase.http_date(view.last_modified)}
    cond = common.conditional(request, etag, sim.timebase.epoch(node_wire.pool_version(view)))
    if cond is not None:
        return cond
    body = {"odata.metadata": common.renderer(sim, request).metadata("pools/@Element"), **d}
    return Response(200, odata.apply_select(body, select), headers)


def list_nodes(sim: Simulator, request: Request, pool_id: str) -> Response:
    t = sim.clock.seconds()
    pool = _find_pool(sim, pool_id, t)
    selected = common.select(request, NODE_PROPERTIES)
    recent = selected is None or "recentTasks" in selected  # the costly part: only when asked
    after = common.after(request)
    r = common.renderer(sim, request)

    def rendered() -> Iterator[dict[str, Any]]:
        for view in sim.world.nodes.nodes_at(pool, t, recent=recent):
            if after is None or view.node.id > after:
                yield node_wire.node(r, pool, view, t, recent=recent)

    return common.paged(
        sim,
        request,
        rendered(),
        properties=NODE_PROPERTIES,
        filter_fields=NODE_FILTER_FIELDS,
        metadata="nodes",
        path=f"/pools/{pool.id}/nodes",
    )


def get_node(sim: Simulator, request: Request, pool_id: str, node_id: str) -> Response:
    t = sim.clock.seconds()
    pool = _find_pool(sim, pool_id, t)
    select = common.select(request, NODE_PROPERTIES)
    view = sim.world.nodes.find_node(pool, node_id, t)
    if view is None:
        raise BatchHTTPError(404, "NodeNotFound", message=MESSAGES["NodeNotFound"])
    r = common.renderer(sim, request)
    body = {"odata.metadata": r.metadata("nodes/@Element"), **node_wire.node(r, pool, view, t)}
    return Response(200, odata.apply_select(body, select), {})  # no ETag: the service sends none


def node_counts(sim: Simulator, request: Request) -> Response:
    # "may not always be up to date": they lag the node list as task counts lag the tasks
    t = sim.clock.seconds() - sim.config.count_lag
    size = common.page_size(sim, request)
    raw = request.query.get("$filter")
    pred = odata.parse_filter(raw, NODECOUNT_FILTER_FIELDS) if raw is not None else None
    after = common.after(request)
    value: list[dict[str, Any]] = []
    more = False
    for pool_id in sim.world.nodes.pool_ids(t):
        if after is not None and pool_id <= after:
            continue
        if pred is not None and not pred({"poolId": pool_id}):
            continue
        if len(value) == size:
            more = True
            break
        dedicated, low = node_wire.counts(*sim.world.nodes.counts(sim.world.pools[pool_id], t))
        value.append({"poolId": pool_id, "dedicated": dedicated, "lowPriority": low})
    body: dict[str, Any] = {
        "odata.metadata": common.renderer(sim, request).metadata("poolnodecounts"),
        "value": value,
    }
    if more:
        body["odata.nextLink"] = common.next_link(request, "/nodecounts", value[-1]["poolId"])
    return Response(200, body, {})
