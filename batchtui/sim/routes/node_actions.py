"""The node actions: reboot a node, disable and enable its scheduling, remove nodes from a pool
(NEXT-APIS §4).

Answered as the recordings are: reboot 202 and removenodes 202 (removenodes with the pool's
ETag and Last-Modified, reboot with none), disablescheduling and enablescheduling 200, all with
``DataServiceId`` and no body. The world follows from the instant of the request (nodes.py,
node_ops.py): the node reboots, goes offline, or leaves, and its tasks are requeued, terminated
or let finish as the option says.

Which 409 each refused state gets is UNCONFIRMED (NEXT-APIS §8.4): the codes below are the
error table's closest (NodeBeingRebooted, NodeBeingCreated, ..., OperationNotValidOnNode,
NodeAlreadyInTargetSchedulingState, PoolBeingResized); clients should show whatever code comes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from batchtui.sim.asgi import BatchHTTPError, Request, Response
from batchtui.sim.fleet import Pool
from batchtui.sim.node_ops import DEALLOCATION_OPTIONS, DISABLE_OPTIONS, REBOOT_OPTIONS
from batchtui.sim.node_views import NodeView
from batchtui.sim.node_wire import pool_version
from batchtui.sim.routes import common
from batchtui.sim.routes.pools import MESSAGES, _find_pool
from batchtui.sim.routing import Router

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator

MAX_REMOVE = 100  # nodes per removenodes request
MIN_RESIZE_TIMEOUT = 300.0  # "at least 5 minutes"
# Reboot is "only if it is in an idle or running state" [spec]; the code for each other state:
NOT_REBOOTABLE = {
    "rebooting": "NodeBeingRebooted",
    "reimaging": "NodeBeingReimaged",
    "creating": "NodeBeingCreated",
    "starting": "NodeBeingStarted",
    "waitingforstarttask": "NodeBeingStarted",
    "unusable": "NodeStateUnusable",
}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def register(router: Router) -> None:
    router.post("/pools/{pool_id}/nodes/{node_id}/reboot", reboot_node)
    router.post("/pools/{pool_id}/nodes/{node_id}/disablescheduling", disable_scheduling)
    router.post("/pools/{pool_id}/nodes/{node_id}/enablescheduling", enable_scheduling)
    router.post("/pools/{pool_id}/removenodes", remove_nodes)


def reboot_node(sim: Simulator, request: Request, pool_id: str, node_id: str) -> Response:
    t = sim.clock.seconds()
    pool, view = _node(sim, pool_id, node_id, t)
    option = _option(request.json(), "nodeRebootOption", REBOOT_OPTIONS)
    if view.state not in ("idle", "running"):
        raise BatchHTTPError(409, NOT_REBOOTABLE.get(view.state, "OperationNotValidOnNode"))
    if _reboot_pending(sim, pool, view, t):  # taskcompletion: it reboots once its tasks are done
        raise BatchHTTPError(409, "NodeBeingRebooted")
    sim.world.nodes.reboot(pool.id, view.node.id, t, option)
    return common.action_answer(request, 202)


def disable_scheduling(sim: Simulator, request: Request, pool_id: str, node_id: str) -> Response:
    t = sim.clock.seconds()
    pool, view = _node(sim, pool_id, node_id, t)
    option = _option(request.json(), "nodeDisableSchedulingOption", DISABLE_OPTIONS)
    _schedulable(view)
    if view.scheduling == "disabled":
        raise BatchHTTPError(409, "NodeAlreadyInTargetSchedulingState")
    sim.world.nodes.set_scheduling(pool.id, view.node.id, False, t, option)
    return common.action_answer(request, 200)


def enable_scheduling(sim: Simulator, request: Request, pool_id: str, node_id: str) -> Response:
    t = sim.clock.seconds()
    pool, view = _node(sim, pool_id, node_id, t)
    _schedulable(view)
    if view.scheduling == "enabled":
        raise BatchHTTPError(409, "NodeAlreadyInTargetSchedulingState")
    sim.world.nodes.set_scheduling(pool.id, view.node.id, True, t)
    return common.action_answer(request, 200)


def remove_nodes(sim: Simulator, request: Request, pool_id: str) -> Response:
    t = sim.clock.seconds()
    pool = _find_pool(sim, pool_id, t)
    nodes = sim.world.nodes
    body = request.json()
    if body is None or "nodeList" not in body:
        raise BatchHTTPError(400, "MissingRequiredProperty", [("PropertyName", "nodeList")])
    ids = body["nodeList"]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _invalid("nodeList", str(ids))
    if len(ids) > MAX_REMOVE:
        raise _invalid("nodeList", f"{len(ids)} nodes", f"At most {MAX_REMOVE} nodes can be removed at once")
    option = _option(body, "nodeDeallocationOption", DEALLOCATION_OPTIONS)
    timeout = body.get("resizeTimeout")
    if timeout is not None and (_seconds(timeout) or 0.0) < MIN_RESIZE_TIMEOUT:
        raise _invalid("resizeTimeout", str(timeout), "The value must be at least 5 minutes")
    view = nodes.pool_view(pool, t)
    common.write_conditions(
        request, sim.timebase.etag(pool_version(view)), sim.timebase.epoch(view.last_modified)
    )
    if view.allocation_state != "steady":
        raise BatchHTTPError(409, "PoolBeingResized")
    for node_id in ids:
        if nodes.find_node(pool, node_id, t) is None:
            # UNCONFIRMED: the service's answer for an id not in the pool; NodeNotFound is the closest
            raise BatchHTTPError(404, "NodeNotFound", message=MESSAGES["NodeNotFound"])
    nodes.remove_nodes(pool.id, ids, t, option)
    after = nodes.pool_view(pool, t)
    return common.action_answer(
        request,
        202,
        etag=sim.timebase.etag(pool_version(after)),
        last_modified=sim.timebase.http_date(after.last_modified),
    )


# ------------------------------------------------------------------------------------ helpers


def _node(sim: Simulator, pool_id: str, node_id: str, t: float) -> tuple[Pool, NodeView]:
    pool = _find_pool(sim, pool_id, t)
    view = sim.world.nodes.find_node(pool, node_id, t)
    if view is None:
        raise BatchHTTPError(404, "NodeNotFound", message=MESSAGES["NodeNotFound"])
    return pool, view


def _schedulable(view: NodeView) -> None:
    if view.state == "leavingpool":  # UNCONFIRMED code: a node on its way out takes no change
        raise BatchHTTPError(409, "OperationNotValidOnNode")


def _reboot_pending(sim: Simulator, pool: Pool, view: NodeView, t: float) -> bool:
    extra = sim.world.nodes.overrides.get((pool.id, view.node.index))
    return extra is not None and any(w.kind == "reboot" and w.start > t for w in extra.windows)


def _option(body: dict[str, Any] | None, name: str, allowed: tuple[str, ...]) -> str:
    """The body's option (requeue when it has none, as the service defaults)."""
    value = (body or {}).get(name)
    if value is None:
        return "requeue"
    if not isinstance(value, str) or value.lower() not in allowed:
        raise _invalid(name, str(value))
    return value.lower()


def _invalid(name: str, value: str, reason: str | None = None) -> BatchHTTPError:
    details = [("PropertyName", name), ("PropertyValue", value)]
    if reason:
        details.append(("Reason", reason))
    return BatchHTTPError(400, "InvalidPropertyValue", details)


def _seconds(text: object) -> float | None:
    """An ISO 8601 duration (PT15M) in seconds; None if it is not one."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if m is None or not any(m.groups()):
        return None
    days, hours, minutes, secs = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + secs
