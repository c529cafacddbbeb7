"""Tolerant, immutable models of the Batch wire format.

Why tolerant: ``$select`` drops properties the spec calls required, the service adds enum
values over time (every enum is ``modelAsString``), int64 fields arrive as JSON strings and
timestamps carry up to 7 fractional digits. So every field is optional, enums stay plain
text, and the only exception a parser raises is :class:`ModelError` (a body whose shape is
not an object where an object must be, a number that is not a number, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from batchtui.batch.errors import ModelError

T = TypeVar("T")

# Known values, for display ordering and filters only: parsers never reject other values.
JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "completed", "deleting")
TASK_STATES = ("active", "preparing", "running", "completed")
SUBTASK_STATES = ("preparing", "running", "completed")
TASK_RESULTS = ("success", "failure")


# --------------------------------------------------------------------------- scalars

_DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
_DUR = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def parse_datetime(value: object, where: str = "datetime") -> datetime | None:
    """ISO-8601 UTC with any number of fractional digits (the service sends up to 7)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a date-time string, got {type(value).__name__}")
    m = _DT.match(value.strip())
    if not m:
        raise ModelError(f"{where}: not an ISO-8601 date-time: {value[:40]!r}")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)
    except ValueError as exc:
        raise ModelError(f"{where}: invalid date-time {value[:40]!r}") from exc
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        try:
            dt = dt - sign * offset
        except OverflowError as exc:
            raise ModelError(f"{where}: date-time out of range {value[:40]!r}") from exc
    return dt


def parse_duration(value: object, where: str = "duration") -> timedelta | None:
    """ISO-8601 durations as .NET writes TimeSpans, e.g. ``P10675199DT2H48M5.4775807S``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a duration string, got {type(value).__name__}")
    m = _DUR.match(value.strip())
    if not m or value.strip() in ("P", "PT", "-P"):
        raise ModelError(f"{where}: not an ISO-8601 duration: {value[:40]!r}")
    neg, years, months, weeks, days, hours, minutes, seconds = m.groups()
    total_days = float(years or 0) * 365 + float(months or 0) * 30 + float(weeks or 0) * 7 + float(days or 0)
    try:
        td = timedelta(
            days=total_days,
            hours=float(hours or 0),
            minutes=float(minutes or 0),
            seconds=float(seconds or 0),
        )
    except OverflowError as exc:
        raise ModelError(f"{where}: duration out of range {value[:40]!r}") from exc
    return -td if neg else td


def _int(value: object, where: str) -> int | None:
    """int32 arrive as numbers, int64 as strings; accept both."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModelError(f"{where}: expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ModelError(f"{where}: expected an integer, got {str(value)[:40]!r}")


def _float(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModelError(f"{where}: expected a number, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ModelError(f"{where}: expected a number, got {str(value)[:40]!r}")


def _str(value: object, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    raise ModelError(f"{where}: expected a string, got {type(value).__name__}")


def _bool(value: object, where: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ModelError(f"{where}: expected a boolean, got {str(value)[:40]!r}")


def _obj(value: object, where: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    raise ModelError(f"{where}: expected an object, got {type(value).__name__}")


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise ModelError(f"{where}: expected an array, got {type(value).__name__}")


def _sub(cls: Callable[[Mapping[str, Any], str], T], value: object, where: str) -> T | None:
    obj = _obj(value, where)
    return None if obj is None else cls(obj, where)


def require_object(body: object, where: str) -> Mapping[str, Any]:
    """The top of every response body must be a JSON object."""
    obj = _obj(body, where)
    if obj is None:
        raise ModelError(f"{where}: expected an object, got null")
    return obj


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, slots=True)
class NameValue:
    name: str | None = None
    value: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "nameValue") -> NameValue:
        return cls(name=_str(d.get("name"), f"{where}.name"), value=_str(d.get("value"), f"{where}.value"))


def _name_values(value: object, where: str) -> tuple[NameValue, ...]:
    items = _list(value, where)
    return tuple(
        NameValue.parse(require_object(item, f"{where}[{i}]"), f"{where}[{i}]")
        for i, item in enumerate(items)
    )


@dataclass(frozen=True, slots=True)
class FailureInfo:
    """``BatchTaskFailureInfo`` / a job's ``schedulingError``."""

    category: str | None = None
    code: str | None = None
    message: str | None = None
    details: tuple[NameValue, ...] = ()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "failureInfo") -> FailureInfo:
        return cls(
            category=_str(d.get("category"), f"{where}.category"),
            code=_str(d.get("code"), f"{where}.code"),
            message=_str(d.get("message"), f"{where}.message"),
            details=_name_values(d.get("details"), f"{where}.details"),
        )


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    container_id: str | None = None
    state: str | None = None
    error: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "containerInfo") -> ContainerInfo:
        return cls(
            container_id=_str(d.get("containerId"), f"{where}.containerId"),
            state=_str(d.get("state"), f"{where}.state"),
            error=_str(d.get("error"), f"{where}.error"),
        )


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """``BatchNodeInfo``: the node a task or subtask ran on."""

    affinity_id: str | None = None
    node_url: str | None = None
    pool_id: str | None = None
    node_id: str | None = None
    task_root_directory: str | None = None
    task_root_directory_url: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "nodeInfo") -> NodeInfo:
        return cls(
            affinity_id=_str(d.get("affinityId"), f"{where}.affinityId"),
            node_url=_str(d.get("nodeUrl"), f"{where}.nodeUrl"),
            pool_id=_str(d.get("poolId"), f"{where}.poolId"),
            node_id=_str(d.get("nodeId"), f"{where}.nodeId"),
            task_root_directory=_str(d.get("taskRootDirectory"), f"{where}.taskRootDirectory"),
            task_root_directory_url=_str(d.get("taskRootDirectoryUrl"), f"{where}.taskRootDirectoryUrl"),
        )


@dataclass(frozen=True, slots=True)
class TaskExecutionInfo:
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerInfo | None = None
    failure_info: FailureInfo | None = None
    retry_count: int | None = None
    last_retry_time: datetime | None = None
    requeue_count: int | None = None
    last_requeue_time: datetime | None = None
    result: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "executionInfo") -> TaskExecutionInfo:
        return cls(
            start_time=parse_datetime(d.get("startTime"), f"{where}.startTime"),
            end_time=parse_datetime(d.get("endTime"), f"{where}.endTime"),
            exit_code=_int(d.get("exitCode"), f"{where}.exitCode"),
            container_info=_sub(ContainerInfo.parse, d.get("containerInfo"), f"{where}.containerInfo"),
            failure_info=_sub(FailureInfo.parse, d.get("failureInfo"), f"{where}.failureInfo"),
            retry_count=_int(d.get("retryCount"), f"{where}.retryCount"),
            last_retry_time=parse_datetime(d.get("lastRetryTime"), f"{where}.lastRetryTime"),
            requeue_count=_int(d.get("requeueCount"), f"{where}.requeueCount"),
            last_requeue_time=parse_datetime(d.get("lastRequeueTime"), f"{where}.lastRequeueTime"),
            result=_str(d.get("result"), f"{where}.result"),
        )


@dataclass(frozen=True, slots=True)
class ResourceFile:
    http_url: str | None = None
    storage_container_url: str | None = None
    auto_storage_container_name: str | None = None
    file_path: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "resourceFile") -> ResourceFile:
        return cls(
            http_url=_str(d.get("httpUrl"), f"{where}.httpUrl"),
            storage_container_url=_str(d.get("storageContainerUrl"), f"{where}.storageContainerUrl"),
            auto_storage_container_name=_str(
                d.get("autoStorageContainerName"), f"{where}.autoStorageContainerName"
            ),
            file_path=_str(d.get("filePath"), f"{where}.filePath"),
        )


@dataclass(frozen=True, slots=True)
class MultiInstanceSettings:
    """Presence on a task means it is a multi-instance (MPI) task."""

    number_of_instances: int | None = None
    coordination_command_line: str | None = None
    common_resource_files: tuple[ResourceFile, ...] = ()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "multiInstanceSettings") -> MultiInstanceSettings:
        files = _list(d.get("commonResourceFiles"), f"{where}.commonResourceFiles")
        return cls(
            number_of_instances=_int(d.get("numberOfInstances"), f"{where}.numberOfInstances"),
            coordination_command_line=_str(
                d.get("coordinationCommandLine"), f"{where}.coordinationCommandLine"
            ),
            common_resource_files=tuple(
                ResourceFile.parse(require_object(f, f"{where}.commonResourceFiles[{i}]"))
                for i, f in enumerate(files)
            ),
        )


@dataclass(frozen=True, slots=True)
class TaskConstraints:
    max_wall_clock_time: timedelta | None = None
    retention_time: timedelta | None = None
    max_task_retry_count: int | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "constraints") -> TaskConstraints:
        return cls(
            max_wall_clock_time=parse_duration(d.get("maxWallClockTime"), f"{where}.maxWallClockTime"),
            retention_time=parse_duration(d.get("retentionTime"), f"{where}.retentionTime"),
            max_task_retry_count=_int(d.get("maxTaskRetryCount"), f"{where}.maxTaskRetryCount"),
        )


@dataclass(frozen=True, slots=True)
class Statistics:
    """Job or task ``stats`` (``$expand=stats``); int64 counters arrive as strings."""

    start_time: datetime | None = None
    last_update_time: datetime | None = None
    user_cpu_time: timedelta | None = None
    kernel_cpu_time: timedelta | None = None
    wall_clock_time: timedelta | None = None
    wait_time: timedelta | None = None
    read_iops: int | None = None
    write_iops: int | None = None
    read_io_gib: float | None = None
    write_io_gib: float | None = None
    num_succeeded_tasks: int | None = None
    num_failed_tasks: int | None = None
    num_task_retries: int | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "stats") -> Statistics:
        return cls(
            start_time=parse_datetime(d.get("startTime"), f"{where}.startTime"),
            last_update_time=parse_datetime(d.get("lastUpdateTime"), f"{where}.lastUpdateTime"),
            user_cpu_time=parse_duration(d.get("userCPUTime"), f"{where}.userCPUTime"),
            kernel_cpu_time=parse_duration(d.get("kernelCPUTime"), f"{where}.kernelCPUTime"),
            wall_clock_time=parse_duration(d.get("wallClockTime"), f"{where}.wallClockTime"),
            wait_time=parse_duration(d.get("waitTime"), f"{where}.waitTime"),
            read_iops=_int(d.get("readIOps"), f"{where}.readIOps"),
            write_iops=_int(d.get("writeIOps"), f"{where}.writeIOps"),
            read_io_gib=_float(d.get("readIOGiB"), f"{where}.readIOGiB"),
            write_io_gib=_float(d.get("writeIOGiB"), f"{where}.writeIOGiB"),
            num_succeeded_tasks=_int(d.get("numSucceededTasks"), f"{where}.numSucceededTasks"),
            num_failed_tasks=_int(d.get("numFailedTasks"), f"{where}.numFailedTasks"),
            num_task_retries=_int(d.get("numTaskRetries"), f"{where}.numTaskRetries"),
        )


def _entity(d: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The identity and state properties every Batch entity (job, task) carries."""
    return {
        "id": _str(d.get("id"), f"{where}.id"),
        "display_name": _str(d.get("displayName"), f"{where}.displayName"),
        "url": _str(d.get("url"), f"{where}.url"),
        "e_tag": _str(d.get("eTag"), f"{where}.eTag"),
        "last_modified": parse_datetime(d.get("lastModified"), f"{where}.lastModified"),
        "creation_time": parse_datetime(d.get("creationTime"), f"{where}.creationTime"),
        "state": _str(d.get("state"), f"{where}.state"),
        "state_transition_time": parse_datetime(d.get("stateTransitionTime"), f"{where}.stateTransitionTime"),
        "previous_state": _str(d.get("previousState"), f"{where}.previousState"),
        "previous_state_transition_time": parse_datetime(
            d.get("previousStateTransitionTime"), f"{where}.previousStateTransitionTime"
        ),
    }


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class JobExecutionInfo:
    start_time: datetime | None = None
    end_time: datetime | None = None
    pool_id: str | None = None
    scheduling_error: FailureInfo | None = None
    terminate_reason: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "executionInfo") -> JobExecutionInfo:
        return cls(
            start_time=parse_datetime(d.get("startTime"), f"{where}.startTime"),
            end_time=parse_datetime(d.get("endTime"), f"{where}.endTime"),
            pool_id=_str(d.get("poolId"), f"{where}.poolId"),
            scheduling_error=_sub(FailureInfo.parse, d.get("schedulingError"), f"{where}.schedulingError"),
            terminate_reason=_str(d.get("terminateReason"), f"{where}.terminateReason"),
        )


@dataclass(frozen=True, slots=True)
class Job:
    id: str | None = None
    display_name: str | None = None
    url: str | None = None
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str | None = None
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    priority: int | None = None
    max_parallel_tasks: int | None = None
    allow_task_preemption: bool | None = None
    uses_task_dependencies: bool | None = None
    max_wall_clock_time: timedelta | None = None
    max_task_retry_count: int | None = None
    pool_id: str | None = None
    """``poolInfo.poolId`` (absent for auto-pools, see ``auto_pool_id_prefix``)."""
    auto_pool_id_prefix: str | None = None
    on_all_tasks_complete: str | None = None
    on_task_failure: str | None = None
    metadata: tuple[NameValue, ...] = ()
    execution_info: JobExecutionInfo | None = None
    stats: Statistics | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "job") -> Job:
        constraints = _obj(d.get("constraints"), f"{where}.constraints") or {}
        pool_info = _obj(d.get("poolInfo"), f"{where}.poolInfo") or {}
        auto_pool = (
            _obj(pool_info.get("autoPoolSpecification"), f"{where}.poolInfo.autoPoolSpecification") or {}
        )
        return cls(
            **_entity(d, where),
            priority=_int(d.get("priority"), f"{where}.priority"),
            max_parallel_tasks=_int(d.get("maxParallelTasks"), f"{where}.maxParallelTasks"),
            allow_task_preemption=_bool(d.get("allowTaskPreemption"), f"{where}.allowTaskPreemption"),
            uses_task_dependencies=_bool(d.get("usesTaskDependencies"), f"{where}.usesTaskDependencies"),
            max_wall_clock_time=parse_duration(
                constraints.get("maxWallClockTime"), f"{where}.constraints.maxWallClockTime"
            ),
            max_task_retry_count=_int(
                constraints.get("maxTaskRetryCount"), f"{where}.constraints.maxTaskRetryCount"
            ),
            pool_id=_str(pool_info.get("poolId"), f"{where}.poolInfo.poolId"),
            auto_pool_id_prefix=_str(
                auto_pool.get("autoPoolIdPrefix"), f"{where}.poolInfo.autoPoolSpecification.autoPoolIdPrefix"
            ),
            on_all_tasks_complete=_str(d.get("onAllTasksComplete"), f"{where}.onAllTasksComplete"),
            on_task_failure=_str(d.get("onTaskFailure"), f"{where}.onTaskFailure"),
            metadata=_name_values(d.get("metadata"), f"{where}.metadata"),
            execution_info=_sub(JobExecutionInfo.parse, d.get("executionInfo"), f"{where}.executionInfo"),
            stats=_sub(Statistics.parse, d.get("stats"), f"{where}.stats"),
        )

    @property
    def effective_pool_id(self) -> str | None:
        """The pool the job runs on: the real one for auto-pools once it exists."""
        if self.pool_id:
            return self.pool_id
        if self.execution_info and self.execution_info.pool_id:
            return self.execution_info.pool_id
        return self.auto_pool_id_prefix


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """One bucket set of ``/taskcounts``; ``running`` includes preparing tasks."""

    active: int = 0
    running: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "taskCounts") -> TaskCounts:
        return cls(
            active=_int(d.get("active"), f"{where}.active") or 0,
            running=_int(d.get("running"), f"{where}.running") or 0,
            completed=_int(d.get("completed"), f"{where}.completed") or 0,
            succeeded=_int(d.get("succeeded"), f"{where}.succeeded") or 0,
            failed=_int(d.get("failed"), f"{where}.failed") or 0,
        )

    @property
    def total(self) -> int:
        return self.active + self.running + self.completed

    @property
    def percent_complete(self) -> float:
        """From 0 to 100, whatever the service sent (a negative count would give -40% or 1e301%)."""
        if self.total <= 0 or self.completed <= 0:
            return 0.0
        return min(100.0, 100.0 * self.completed / self.total)

    def to_wire(self) -> dict[str, int]:
        return {
            "active": self.active,
            "running": self.running,
            "completed": self.completed,
            "succeeded": self.succeeded,
            "failed": self.failed,
        }


@dataclass(frozen=True, slots=True)
class TaskCountsResult:
    task_counts: TaskCounts = TaskCounts()
    task_slot_counts: TaskCounts = TaskCounts()

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "taskCountsResult") -> TaskCountsResult:
        tc = _sub(TaskCounts.parse, d.get("taskCounts"), f"{where}.taskCounts")
        ts = _sub(TaskCounts.parse, d.get("taskSlotCounts"), f"{where}.taskSlotCounts")
        if tc is None:
            raise ModelError(f"{where}: no taskCounts in the response")
        return cls(task_counts=tc, task_slot_counts=ts or TaskCounts())


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True, slots=True)
class Task:
    id: str | None = None
    display_name: str | None = None
    url: str | None = None
    e_tag: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    state: str | None = None
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    command_line: str | None = None
    affinity_id: str | None = None
    constraints: TaskConstraints | None = None
    required_slots: int | None = None
    execution_info: TaskExecutionInfo | None = None
    node_info: NodeInfo | None = None
    multi_instance_settings: MultiInstanceSettings | None = None
    stats: Statistics | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "task") -> Task:
        affinity = _obj(d.get("affinityInfo"), f"{where}.affinityInfo") or {}
        return cls(
            **_entity(d, where),
            command_line=_str(d.get("commandLine"), f"{where}.commandLine"),
            affinity_id=_str(affinity.get("affinityId"), f"{where}.affinityInfo.affinityId"),
            constraints=_sub(TaskConstraints.parse, d.get("constraints"), f"{where}.constraints"),
            required_slots=_int(d.get("requiredSlots"), f"{where}.requiredSlots"),
            execution_info=_sub(TaskExecutionInfo.parse, d.get("executionInfo"), f"{where}.executionInfo"),
            node_info=_sub(NodeInfo.parse, d.get("nodeInfo"), f"{where}.nodeInfo"),
            multi_instance_settings=_sub(
                MultiInstanceSettings.parse, d.get("multiInstanceSettings"), f"{where}.multiInstanceSettings"
            ),
            stats=_sub(Statistics.parse, d.get("stats"), f"{where}.stats"),
        )

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
class Subtask:
    """One rank of a multi-instance task (``BatchSubtask``)."""

    id: int | None = None
    node_info: NodeInfo | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerInfo | None = None
    failure_info: FailureInfo | None = None
    state: str | None = None
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    result: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "subtask") -> Subtask:
        return cls(
            id=_int(d.get("id"), f"{where}.id"),
            node_info=_sub(NodeInfo.parse, d.get("nodeInfo"), f"{where}.nodeInfo"),
            start_time=parse_datetime(d.get("startTime"), f"{where}.startTime"),
            end_time=parse_datetime(d.get("endTime"), f"{where}.endTime"),
            exit_code=_int(d.get("exitCode"), f"{where}.exitCode"),
            container_info=_sub(ContainerInfo.parse, d.get("containerInfo"), f"{where}.containerInfo"),
            failure_info=_sub(FailureInfo.parse, d.get("failureInfo"), f"{where}.failureInfo"),
            state=_str(d.get("state"), f"{where}.state"),
            state_transition_time=parse_datetime(
                d.get("stateTransitionTime"), f"{where}.stateTransitionTime"
            ),
            previous_state=_str(d.get("previousState"), f"{where}.previousState"),
            previous_state_transition_time=parse_datetime(
                d.get("previousStateTransitionTime"), f"{where}.previousStateTransitionTime"
            ),
            result=_str(d.get("result"), f"{where}.result"),
        )


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list call; ``next_link`` is the absolute ``odata.nextLink`` or None."""

    items: tuple[T, ...]
    next_link: str | None = None


def parse_page(body: object, item: Callable[[Mapping[str, Any], str], T], where: str) -> Page[T]:
    obj = require_object(body, where)
    if "value" not in obj:
        raise ModelError(f"{where}: the response has no 'value' list")
    values = _list(obj.get("value"), f"{where}.value")
    items = tuple(
        item(require_object(v, f"{where}.value[{i}]"), f"{where}.value[{i}]") for i, v in enumerate(values)
    )
    return Page(items=items, next_link=_str(obj.get("odata.nextLink"), f"{where}.odata.nextLink"))


def parse_job(body: object) -> Job:
    return Job.parse(require_object(body, "job"))


def parse_task(body: object) -> Task:
    return Task.parse(require_object(body, "task"))


def parse_task_counts(body: object) -> TaskCountsResult:
    return TaskCountsResult.parse(require_object(body, "taskCountsResult"))


def parse_job_page(body: object) -> Page[Job]:
    return parse_page(body, Job.parse, "jobs")


def parse_task_page(body: object) -> Page[Task]:
    return parse_page(body, Task.parse, "tasks")


def parse_subtask_page(body: object) -> Page[Subtask]:
    return parse_page(body, Subtask.parse, "subtasks")
