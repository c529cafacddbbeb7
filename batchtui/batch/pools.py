"""Pools and compute nodes: tolerant models of the wire (NEXT-APIS §3); every pool's node
counts by state are in :mod:`batchtui.batch.node_counts`.

Facts the models follow: a node has no ``errors`` or ``recentTasks`` key when they are empty;
``startTaskInfo`` carries ``result`` and ``failureInfo`` for a failed start task; a pool's
``resizeErrors`` are set only once it is steady again.

The read calls are :class:`~batchtui.batch.pool_reads.PoolReads`, part of the client, which
imports this module on the first pool or node read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from batchtui.batch.models import FailureInfo, NameValue, Page
from batchtui.batch.task_models import ContainerInfo, TaskExecutionInfo
from batchtui.batch.wire import (
    Bad,
    WireModel,
    an_object,
    build,
    flag,
    integer,
    many,
    model_page,
    one,
    parse_as,
    plan_of,
    span,
    text,
    when,
    wire,
)

# Known values, for display and ordering only: parsers keep whatever the service sends.
NODE_STATES = (
    "idle",
    "running",
    "creating",
    "starting",
    "waitingforstarttask",
    "rebooting",
    "reimaging",
    "leavingpool",
    "offline",
    "preempted",
    "unusable",
    "starttaskfailed",
    "unknown",
    "upgradingos",
    "deallocating",
    "deallocated",
)
#: the node states an operator must look at (a node with errors is sick whatever its state)
SICK_STATES = frozenset({"unusable", "starttaskfailed", "unknown", "offline", "preempted"})


@dataclass(frozen=True, slots=True)
class NodeError(WireModel):
    """A node's ``BatchNodeError`` (details in ``errorDetails``) or a pool's ``ResizeError``
    (details in ``values``): code, message and every name/value detail."""

    where: ClassVar[str] = "nodeError"
    code: str | None = wire("code", conv=text)
    message: str | None = wire("message", conv=text)
    details: tuple[NameValue, ...] = wire("errorDetails", conv=many(NameValue), default=())

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str | None = None, details: str = "errorDetails") -> Self:
        return parse_as(cls, d, cls.where if where is None else where, {"details": details})


#: a pool's resize and autoscale errors: NodeError with its details under ``values``
_AS_RESIZE_ERROR = {"details": "values"}
_RESIZE_PLAN = plan_of(NodeError, _AS_RESIZE_ERROR)


def _scale_error(value: object) -> NodeError | None:
    error = an_object(value)
    return build(NodeError, error, _RESIZE_PLAN) if error else None  # {}: no error


# --------------------------------------------------------------------------- pools


@dataclass(frozen=True, slots=True)
class Pool(WireModel):
    where: ClassVar[str] = "pool"
    id: str | None = wire("id", conv=text)
    display_name: str | None = wire("displayName", conv=text)
    url: str | None = wire("url", conv=text)
    e_tag: str | None = wire("eTag", conv=text)
    last_modified: datetime | None = wire("lastModified", conv=when)
    creation_time: datetime | None = wire("creationTime", conv=when)
    state: str | None = wire("state", conv=text)
    allocation_state: str | None = wire("allocationState", conv=text)
    allocation_state_transition_time: datetime | None = wire("allocationStateTransitionTime", conv=when)
    vm_size: str | None = wire("vmSize", conv=text)
    resize_timeout: timedelta | None = wire("resizeTimeout", conv=span)
    resize_errors: tuple[NodeError, ...] = wire(
        "resizeErrors", conv=many(NodeError, _AS_RESIZE_ERROR), default=()
    )
    current_dedicated_nodes: int | None = wire("currentDedicatedNodes", conv=integer)
    target_dedicated_nodes: int | None = wire("targetDedicatedNodes", conv=integer)
    current_low_priority_nodes: int | None = wire("currentLowPriorityNodes", conv=integer)
    target_low_priority_nodes: int | None = wire("targetLowPriorityNodes", conv=integer)
    enable_auto_scale: bool | None = wire("enableAutoScale", conv=flag)
    auto_scale_error: NodeError | None = wire("autoScaleRun", "error", conv=_scale_error)
    task_slots_per_node: int | None = wire("taskSlotsPerNode", conv=integer)
    enable_inter_node_communication: bool | None = wire("enableInterNodeCommunication", conv=flag)
    start_task_command_line: str | None = wire("startTask", "commandLine", conv=text)


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class StartTaskInfo(WireModel):
    where: ClassVar[str] = "startTaskInfo"
    state: str | None = wire("state", conv=text)  # running, completed
    start_time: datetime | None = wire("startTime", conv=when)
    end_time: datetime | None = wire("endTime", conv=when)
    exit_code: int | None = wire("exitCode", conv=integer)
    container_info: ContainerInfo | None = wire("containerInfo", conv=one(ContainerInfo))
    failure_info: FailureInfo | None = wire("failureInfo", conv=one(FailureInfo))
    retry_count: int | None = wire("retryCount", conv=integer)
    last_retry_time: datetime | None = wire("lastRetryTime", conv=when)
    result: str | None = wire("result", conv=text)

    @property
    def failed(self) -> bool:
        if self.result is not None:
            return self.result == "failure"
        return self.state == "completed" and self.exit_code not in (None, 0)


@dataclass(frozen=True, slots=True)
class RecentTask(WireModel):
    """A ``BatchTaskInfo`` of a node's ``recentTasks``."""

    where: ClassVar[str] = "recentTask"
    task_url: str | None = wire("taskUrl", conv=text)
    job_id: str | None = wire("jobId", conv=text)
    task_id: str | None = wire("taskId", conv=text)
    subtask_id: int | None = wire("subtaskId", conv=integer)
    task_state: str | None = wire("taskState", conv=text)
    execution_info: TaskExecutionInfo | None = wire("executionInfo", conv=one(TaskExecutionInfo))


@dataclass(frozen=True, slots=True)
class Endpoint(WireModel):
    where: ClassVar[str] = "inboundEndpoint"
    name: str | None = wire("name", conv=text)
    protocol: str | None = wire("protocol", conv=text)
    public_ip: str | None = wire("publicIPAddress", conv=text)
    public_fqdn: str | None = wire("publicFQDN", conv=text)
    frontend_port: int | None = wire("frontendPort", conv=integer)
    backend_port: int | None = wire("backendPort", conv=integer)


def _image_line(value: object) -> str | None:
    """publisher/offer/sku (exact version), as one line."""
    image = an_object(value)
    parts = []
    key = ""
    try:
        for key in ("publisher", "offer", "sku"):
            part = image.get(key)
            parts.append(None if part is None else text(part))
        key = "version"
        exact = image.get("exactVersion") or image.get("version")
        version = None if exact is None else text(exact)
    except Bad as bad:
        bad.path.append(f".{key}")
        raise
    line = "/".join(p for p in parts if p)
    if line and version:
        line += f" ({version})"
    return line or None


@dataclass(frozen=True, slots=True)
class Node(WireModel):
    where: ClassVar[str] = "node"
    id: str | None = wire("id", conv=text)
    url: str | None = wire("url", conv=text)
    state: str | None = wire("state", conv=text)
    scheduling_state: str | None = wire("schedulingState", conv=text)
    state_transition_time: datetime | None = wire("stateTransitionTime", conv=when)
    last_boot_time: datetime | None = wire("lastBootTime", conv=when)
    allocation_time: datetime | None = wire("allocationTime", conv=when)
    ip_address: str | None = wire("ipAddress", conv=text)
    ipv6_address: str | None = wire("ipv6Address", conv=text)
    affinity_id: str | None = wire("affinityId", conv=text)
    vm_size: str | None = wire("vmSize", conv=text)
    total_tasks_run: int | None = wire("totalTasksRun", conv=integer)
    total_tasks_succeeded: int | None = wire("totalTasksSucceeded", conv=integer)
    running_tasks_count: int | None = wire("runningTasksCount", conv=integer)
    running_task_slots_count: int | None = wire("runningTaskSlotsCount", conv=integer)
    recent_tasks: tuple[RecentTask, ...] = wire("recentTasks", conv=many(RecentTask), default=())
    start_task_command_line: str | None = wire("startTask", "commandLine", conv=text)
    start_task_info: StartTaskInfo | None = wire("startTaskInfo", conv=one(StartTaskInfo))
    is_dedicated: bool | None = wire("isDedicated", conv=flag)
    errors: tuple[NodeError, ...] = wire("errors", conv=many(NodeError), default=())
    agent_version: str | None = wire("nodeAgentInfo", "version", conv=text)
    agent_updated: datetime | None = wire("nodeAgentInfo", "lastUpdateTime", conv=when)
    image: str | None = wire("virtualMachineInfo", "imageReference", conv=_image_line)
    endpoints: tuple[Endpoint, ...] = wire(
        "endpointConfiguration", "inboundEndpoints", conv=many(Endpoint), default=()
    )

    @property
    def sick(self) -> bool:
        """Unusable, start task failed, lost contact, offline, preempted, or with errors."""
        return self.state in SICK_STATES or bool(self.errors)


# --------------------------------------------------------------------------- bodies


def parse_pool(body: object) -> Pool:
    return parse_as(Pool, body, "pool")


def parse_pool_page(body: object) -> Page[Pool]:
    return model_page(body, Pool, "pools")


def parse_node(body: object) -> Node:
    return parse_as(Node, body, "node")


def parse_node_page(body: object) -> Page[Node]:
    return model_page(body, Node, "nodes")
