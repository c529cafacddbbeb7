"""Tolerant, immutable models of tasks and subtasks (the ranks of a multi-instance task) on
the Batch wire, read as :mod:`batchtui.batch.models` reads jobs (see :mod:`batchtui.batch.wire`).

Apart from the jobs' models so that ``--once``, which reads no task, does not build these
classes at every start (a frozen dataclass costs ~1.3 ms to create on the bench machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from batchtui.batch.models import Entity, FailureInfo, Statistics
from batchtui.batch.wire import (
    Page,
    WireModel,
    integer,
    many,
    model_page,
    one,
    require_object,
    span,
    text,
    when,
    wire,
)

__all__ = [
    "ContainerInfo",
    "MultiInstanceSettings",
    "NodeInfo",
    "ResourceFile",
    "Subtask",
    "Task",
    "TaskConstraints",
    "TaskExecutionInfo",
    "parse_subtask_page",
    "parse_task",
    "parse_task_page",
]


@dataclass(frozen=True, slots=True)
class ContainerInfo(WireModel):
    where: ClassVar[str] = "containerInfo"
    container_id: str | None = wire("containerId", conv=text)
    state: str | None = wire("state", conv=text)
    error: str | None = wire("error", conv=text)


@dataclass(frozen=True, slots=True)
class NodeInfo(WireModel):
    """``BatchNodeInfo``: the node a task or subtask ran on."""

    where: ClassVar[str] = "nodeInfo"
    affinity_id: str | None = wire("affinityId", conv=text)
    node_url: str | None = wire("nodeUrl", conv=text)
    pool_id: str | None = wire("poolId", conv=text)
    node_id: str | None = wire("nodeId", conv=text)
    task_root_directory: str | None = wire("taskRootDirectory", conv=text)
    task_root_directory_url: str | None = wire("taskRootDirectoryUrl", conv=text)


@dataclass(frozen=True, slots=True)
class TaskExecutionInfo(WireModel):
    where: ClassVar[str] = "executionInfo"
    start_time: datetime | None = wire("startTime", conv=when)
    end_time: datetime | None = wire("endTime", conv=when)
    exit_code: int | None = wire("exitCode", conv=integer)
    container_info: ContainerInfo | None = wire("containerInfo", conv=one(ContainerInfo))
    failure_info: FailureInfo | None = wire("failureInfo", conv=one(FailureInfo))
    retry_count: int | None = wire("retryCount", conv=integer)
    last_retry_time: datetime | None = wire("lastRetryTime", conv=when)
    requeue_count: int | None = wire("requeueCount", conv=integer)
    last_requeue_time: datetime | None = wire("lastRequeueTime", conv=when)
    result: str | None = wire("result", conv=text)


@dataclass(frozen=True, slots=True)
class ResourceFile(WireModel):
    where: ClassVar[str] = "resourceFile"
    http_url: str | None = wire("httpUrl", conv=text)
    storage_container_url: str | None = wire("storageContainerUrl", conv=text)
    auto_storage_container_name: str | None = wire("autoStorageContainerName", conv=text)
    file_path: str | None = wire("filePath", conv=text)


@dataclass(frozen=True, slots=True)
class MultiInstanceSettings(WireModel):
    """Presence on a task means it is a multi-instance (MPI) task."""

    where: ClassVar[str] = "multiInstanceSettings"
    number_of_instances: int | None = wire("numberOfInstances", conv=integer)
    coordination_command_line: str | None = wire("coordinationCommandLine", conv=text)
    common_resource_files: tuple[ResourceFile, ...] = wire(
        "commonResourceFiles", conv=many(ResourceFile), default=()
    )


@dataclass(frozen=True, slots=True)
class TaskConstraints(WireModel):
    where: ClassVar[str] = "constraints"
    max_wall_clock_time: timedelta | None = wire("maxWallClockTime", conv=span)
    retention_time: timedelta | None = wire("retentionTime", conv=span)
    max_task_retry_count: int | None = wire("maxTaskRetryCount", conv=integer)


@dataclass(frozen=True, slots=True)
class Task(Entity):
    where: ClassVar[str] = "task"
    command_line: str | None = wire("commandLine", conv=text)
    affinity_id: str | None = wire("affinityInfo", "affinityId", conv=text)
    constraints: TaskConstraints | None = wire("constraints", conv=one(TaskConstraints))
    required_slots: int | None = wire("requiredSlots", conv=integer)
    execution_info: TaskExecutionInfo | None = wire("executionInfo", conv=one(TaskExecutionInfo))
    node_info: NodeInfo | None = wire("nodeInfo", conv=one(NodeInfo))
    multi_instance_settings: MultiInstanceSettings | None = wire(
        "multiInstanceSettings", conv=one(MultiInstanceSettings)
    )
    stats: Statistics | None = wire("stats", conv=one(Statistics))

    @property
    def is_multi_instance(self) -> bool:
        return self.multi_instance_settings is not None

    @property
    def result(self) -> str | None:
        return self.execution_info.result if self.execution_info else None

    @property
    def exit_code(self) -> int | None:
        return self.execution_info.exit_code if self.execution_info else None


@dataclass(frozen=True, slots=True)
class Subtask(WireModel):
    """One rank of a multi-instance task (``BatchSubtask``)."""

    where: ClassVar[str] = "subtask"
    id: int | None = wire("id", conv=integer)
    node_info: NodeInfo | None = wire("nodeInfo", conv=one(NodeInfo))
    start_time: datetime | None = wire("startTime", conv=when)
    end_time: datetime | None = wire("endTime", conv=when)
    exit_code: int | None = wire("exitCode", conv=integer)
    container_info: ContainerInfo | None = wire("containerInfo", conv=one(ContainerInfo))
    failure_info: FailureInfo | None = wire("failureInfo", conv=one(FailureInfo))
    state: str | None = wire("state", conv=text)
    state_transition_time: datetime | None = wire("stateTransitionTime", conv=when)
    previous_state: str | None = wire("previousState", conv=text)
    previous_state_transition_time: datetime | None = wire("previousStateTransitionTime", conv=when)
    result: str | None = wire("result", conv=text)


def parse_task(body: object) -> Task:
    return Task.parse(require_object(body, "task"))


def parse_task_page(body: object) -> Page[Task]:
    return model_page(body, Task, "tasks")


def parse_subtask_page(body: object) -> Page[Subtask]:
    return model_page(body, Subtask, "subtasks")
