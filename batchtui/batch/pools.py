"""Pools, compute nodes and node counts: tolerant models and the read calls (NEXT-APIS §3).

Facts the models follow: a node has no ``errors`` or ``recentTasks`` key when they are empty;
``startTaskInfo`` carries ``result`` and ``failureInfo`` for a failed start task; ``/nodecounts``
spells its states in camelCase (``startTaskFailed``, ``waitingForStartTask``), unlike a node's
``state`` (``starttaskfailed``), and its counts are kept here as spelled, in the order received;
a pool's ``resizeErrors`` are set only once it is steady again.

The calls are free functions over a :class:`~batchtui.batch.client.BatchClient` (its ``_pages``
and ``_get_json`` plumbing); the client exposes them as thin methods.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from batchtui.batch.errors import BatchClientError
from batchtui.batch.models import (
    ContainerInfo,
    FailureInfo,
    NameValue,
    Page,
    TaskExecutionInfo,
    _bool,
    _int,
    _list,
    _name_values,
    _obj,
    _str,
    _sub,
    parse_datetime,
    parse_duration,
    parse_page,
    require_object,
)

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

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
#: /nodecounts keys of the sick states, as that call spells them
SICK_COUNT_KEYS = ("unusable", "startTaskFailed", "unknown", "offline", "preempted")
#: the most nodes (or pools) one listing returns: a pool of 10,000 nodes is 10 pages
MAX_ITEMS = 10_000


def _errors(value: object, where: str, details: str) -> tuple[NodeError, ...]:
    return tuple(
        NodeError.parse(require_object(item, f"{where}[{i}]"), f"{where}[{i}]", details)
        for i, item in enumerate(_list(value, where))
    )


@dataclass(frozen=True, slots=True)
class NodeError:
    """A node's ``BatchNodeError`` (details in ``errorDetails``) or a pool's ``ResizeError``
    (details in ``values``): code, message and every name/value detail."""

    code: str | None = None
    message: str | None = None
    details: tuple[NameValue, ...] = ()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str, details: str = "errorDetails") -> NodeError:
        return cls(
            code=_str(d.get("code"), f"{where}.code"),
            message=_str(d.get("message"), f"{where}.message"),
            details=_name_values(d.get(details), f"{where}.{details}"),
        )


# --------------------------------------------------------------------------- pools


@dataclass(frozen=True, slots=True)
class Pool:
    id: str | None = None
    display_name: str | None = None
    url: str | None = None
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str | None = None
    allocation_state: str | None = None
    allocation_state_transition_time: datetime | None = None
    vm_size: str | None = None
    resize_timeout: timedelta | None = None
    resize_errors: tuple[NodeError, ...] = ()
    current_dedicated_nodes: int | None = None
    target_dedicated_nodes: int | None = None
    current_low_priority_nodes: int | None = None
    target_low_priority_nodes: int | None = None
    enable_auto_scale: bool | None = None
    auto_scale_error: NodeError | None = None
    task_slots_per_node: int | None = None
    enable_inter_node_communication: bool | None = None
    start_task_command_line: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "pool") -> Pool:
        run = _obj(d.get("autoScaleRun"), f"{where}.autoScaleRun") or {}
        start = _obj(d.get("startTask"), f"{where}.startTask") or {}
        scale_error = _obj(run.get("error"), f"{where}.autoScaleRun.error")
        return cls(
            id=_str(d.get("id"), f"{where}.id"),
            display_name=_str(d.get("displayName"), f"{where}.displayName"),
            url=_str(d.get("url"), f"{where}.url"),
            e_tag=_str(d.get("eTag"), f"{where}.eTag"),
            last_modified=parse_datetime(d.get("lastModified"), f"{where}.lastModified"),
            creation_time=parse_datetime(d.get("creationTime"), f"{where}.creationTime"),
            state=_str(d.get("state"), f"{where}.state"),
            allocation_state=_str(d.get("allocationState"), f"{where}.allocationState"),
            allocation_state_transition_time=parse_datetime(
                d.get("allocationStateTransitionTime"), f"{where}.allocationStateTransitionTime"
            ),
            vm_size=_str(d.get("vmSize"), f"{where}.vmSize"),
            resize_timeout=parse_duration(d.get("resizeTimeout"), f"{where}.resizeTimeout"),
            resize_errors=_errors(d.get("resizeErrors"), f"{where}.resizeErrors", "values"),
            current_dedicated_nodes=_int(d.get("currentDedicatedNodes"), f"{where}.currentDedicatedNodes"),
            target_dedicated_nodes=_int(d.get("targetDedicatedNodes"), f"{where}.targetDedicatedNodes"),
            current_low_priority_nodes=_int(
                d.get("currentLowPriorityNodes"), f"{where}.currentLowPriorityNodes"
            ),
            target_low_priority_nodes=_int(
                d.get("targetLowPriorityNodes"), f"{where}.targetLowPriorityNodes"
            ),
            enable_auto_scale=_bool(d.get("enableAutoScale"), f"{where}.enableAutoScale"),
            auto_scale_error=(
                NodeError.parse(scale_error, f"{where}.autoScaleRun.error", "values") if scale_error else None
            ),
            task_slots_per_node=_int(d.get("taskSlotsPerNode"), f"{where}.taskSlotsPerNode"),
            enable_inter_node_communication=_bool(
                d.get("enableInterNodeCommunication"), f"{where}.enableInterNodeCommunication"
            ),
            start_task_command_line=_str(start.get("commandLine"), f"{where}.startTask.commandLine"),
        )


@dataclass(frozen=True, slots=True)
class NodeCounts:
    """One side (dedicated or low priority) of a pool's ``/nodecounts``, as spelled on the wire."""

    counts: tuple[tuple[str, int], ...] = ()  # every key but total, in the order received
    total: int = 0

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "nodeCounts") -> NodeCounts:
        counts = []
        total = 0
        for key, value in d.items():
            n = _int(value, f"{where}.{key}") or 0
            if key == "total":
                total = n
            else:
                counts.append((str(key), n))
        return cls(tuple(counts), total)

    def get(self, key: str) -> int:
        """The count under its /nodecounts key (``startTaskFailed``, not ``starttaskfailed``)."""
        return next((n for k, n in self.counts if k == key), 0)

    @property
    def sick(self) -> int:
        return sum(self.get(k) for k in SICK_COUNT_KEYS)

    def items(self) -> tuple[tuple[str, int], ...]:
        """(state as /nodecounts spells it, count), total left out: every node once."""
        return self.counts

    def to_wire(self) -> dict[str, int]:
        return {**dict(self.counts), "total": self.total}


@dataclass(frozen=True, slots=True)
class PoolNodeCounts:
    pool_id: str | None = None
    dedicated: NodeCounts = NodeCounts()
    low_priority: NodeCounts = NodeCounts()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "poolNodeCounts") -> PoolNodeCounts:
        return cls(
            pool_id=_str(d.get("poolId"), f"{where}.poolId"),
            dedicated=_sub(NodeCounts.parse, d.get("dedicated"), f"{where}.dedicated") or NodeCounts(),
            low_priority=_sub(NodeCounts.parse, d.get("lowPriority"), f"{where}.lowPriority") or NodeCounts(),
        )

    def get(self, key: str) -> int:
        return self.dedicated.get(key) + self.low_priority.get(key)

    @property
    def total(self) -> int:
        return self.dedicated.total + self.low_priority.total

    @property
    def sick(self) -> int:
        return self.dedicated.sick + self.low_priority.sick


# --------------------------------------------------------------------------- nodes


@dataclass(frozen=True, slots=True)
class StartTaskInfo:
    state: str | None = None  # running, completed
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerInfo | None = None
    failure_info: FailureInfo | None = None
    retry_count: int | None = None
    last_retry_time: datetime | None = None
    result: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "startTaskInfo") -> StartTaskInfo:
        return cls(
            state=_str(d.get("state"), f"{where}.state"),
            start_time=parse_datetime(d.get("startTime"), f"{where}.startTime"),
            end_time=parse_datetime(d.get("endTime"), f"{where}.endTime"),
            exit_code=_int(d.get("exitCode"), f"{where}.exitCode"),
            container_info=_sub(ContainerInfo.parse, d.get("containerInfo"), f"{where}.containerInfo"),
            failure_info=_sub(FailureInfo.parse, d.get("failureInfo"), f"{where}.failureInfo"),
            retry_count=_int(d.get("retryCount"), f"{where}.retryCount"),
            last_retry_time=parse_datetime(d.get("lastRetryTime"), f"{where}.lastRetryTime"),
            result=_str(d.get("result"), f"{where}.result"),
        )

    @property
    def failed(self) -> bool:
        if self.result is not None:
            return self.result == "failure"
        return self.state == "completed" and self.exit_code not in (None, 0)


@dataclass(frozen=True, slots=True)
class RecentTask:
    """A ``BatchTaskInfo`` of a node's ``recentTasks``."""

    task_url: str | None = None
    job_id: str | None = None
    task_id: str | None = None
    subtask_id: int | None = None
    task_state: str | None = None
    execution_info: TaskExecutionInfo | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "recentTask") -> RecentTask:
        return cls(
            task_url=_str(d.get("taskUrl"), f"{where}.taskUrl"),
            job_id=_str(d.get("jobId"), f"{where}.jobId"),
            task_id=_str(d.get("taskId"), f"{where}.taskId"),
            subtask_id=_int(d.get("subtaskId"), f"{where}.subtaskId"),
            task_state=_str(d.get("taskState"), f"{where}.taskState"),
            execution_info=_sub(TaskExecutionInfo.parse, d.get("executionInfo"), f"{where}.executionInfo"),
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str | None = None
    protocol: str | None = None
    public_ip: str | None = None
    public_fqdn: str | None = None
    frontend_port: int | None = None
    backend_port: int | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "inboundEndpoint") -> Endpoint:
        return cls(
            name=_str(d.get("name"), f"{where}.name"),
            protocol=_str(d.get("protocol"), f"{where}.protocol"),
            public_ip=_str(d.get("publicIPAddress"), f"{where}.publicIPAddress"),
            public_fqdn=_str(d.get("publicFQDN"), f"{where}.publicFQDN"),
            frontend_port=_int(d.get("frontendPort"), f"{where}.frontendPort"),
            backend_port=_int(d.get("backendPort"), f"{where}.backendPort"),
        )


@dataclass(frozen=True, slots=True)
class Node:
    id: str | None = None
    url: str | None = None
    state: str | None = None
    scheduling_state: str | None = None
    state_transition_time: datetime | None = None
    last_boot_time: datetime | None = None
    allocation_time: datetime | None = None
    ip_address: str | None = None
    ipv6_address: str | None = None
    affinity_id: str | None = None
    vm_size: str | None = None
    total_tasks_run: int | None = None
    total_tasks_succeeded: int | None = None
    running_tasks_count: int | None = None
    running_task_slots_count: int | None = None
    recent_tasks: tuple[RecentTask, ...] = ()
    start_task_command_line: str | None = None
    start_task_info: StartTaskInfo | None = None
    is_dedicated: bool | None = None
    errors: tuple[NodeError, ...] = ()
    agent_version: str | None = None
    agent_updated: datetime | None = None
    image: str | None = None  # publisher/offer/sku (exact version), as one line
    endpoints: tuple[Endpoint, ...] = ()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "node") -> Node:
        start = _obj(d.get("startTask"), f"{where}.startTask") or {}
        agent = _obj(d.get("nodeAgentInfo"), f"{where}.nodeAgentInfo") or {}
        vm = _obj(d.get("virtualMachineInfo"), f"{where}.virtualMachineInfo") or {}
        image = _obj(vm.get("imageReference"), f"{where}.virtualMachineInfo.imageReference") or {}
        endpoints = _obj(d.get("endpointConfiguration"), f"{where}.endpointConfiguration") or {}
        recent = _list(d.get("recentTasks"), f"{where}.recentTasks")
        inbound = _list(endpoints.get("inboundEndpoints"), f"{where}.endpointConfiguration.inboundEndpoints")
        return cls(
            id=_str(d.get("id"), f"{where}.id"),
            url=_str(d.get("url"), f"{where}.url"),
            state=_str(d.get("state"), f"{where}.state"),
            scheduling_state=_str(d.get("schedulingState"), f"{where}.schedulingState"),
            state_transition_time=parse_datetime(
                d.get("stateTransitionTime"), f"{where}.stateTransitionTime"
            ),
            last_boot_time=parse_datetime(d.get("lastBootTime"), f"{where}.lastBootTime"),
            allocation_time=parse_datetime(d.get("allocationTime"), f"{where}.allocationTime"),
            ip_address=_str(d.get("ipAddress"), f"{where}.ipAddress"),
            ipv6_address=_str(d.get("ipv6Address"), f"{where}.ipv6Address"),
            affinity_id=_str(d.get("affinityId"), f"{where}.affinityId"),
            vm_size=_str(d.get("vmSize"), f"{where}.vmSize"),
            total_tasks_run=_int(d.get("totalTasksRun"), f"{where}.totalTasksRun"),
            total_tasks_succeeded=_int(d.get("totalTasksSucceeded"), f"{where}.totalTasksSucceeded"),
            running_tasks_count=_int(d.get("runningTasksCount"), f"{where}.runningTasksCount"),
            running_task_slots_count=_int(d.get("runningTaskSlotsCount"), f"{where}.runningTaskSlotsCount"),
            recent_tasks=tuple(
                RecentTask.parse(require_object(r, f"{where}.recentTasks[{i}]"), f"{where}.recentTasks[{i}]")
                for i, r in enumerate(recent)
            ),
            start_task_command_line=_str(start.get("commandLine"), f"{where}.startTask.commandLine"),
            start_task_info=_sub(StartTaskInfo.parse, d.get("startTaskInfo"), f"{where}.startTaskInfo"),
            is_dedicated=_bool(d.get("isDedicated"), f"{where}.isDedicated"),
            errors=_errors(d.get("errors"), f"{where}.errors", "errorDetails"),
            agent_version=_str(agent.get("version"), f"{where}.nodeAgentInfo.version"),
            agent_updated=parse_datetime(
                agent.get("lastUpdateTime"), f"{where}.nodeAgentInfo.lastUpdateTime"
            ),
            image=_image_line(image, where),
            endpoints=tuple(
                Endpoint.parse(
                    require_object(e, f"{where}.inboundEndpoints[{i}]"), f"{where}.inboundEndpoints[{i}]"
                )
                for i, e in enumerate(inbound)
            ),
        )

    @property
    def sick(self) -> bool:
        """Unusable, start task failed, lost contact, offline, preempted, or with errors."""
        return self.state in SICK_STATES or bool(self.errors)


def _image_line(image: Mapping[str, Any], where: str) -> str | None:
    parts = [_str(image.get(k), f"{where}.imageReference.{k}") for k in ("publisher", "offer", "sku")]
    line = "/".join(p for p in parts if p)
    exact = _str(image.get("exactVersion") or image.get("version"), f"{where}.imageReference.version")
    if line and exact:
        line += f" ({exact})"
    return line or None


# --------------------------------------------------------------------------- parsers


def parse_pool(body: object) -> Pool:
    return Pool.parse(require_object(body, "pool"))


def parse_pool_page(body: object) -> Page[Pool]:
    return parse_page(body, Pool.parse, "pools")


def parse_node(body: object) -> Node:
    return Node.parse(require_object(body, "node"))


def parse_node_page(body: object) -> Page[Node]:
    return parse_page(body, Node.parse, "nodes")


def parse_node_counts_page(body: object) -> Page[PoolNodeCounts]:
    return parse_page(body, PoolNodeCounts.parse, "poolNodeCounts")


# --------------------------------------------------------------------------- calls


def _select(select: Sequence[str] | None) -> str | None:
    if not select:
        return None
    return ",".join(s for s in select if s) or None


def _segment(value: str, what: str) -> str:
    if not value:
        raise BatchClientError(f"{what} must not be empty")
    return quote(value, safe="")


def iter_pool_pages(
    client: BatchClient, *, filter: str | None, select: Sequence[str] | None, max_results: int | None
) -> AsyncGenerator[Page[Pool], None]:
    params = {"maxresults": max_results, "$filter": filter, "$select": _select(select)}
    return client._pages("list_pools", "/pools", params, parse_pool_page)


async def get_pool(client: BatchClient, pool_id: str, *, select: Sequence[str] | None) -> Pool:
    url = client._url(f"/pools/{_segment(pool_id, 'pool id')}", {"$select": _select(select)})
    return client._parse("get_pool", parse_pool, await client._get_json("get_pool", url))


def iter_node_pages(
    client: BatchClient,
    pool_id: str,
    *,
    filter: str | None,
    select: Sequence[str] | None,
    max_results: int | None,
) -> AsyncGenerator[Page[Node], None]:
    path = f"/pools/{_segment(pool_id, 'pool id')}/nodes"
    params = {"maxresults": max_results, "$filter": filter, "$select": _select(select)}
    return client._pages("list_nodes", path, params, parse_node_page)


async def get_node(client: BatchClient, pool_id: str, node_id: str, *, select: Sequence[str] | None) -> Node:
    path = f"/pools/{_segment(pool_id, 'pool id')}/nodes/{_segment(node_id, 'node id')}"
    url = client._url(path, {"$select": _select(select)})
    return client._parse("get_node", parse_node, await client._get_json("get_node", url))


def iter_node_count_pages(
    client: BatchClient, *, filter: str | None, max_results: int | None
) -> AsyncGenerator[Page[PoolNodeCounts], None]:
    params = {"maxresults": max_results, "$filter": filter}
    return client._pages("list_pool_node_counts", "/nodecounts", params, parse_node_counts_page)
