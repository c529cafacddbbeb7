"""The models of bench/models_parse.py as msgspec Structs (that benchmark's third column).

The same fields as batch/models.py and batch/pools.py, every one optional; nested objects
stay nested Structs (msgspec cannot flatten ``constraints.maxWallClockTime`` into a field).
Decoded from the bytes with ``strict=False``, so int64 counters written as strings are read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

O = None  # noqa: E741 - every msgspec field is optional, as the service's $select makes them


class MNameValue(msgspec.Struct, frozen=True):
    name: str | None = O
    value: str | None = O


class MFailureInfo(msgspec.Struct, frozen=True):
    category: str | None = O
    code: str | None = O
    message: str | None = O
    details: tuple[MNameValue, ...] = ()


class MContainerInfo(msgspec.Struct, frozen=True):
    containerId: str | None = O  # noqa: N815 - the wire's spelling
    state: str | None = O
    error: str | None = O


class MStats(msgspec.Struct, frozen=True, rename="camel"):
    start_time: datetime | None = O
    last_update_time: datetime | None = O
    user_cpu_time: timedelta | None = msgspec.field(default=None, name="userCPUTime")
    kernel_cpu_time: timedelta | None = msgspec.field(default=None, name="kernelCPUTime")
    wall_clock_time: timedelta | None = O
    wait_time: timedelta | None = O
    read_iops: int | None = msgspec.field(default=None, name="readIOps")
    write_iops: int | None = msgspec.field(default=None, name="writeIOps")
    read_io_gib: float | None = msgspec.field(default=None, name="readIOGiB")
    write_io_gib: float | None = msgspec.field(default=None, name="writeIOGiB")
    num_succeeded_tasks: int | None = O
    num_failed_tasks: int | None = O
    num_task_retries: int | None = O


class MConstraints(msgspec.Struct, frozen=True, rename="camel"):
    max_wall_clock_time: timedelta | None = O
    retention_time: timedelta | None = O
    max_task_retry_count: int | None = O


class MAutoPool(msgspec.Struct, frozen=True, rename="camel"):
    auto_pool_id_prefix: str | None = O


class MPoolInfo(msgspec.Struct, frozen=True, rename="camel"):
    pool_id: str | None = O
    auto_pool_specification: MAutoPool | None = O


class MJobExecutionInfo(msgspec.Struct, frozen=True, rename="camel"):
    start_time: datetime | None = O
    end_time: datetime | None = O
    pool_id: str | None = O
    scheduling_error: MFailureInfo | None = O
    terminate_reason: str | None = O


class MEntity(msgspec.Struct, frozen=True, rename="camel"):
    id: str | None = O
    display_name: str | None = O
    url: str | None = O
    e_tag: str | None = O
    last_modified: datetime | None = O
    creation_time: datetime | None = O
    state: str | None = O
    state_transition_time: datetime | None = O
    previous_state: str | None = O
    previous_state_transition_time: datetime | None = O


class MJob(MEntity, frozen=True, rename="camel"):
    priority: int | None = O
    max_parallel_tasks: int | None = O
    allow_task_preemption: bool | None = O
    uses_task_dependencies: bool | None = O
    constraints: MConstraints | None = O
    pool_info: MPoolInfo | None = O
    on_all_tasks_complete: str | None = O
    on_task_failure: str | None = O
    metadata: tuple[MNameValue, ...] = ()
    execution_info: MJobExecutionInfo | None = O
    stats: MStats | None = O


class MTaskExecutionInfo(msgspec.Struct, frozen=True, rename="camel"):
    start_time: datetime | None = O
    end_time: datetime | None = O
    exit_code: int | None = O
    container_info: MContainerInfo | None = O
    failure_info: MFailureInfo | None = O
    retry_count: int | None = O
    last_retry_time: datetime | None = O
    requeue_count: int | None = O
    last_requeue_time: datetime | None = O
    result: str | None = O


class MNodeInfo(msgspec.Struct, frozen=True, rename="camel"):
    affinity_id: str | None = O
    node_url: str | None = O
    pool_id: str | None = O
    node_id: str | None = O
    task_root_directory: str | None = O
    task_root_directory_url: str | None = O


class MResourceFile(msgspec.Struct, frozen=True, rename="camel"):
    http_url: str | None = O
    storage_container_url: str | None = O
    auto_storage_container_name: str | None = O
    file_path: str | None = O


class MMulti(msgspec.Struct, frozen=True, rename="camel"):
    number_of_instances: int | None = O
    coordination_command_line: str | None = O
    common_resource_files: tuple[MResourceFile, ...] = ()


class MAffinity(msgspec.Struct, frozen=True, rename="camel"):
    affinity_id: str | None = O


class MTask(MEntity, frozen=True, rename="camel"):
    command_line: str | None = O
    affinity_info: MAffinity | None = O
    constraints: MConstraints | None = O
    required_slots: int | None = O
    execution_info: MTaskExecutionInfo | None = O
    node_info: MNodeInfo | None = O
    multi_instance_settings: MMulti | None = O
    stats: MStats | None = O


class MNodeError(msgspec.Struct, frozen=True, rename="camel"):
    code: str | None = O
    message: str | None = O
    error_details: tuple[MNameValue, ...] = ()


class MStartTaskInfo(msgspec.Struct, frozen=True, rename="camel"):
    state: str | None = O
    start_time: datetime | None = O
    end_time: datetime | None = O
    exit_code: int | None = O
    container_info: MContainerInfo | None = O
    failure_info: MFailureInfo | None = O
    retry_count: int | None = O
    last_retry_time: datetime | None = O
    result: str | None = O


class MRecentTask(msgspec.Struct, frozen=True, rename="camel"):
    task_url: str | None = O
    job_id: str | None = O
    task_id: str | None = O
    subtask_id: int | None = O
    task_state: str | None = O
    execution_info: MTaskExecutionInfo | None = O


class MStartTask(msgspec.Struct, frozen=True, rename="camel"):
    command_line: str | None = O


class MAgent(msgspec.Struct, frozen=True, rename="camel"):
    version: str | None = O
    last_update_time: datetime | None = O


class MImage(msgspec.Struct, frozen=True, rename="camel"):
    publisher: str | None = O
    offer: str | None = O
    sku: str | None = O
    version: str | None = O
    exact_version: str | None = O


class MVm(msgspec.Struct, frozen=True, rename="camel"):
    image_reference: MImage | None = O


class MEndpoint(msgspec.Struct, frozen=True, rename="camel"):
    name: str | None = O
    protocol: str | None = O
    public_ip_address: str | None = msgspec.field(default=None, name="publicIPAddress")
    public_fqdn: str | None = msgspec.field(default=None, name="publicFQDN")
    frontend_port: int | None = O
    backend_port: int | None = O


class MEndpoints(msgspec.Struct, frozen=True, rename="camel"):
    inbound_endpoints: tuple[MEndpoint, ...] = ()


class MNode(msgspec.Struct, frozen=True, rename="camel"):
    id: str | None = O
    url: str | None = O
    state: str | None = O
    scheduling_state: str | None = O
    state_transition_time: datetime | None = O
    last_boot_time: datetime | None = O
    allocation_time: datetime | None = O
    ip_address: str | None = msgspec.field(default=None, name="ipAddress")
    ipv6_address: str | None = msgspec.field(default=None, name="ipv6Address")
    affinity_id: str | None = O
    vm_size: str | None = O
    total_tasks_run: int | None = O
    total_tasks_succeeded: int | None = O
    running_tasks_count: int | None = O
    running_task_slots_count: int | None = O
    recent_tasks: tuple[MRecentTask, ...] = ()
    start_task: MStartTask | None = O
    start_task_info: MStartTaskInfo | None = O
    is_dedicated: bool | None = O
    errors: tuple[MNodeError, ...] = ()
    node_agent_info: MAgent | None = O
    virtual_machine_info: MVm | None = O
    endpoint_configuration: MEndpoints | None = O


class MTaskCounts(msgspec.Struct, frozen=True):
    active: int = 0
    running: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0


class MTaskCountsResult(msgspec.Struct, frozen=True, rename="camel"):
    task_counts: MTaskCounts | None = O
    task_slot_counts: MTaskCounts | None = O


class MJobPage(msgspec.Struct, frozen=True):
    value: tuple[MJob, ...] = ()
    next_link: str | None = msgspec.field(default=None, name="odata.nextLink")


class MTaskPage(msgspec.Struct, frozen=True):
    value: tuple[MTask, ...] = ()
    next_link: str | None = msgspec.field(default=None, name="odata.nextLink")


class MNodePage(msgspec.Struct, frozen=True):
    value: tuple[MNode, ...] = ()
    next_link: str | None = msgspec.field(default=None, name="odata.nextLink")


MSGSPEC = {
    "jobs": msgspec.json.Decoder(MJobPage, strict=False).decode,
    "tasks": msgspec.json.Decoder(MTaskPage, strict=False).decode,
    "nodes": msgspec.json.Decoder(MNodePage, strict=False).decode,
    "job": msgspec.json.Decoder(MJob, strict=False).decode,
    "task": msgspec.json.Decoder(MTask, strict=False).decode,
    "counts": msgspec.json.Decoder(MTaskCountsResult, strict=False).decode,
}
