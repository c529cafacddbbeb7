"""Tolerant, immutable models of jobs and task counts on the Batch wire, and the parts tasks
share with them (tasks and subtasks: :mod:`batchtui.batch.task_models`).

Every field says which wire key it is read from and how (see :mod:`batchtui.batch.wire`):
every field is optional, enums stay plain text, int64 counters may arrive as strings, and the
only exception a parser raises is :class:`ModelError`, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from batchtui.batch.errors import ModelError
from batchtui.batch.wire import (
    Bad,
    Page,
    WireModel,
    flag,
    integer,
    many,
    model_page,
    number,
    one,
    parse_as,
    parse_page,
    require_object,
    span,
    text,
    when,
    wire,
)

__all__ = [
    "JOB_STATES",
    "SUBTASK_STATES",
    "TASK_RESULTS",
    "TASK_STATES",
    "Entity",
    "FailureInfo",
    "Job",
    "JobExecutionInfo",
    "NameValue",
    "Page",
    "Statistics",
    "TaskCounts",
    "TaskCountsResult",
    "parse_datetime",
    "parse_duration",
    "parse_job",
    "parse_job_page",
    "parse_page",
    "parse_task_counts",
    "require_object",
]

# Known values, for display ordering and filters only: parsers never reject other values.
JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "completed", "deleting")
TASK_STATES = ("active", "preparing", "running", "completed")
SUBTASK_STATES = ("preparing", "running", "completed")
TASK_RESULTS = ("success", "failure")


def parse_datetime(value: object, where: str = "datetime") -> datetime | None:
    """ISO-8601 UTC with any number of fractional digits (the service sends up to 7)."""
    try:
        return None if value is None else when(value)
    except Bad as bad:
        raise bad.at(where) from None


def parse_duration(value: object, where: str = "duration") -> timedelta | None:
    """ISO-8601 durations as .NET writes TimeSpans, e.g. ``P10675199DT2H48M5.4775807S``."""
    try:
        return None if value is None else span(value)
    except Bad as bad:
        raise bad.at(where) from None


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, slots=True)
class NameValue(WireModel):
    where: ClassVar[str] = "nameValue"
    name: str | None = wire("name", conv=text)
    value: str | None = wire("value", conv=text)


@dataclass(frozen=True, slots=True)
class FailureInfo(WireModel):
    """``BatchTaskFailureInfo`` / a job's ``schedulingError``."""

    where: ClassVar[str] = "failureInfo"
    category: str | None = wire("category", conv=text)
    code: str | None = wire("code", conv=text)
    message: str | None = wire("message", conv=text)
    details: tuple[NameValue, ...] = wire("details", conv=many(NameValue), default=())


@dataclass(frozen=True, slots=True)
class Statistics(WireModel):
    """Job or task ``stats`` (``$expand=stats``); int64 counters arrive as strings."""

    where: ClassVar[str] = "stats"
    start_time: datetime | None = wire("startTime", conv=when)
    last_update_time: datetime | None = wire("lastUpdateTime", conv=when)
    user_cpu_time: timedelta | None = wire("userCPUTime", conv=span)
    kernel_cpu_time: timedelta | None = wire("kernelCPUTime", conv=span)
    wall_clock_time: timedelta | None = wire("wallClockTime", conv=span)
    wait_time: timedelta | None = wire("waitTime", conv=span)
    read_iops: int | None = wire("readIOps", conv=integer)
    write_iops: int | None = wire("writeIOps", conv=integer)
    read_io_gib: float | None = wire("readIOGiB", conv=number)
    write_io_gib: float | None = wire("writeIOGiB", conv=number)
    num_succeeded_tasks: int | None = wire("numSucceededTasks", conv=integer)
    num_failed_tasks: int | None = wire("numFailedTasks", conv=integer)
    num_task_retries: int | None = wire("numTaskRetries", conv=integer)


@dataclass(frozen=True, slots=True)
class Entity(WireModel):
    """The identity and state properties every Batch entity (job, task) carries first."""

    id: str | None = wire("id", conv=text)
    display_name: str | None = wire("displayName", conv=text)
    url: str | None = wire("url", conv=text)
    e_tag: str | None = wire("eTag", conv=text)
    last_modified: datetime | None = wire("lastModified", conv=when)
    creation_time: datetime | None = wire("creationTime", conv=when)
    state: str | None = wire("state", conv=text)
    state_transition_time: datetime | None = wire("stateTransitionTime", conv=when)
    previous_state: str | None = wire("previousState", conv=text)
    previous_state_transition_time: datetime | None = wire("previousStateTransitionTime", conv=when)


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True, slots=True)
class JobExecutionInfo(WireModel):
    where: ClassVar[str] = "executionInfo"
    start_time: datetime | None = wire("startTime", conv=when)
    end_time: datetime | None = wire("endTime", conv=when)
    pool_id: str | None = wire("poolId", conv=text)
    scheduling_error: FailureInfo | None = wire("schedulingError", conv=one(FailureInfo))
    terminate_reason: str | None = wire("terminateReason", conv=text)


@dataclass(frozen=True, slots=True)
class Job(Entity):
    where: ClassVar[str] = "job"
    priority: int | None = wire("priority", conv=integer)
    max_parallel_tasks: int | None = wire("maxParallelTasks", conv=integer)
    allow_task_preemption: bool | None = wire("allowTaskPreemption", conv=flag)
    uses_task_dependencies: bool | None = wire("usesTaskDependencies", conv=flag)
    max_wall_clock_time: timedelta | None = wire("constraints", "maxWallClockTime", conv=span)
    max_task_retry_count: int | None = wire("constraints", "maxTaskRetryCount", conv=integer)
    pool_id: str | None = wire("poolInfo", "poolId", conv=text)
    """``poolInfo.poolId`` (absent for auto-pools, see ``auto_pool_id_prefix``)."""
    auto_pool_id_prefix: str | None = wire("poolInfo", "autoPoolSpecification", "autoPoolIdPrefix", conv=text)
    on_all_tasks_complete: str | None = wire("onAllTasksComplete", conv=text)
    on_task_failure: str | None = wire("onTaskFailure", conv=text)
    metadata: tuple[NameValue, ...] = wire("metadata", conv=many(NameValue), default=())
    execution_info: JobExecutionInfo | None = wire("executionInfo", conv=one(JobExecutionInfo))
    stats: Statistics | None = wire("stats", conv=one(Statistics))

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
class TaskCounts(WireModel):
    """One bucket set of ``/taskcounts``; ``running`` includes preparing tasks."""

    where: ClassVar[str] = "taskCounts"
    active: int = wire("active", conv=integer, default=0)
    running: int = wire("running", conv=integer, default=0)
    completed: int = wire("completed", conv=integer, default=0)
    succeeded: int = wire("succeeded", conv=integer, default=0)
    failed: int = wire("failed", conv=integer, default=0)

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
class TaskCountsResult(WireModel):
    where: ClassVar[str] = "taskCountsResult"
    task_counts: TaskCounts = wire("taskCounts", conv=one(TaskCounts), default=TaskCounts())
    task_slot_counts: TaskCounts = wire("taskSlotCounts", conv=one(TaskCounts), default=TaskCounts())

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str | None = None) -> Self:
        where = cls.where if where is None else where
        result = parse_as(cls, d, where)
        if d.get("taskCounts") is None:  # counts of nothing are no answer
            raise ModelError(f"{where}: no taskCounts in the response")
        return result


# --------------------------------------------------------------------------- tasks


# --------------------------------------------------------------------------- bodies


def parse_job(body: object) -> Job:
    return Job.parse(require_object(body, "job"))


def parse_task_counts(body: object) -> TaskCountsResult:
    return TaskCountsResult.parse(require_object(body, "taskCountsResult"))


def parse_job_page(body: object) -> Page[Job]:
    return model_page(body, Job, "jobs")
