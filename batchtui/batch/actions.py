"""The Batch calls that change things: terminate, reactivate, disable/enable, delete, reboot,
node scheduling and node removal (NEXT-APIS §4).

Every one goes through :meth:`BatchClient._send` with ``retry="throttled"``: a 429 means the
service did nothing, so it may be sent again after its Retry-After; after a timeout or a 5xx
the outcome is unknown and the call fails as :class:`OutcomeUnknown`, for the caller to re-read
the entity before deciding to send again. A client made ``readonly`` refuses every one of them
before anything goes on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from batchtui.batch.errors import BatchClientError, BatchServiceError, TransportError

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

DisableTasks = Literal["requeue", "terminate", "wait"]
NodeRebootOption = Literal["requeue", "terminate", "taskcompletion", "retaineddata"]
NodeDisableSchedulingOption = Literal["requeue", "terminate", "taskcompletion"]
NodeDeallocationOption = Literal["requeue", "terminate", "taskcompletion", "retaineddata"]

DISABLE_TASKS: tuple[DisableTasks, ...] = ("requeue", "terminate", "wait")
REBOOT_OPTIONS: tuple[NodeRebootOption, ...] = ("requeue", "terminate", "taskcompletion", "retaineddata")
DISABLE_SCHEDULING_OPTIONS: tuple[NodeDisableSchedulingOption, ...] = (
    "requeue",
    "terminate",
    "taskcompletion",
)
DEALLOCATION_OPTIONS: tuple[NodeDeallocationOption, ...] = REBOOT_OPTIONS
MAX_NODES_PER_REMOVE = 100  # the service's limit per removenodes request


class ReadOnlyError(BatchClientError):
    """The client is read-only (--readonly): a state-changing request was refused unsent."""

    kind = "read-only"


class OutcomeUnknown(BatchClientError):
    """A state change timed out or met a 5xx: it may or may not have happened."""

    kind = "outcome unknown"

    def __init__(self, message: str, cause: BatchClientError) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class ActionDone:
    """The service accepted a state change."""

    call: str
    status: int
    request_id: str | None
    client_request_id: str


async def act(
    client: BatchClient,
    call: str,
    method: str,
    path: str,
    *,
    body: Mapping[str, object] | None = None,
    params: Mapping[str, object] | None = None,
) -> ActionDone:
    """Send one state change; raise ReadOnlyError, OutcomeUnknown or the service's refusal."""
    if client.readonly:
        raise ReadOnlyError(f"{call}: refused, batchtui is read-only (--readonly)")
    content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    url = client._url(path, params or {})
    try:
        reply = await client._send(call, method, url, content=content, retry="throttled")
    except TransportError as exc:
        raise OutcomeUnknown(f"{call}: no answer ({exc}); it may or may not have happened", exc) from None
    except BatchServiceError as exc:
        if exc.status >= 500:
            raise OutcomeUnknown(f"{call}: {exc}; it may or may not have happened", exc) from None
        raise
    return ActionDone(call, reply.status, reply.request_id, reply.client_request_id)


def _job(job_id: str) -> str:
    from batchtui.batch.client import _segment

    return f"/jobs/{_segment(job_id, 'job id')}"


def _task(job_id: str, task_id: str) -> str:
    from batchtui.batch.client import _segment

    return f"{_job(job_id)}/tasks/{_segment(task_id, 'task id')}"


def _node(pool_id: str, node_id: str) -> str:
    from batchtui.batch.client import _segment

    return f"/pools/{_segment(pool_id, 'pool id')}/nodes/{_segment(node_id, 'node id')}"


async def terminate_job(client: BatchClient, job_id: str, reason: str | None = None) -> ActionDone:
    body = {"terminateReason": reason} if reason else None
    return await act(client, "terminate_job", "POST", f"{_job(job_id)}/terminate", body=body)


async def disable_job(client: BatchClient, job_id: str, disable_tasks: DisableTasks) -> ActionDone:
    body = {"disableTasks": disable_tasks}
    return await act(client, "disable_job", "POST", f"{_job(job_id)}/disable", body=body)


async def enable_job(client: BatchClient, job_id: str) -> ActionDone:
    return await act(client, "enable_job", "POST", f"{_job(job_id)}/enable")


async def terminate_task(client: BatchClient, job_id: str, task_id: str) -> ActionDone:
    return await act(client, "terminate_task", "POST", f"{_task(job_id, task_id)}/terminate")


async def reactivate_task(client: BatchClient, job_id: str, task_id: str) -> ActionDone:
    return await act(client, "reactivate_task", "POST", f"{_task(job_id, task_id)}/reactivate")


async def delete_task(client: BatchClient, job_id: str, task_id: str) -> ActionDone:
    return await act(client, "delete_task", "DELETE", _task(job_id, task_id))


async def reboot_node(
    client: BatchClient, pool_id: str, node_id: str, option: NodeRebootOption = "requeue"
) -> ActionDone:
    body = {"nodeRebootOption": option}
    return await act(client, "reboot_node", "POST", f"{_node(pool_id, node_id)}/reboot", body=body)


async def disable_node_scheduling(
    client: BatchClient, pool_id: str, node_id: str, option: NodeDisableSchedulingOption = "requeue"
) -> ActionDone:
    body = {"nodeDisableSchedulingOption": option}
    path = f"{_node(pool_id, node_id)}/disablescheduling"
    return await act(client, "disable_node_scheduling", "POST", path, body=body)


async def enable_node_scheduling(client: BatchClient, pool_id: str, node_id: str) -> ActionDone:
    path = f"{_node(pool_id, node_id)}/enablescheduling"
    return await act(client, "enable_node_scheduling", "POST", path)


async def remove_nodes(
    client: BatchClient,
    pool_id: str,
    node_ids: list[str],
    option: NodeDeallocationOption = "requeue",
    resize_timeout: str = "PT15M",
) -> ActionDone:
    if not 1 <= len(node_ids) <= MAX_NODES_PER_REMOVE:
        raise BatchClientError(f"remove_nodes: 1 to {MAX_NODES_PER_REMOVE} nodes per request")
    from batchtui.batch.client import _segment

    body = {"nodeList": node_ids, "resizeTimeout": resize_timeout, "nodeDeallocationOption": option}
    path = f"/pools/{_segment(pool_id, 'pool id')}/removenodes"
    return await act(client, "remove_nodes", "POST", path, body=body)
