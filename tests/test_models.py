"""Every payload in tests/data parses, with the real values in it checked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchtui.batch.errors import ModelError, strip_request_tail
from batchtui.batch.models import (
    Statistics,
    parse_datetime,
    parse_duration,
    parse_job,
    parse_job_page,
    parse_task_counts,
)
from batchtui.batch.task_models import parse_subtask_page, parse_task, parse_task_page
from tests.conftest import DATA, load_data

# TimeSpan.MaxValue, the service's "unlimited" (10675199.02:48:05.4775807), to the microsecond.
UNLIMITED = timedelta(days=10675199, hours=2, minutes=48, seconds=5, microseconds=477581)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def spec(name: str) -> Any:
    return load_data(name)["responses"]["200"]["body"]


def recorded(name: str, index: int = 0) -> Any:
    return load_data(name)["Entries"][index]["ResponseBody"]


def test_spec_list_jobs() -> None:
    page = parse_job_page(spec("Jobs_ListJobs.json"))
    assert page.next_link is None
    (job,) = page.items
    assert (job.id, job.state, job.previous_state) == ("jobId", "active", "disabled")
    assert job.url == "https://account.region.batch.azure.com/jobs/jobId"
    assert job.e_tag == "0x8D4100FC46D5BF4"
    assert job.last_modified == utc(2016, 11, 19, 0, 5, 27, 213771)  # 7 digits, truncated
    assert job.previous_state_transition_time == utc(2016, 11, 19, 0, 5, 26, 887770)  # 5 digits
    assert job.creation_time == utc(2016, 11, 19, 0, 5, 25, 311915)
    assert (job.priority, job.max_parallel_tasks, job.max_task_retry_count) == (0, -1, 0)
    assert job.allow_task_preemption is False and job.uses_task_dependencies is False
    assert job.max_wall_clock_time == UNLIMITED
    assert job.pool_id == job.effective_pool_id == "poolId"
    assert (job.on_all_tasks_complete, job.on_task_failure) == ("noaction", "noaction")
    assert job.execution_info is not None
    assert job.execution_info.start_time == utc(2016, 11, 19, 0, 5, 25, 330910)
    assert job.execution_info.end_time is None and job.execution_info.pool_id == "poolId"


def test_spec_get_job() -> None:
    job = parse_job(spec("Jobs_GetJob.json"))
    assert (job.id, job.state, job.previous_state) == ("jobId", "completed", "active")
    assert job.execution_info is not None
    assert job.execution_info.terminate_reason == "UserTerminate"
    assert job.execution_info.end_time == utc(2016, 11, 19, 0, 5, 27, 578581)
    assert job.max_wall_clock_time == UNLIMITED


def test_spec_task_counts() -> None:
    result = parse_task_counts(spec("Jobs_GetJobTaskCounts.json"))
    c = result.task_counts
    assert (c.active, c.running, c.completed, c.succeeded, c.failed) == (5, 7, 4, 2, 2)
    assert c.total == 16 and c.percent_complete == 25.0
    assert result.task_slot_counts.to_wire() == {
        "active": 5,
        "running": 7,
        "completed": 4,
        "succeeded": 2,
        "failed": 2,
    }


def test_spec_list_tasks() -> None:
    page = parse_task_page(spec("Tasks_ListTasks.json"))
    assert [t.id for t in page.items] == ["task1", "task2"]
    t1, t2 = page.items
    assert t1.command_line == "cmd /c echo task1" and t1.state == "active"
    assert t1.required_slots == 2
    assert t1.constraints is not None and t2.constraints is not None
    assert t1.constraints.max_wall_clock_time == t1.constraints.retention_time == UNLIMITED
    assert (t1.constraints.max_task_retry_count, t2.constraints.max_task_retry_count) == (0, 3)
    assert t1.execution_info is not None
    assert (t1.execution_info.retry_count, t1.execution_info.requeue_count) == (0, 0)
    assert t1.exit_code is None and t1.result is None and not t1.is_multi_instance
    assert t2.last_modified == utc(2016, 11, 21, 22, 43, 32, 188038)


def test_spec_get_task_multi_instance() -> None:
    task = parse_task(spec("Tasks_GetTask.json"))
    assert task.id == "testTask" and task.command_line == "cmd /c hostname"
    assert task.is_multi_instance
    assert task.multi_instance_settings is not None
    assert task.multi_instance_settings.number_of_instances == 3
    assert task.multi_instance_settings.coordination_command_line == "cmd /c echo coordinating"
    assert task.multi_instance_settings.common_resource_files == ()
    assert task.required_slots == 2


def test_spec_subtasks() -> None:
    page = parse_subtask_page(spec("Tasks_ListSubTasks.json"))
    s1, s2 = page.items
    assert (s1.id, s1.state, s1.previous_state, s1.exit_code) == (1, "completed", "running", 0)
    assert s1.start_time == utc(2016, 9, 6, 6, 59, 16, 313927)
    assert s1.end_time == utc(2016, 9, 6, 6, 59, 20, 24202)
    assert s1.node_info is not None
    assert s1.node_info.node_id == "tvm-2544493925_3-20160905t051718z"
    assert s1.node_info.pool_id == "mpiPool"
    assert s1.node_info.affinity_id == "TVM:tvm-2544493925_3-20160905t051718z"
    assert s1.node_info.task_root_directory == "\\workitems\\jobId\\job-1\\taskId\\1"  # literal backslashes
    assert s1.node_info.task_root_directory_url is not None
    assert s1.node_info.task_root_directory_url.endswith("/files//workitems/jobId/job-1/taskId/1")
    assert (s2.id, s2.state, s2.exit_code, s2.end_time) == (2, "running", None, None)
    assert s2.node_info is not None and s2.node_info.node_id == "tvm-2544493925_2-20160905t051718z"


def test_recorded_list_jobs() -> None:
    page = parse_job_page(recorded("recorded_js_Jobs_ListJobs.json"))
    assert [j.id for j in page.items] == ["jssdkJob-Basic4caa", "jssdkJob-Basicc131"]
    a, b = page.items
    assert (a.priority, a.max_task_retry_count, a.pool_id) == (600, 3, "jssdkPool-Basic5254")
    assert (b.priority, b.max_task_retry_count, b.pool_id) == (0, 0, "jssdkPool-Basicca42")
    assert a.creation_time == utc(2026, 2, 3, 0, 0, 18, 539054)
    assert a.e_tag == "0x8DE62B7380ACE50"
    assert a.max_wall_clock_time == UNLIMITED


def test_recorded_task_counts() -> None:
    result = parse_task_counts(recorded("recorded_js_Jobs_GetJobTaskCounts.json"))
    assert result.task_counts.to_wire() == {
        "active": 0,
        "running": 0,
        "completed": 5,
        "succeeded": 2,
        "failed": 3,
    }
    assert result.task_slot_counts.completed == 5 and result.task_counts.percent_complete == 100.0


def test_recorded_get_task() -> None:
    task = parse_task(recorded("recorded_js_Tasks_GetTask.json"))
    assert task.id == "jssdkJob-Basic2dd7-task1"
    assert (task.state, task.previous_state) == ("active", "completed")
    assert task.creation_time == utc(2026, 2, 3, 1, 9, 18, 352827)
    assert task.e_tag == "0x8DE62C0DBC88F32"
    assert task.command_line == "cmd /c echo hello > taskHello.txt"
    assert task.constraints is not None
    assert task.constraints.retention_time == timedelta(days=7)
    assert task.constraints.max_wall_clock_time == UNLIMITED
    assert task.constraints.max_task_retry_count == 3 and task.required_slots == 1


def test_recorded_list_tasks_ignores_unknown_properties() -> None:
    page = parse_task_page(recorded("recorded_js_Tasks_ListTasks.json"))
    assert [t.id for t in page.items] == ["jssdkJob-Basic2dd7-task1", "jssdkJob-Basic2dd7-task2"]
    t2 = page.items[1]  # carries outputFiles, which the model does not hold
    assert t2.command_line == "cmd /c echo hello world"
    assert t2.creation_time == utc(2026, 2, 3, 1, 9, 18, 770372)  # 6 digits
    assert t2.constraints is not None and t2.constraints.max_task_retry_count == 0


def test_recorded_empty_subtask_page() -> None:
    entry = load_data("recorded_net_Tasks_ListSubTasks_entry.json")
    assert entry["RequestUri"].endswith("/subtasksinfo?api-version=2025-06-01")
    page = parse_subtask_page(entry["ResponseBody"])
    assert page.items == () and page.next_link is None


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("recorded_py_errors_PoolNotFound_JobExists.json", ["PoolNotFound", None, "JobExists"]),
        ("recorded_js_error_InvalidQueryParameterValue.json", ["InvalidQueryParameterValue"]),
        (
            "recorded_js_error_JobPreparationTaskOrReleaseTaskNotSpecified.json",
            ["JobPreparationTaskOrReleaseTaskNotSpecified"],
        ),
    ],
)
def test_recorded_error_bodies_carry_the_request_id_tail(name: str, codes: list[str | None]) -> None:
    """The tail strip_request_tail removes is exactly the request-id header (and a 7-digit time)."""
    entries = load_data(name)["Entries"]
    assert [e["ResponseBody"]["code"] if e["ResponseBody"] else None for e in entries] == codes
    for entry in entries:
        body = entry["ResponseBody"]
        if not body:
            continue
        value = body["message"]["value"]
        tail = re.search(r"\nRequestId:(.+)\nTime:(\d{4}-\d\d-\d\dT[\d:]+\.\d{7}Z)$", value)
        assert tail is not None
        assert tail.group(1) == entry["ResponseHeaders"]["request-id"]
        text = strip_request_tail(value)
        assert "RequestId" not in text and text.endswith(".") and value.startswith(text)


# Job statistics exactly as the REST docs' "Get job statistics" example shows them: the int64
# counters are JSON strings (as in every real recording), readIOGiB too.
JOB_STATS = {
    "url": "https://myaccount.myregion.batch.core.windows.net/lifetimejobstats",
    "startTime": "2014-08-01T18:30:00.4345729Z",
    "lastUpdateTime": "2014-08-04T18:30:00.4345729Z",
    "userCPUTime": "PT0S",
    "kernelCPUTime": "PT0S",
    "wallClockTime": "PT0S",
    "readIOps": "0",
    "writeIOps": "0",
    "readIOGiB": "10.0",
    "writeIOGiB": "5.0",
    "numSucceededTasks": "0",
    "numFailedTasks": "0",
    "numTaskRetries": "0",
    "waitTime": "PT0S",
}


def test_int64_statistics_arrive_as_strings() -> None:
    stats = Statistics.parse({**JOB_STATS, "readIOps": "9223372036854775807", "numFailedTasks": "12"})
    assert stats.read_iops == 9223372036854775807 and stats.write_iops == 0
    assert stats.num_failed_tasks == 12 and stats.num_succeeded_tasks == 0 and stats.num_task_retries == 0
    assert (stats.read_io_gib, stats.write_io_gib) == (10.0, 5.0)
    assert stats.start_time == utc(2014, 8, 1, 18, 30, 0, 434572)
    assert stats.wall_clock_time == timedelta(0)
    job = parse_job({"id": "j", "stats": JOB_STATS})
    assert job.stats is not None and job.stats.read_iops == 0


def test_select_drops_required_fields_and_unknown_enums_are_kept() -> None:
    page = parse_job_page({"value": [{"id": "j1"}, {"state": "hibernating"}]})
    assert page.items[0].id == "j1" and page.items[0].state is None
    assert page.items[1].id is None and page.items[1].state == "hibernating"
    task = parse_task({"id": "t", "executionInfo": {"result": "partial", "exitCode": -1073741510}})
    assert task.result == "partial" and task.exit_code == -1073741510


def test_every_data_file_is_covered() -> None:
    """A new payload in tests/data must get a test here (this list is the checklist)."""
    covered = {
        "Jobs_ListJobs.json",
        "Jobs_GetJob.json",
        "Jobs_GetJobTaskCounts.json",
        "Tasks_ListTasks.json",
        "Tasks_GetTask.json",
        "Tasks_ListSubTasks.json",
        "recorded_js_Jobs_ListJobs.json",
        "recorded_js_Jobs_GetJobTaskCounts.json",
        "recorded_js_Tasks_GetTask.json",
        "recorded_js_Tasks_ListTasks.json",
        "recorded_net_Tasks_ListSubTasks_entry.json",
        "recorded_py_errors_PoolNotFound_JobExists.json",
        "recorded_js_error_InvalidQueryParameterValue.json",
        "recorded_js_error_JobPreparationTaskOrReleaseTaskNotSpecified.json",
        # pools and nodes: tests/test_pools_models.py
        "recorded_js_Pools_ListPools.json",
        "recorded_js_Pools_GetPool.json",
        "recorded_js_Pools_ListPoolNodeCounts.json",
        "recorded_js_Nodes_GetNode.json",
        "recorded_js_Nodes_ListNodes.json",
        "recorded_net_Nodes_ListNodes_recentTasks.json",
        "recorded_net_Nodes_GetNode_rebooting_then_starting.json",
        # file APIs: tests/test_files_client.py
        "Tasks_ListTaskFiles.json",
        "Tasks_GetTaskFileProperties.json",
        "recorded_py_Files_GetTaskFileProperties.json",
        "recorded_py_Files_GetNodeFileProperties.json",
        "recorded_py_Files_ListTaskFiles.json",
        "recorded_py_Files_ListNodeFiles_recursive.json",
        "recorded_java_Files_GetTaskFile_linux.json",
        "recorded_java_Files_GetTaskFileProperties_linux.json",
        "recorded_java_Files_ListTaskFiles_linux.json",
        "recorded_net_error_FileNotFound_GetTaskFile.json",
    }
    assert {p.name for p in DATA.glob("*.json")} == covered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-03T01:09:18.3528274Z", utc(2026, 2, 3, 1, 9, 18, 352827)),
        ("2016-11-19T00:05:25.311915Z", utc(2016, 11, 19, 0, 5, 25, 311915)),
        ("2016-11-19T00:05:25Z", utc(2016, 11, 19, 0, 5, 25)),
        ("2016-11-19T02:05:25.5+02:00", utc(2016, 11, 19, 0, 5, 25, 500000)),
    ],
)
def test_datetimes(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P10675199DT2H48M5.4775807S", UNLIMITED),
        ("P7D", timedelta(days=7)),
        ("PT15M", timedelta(minutes=15)),
        ("PT0S", timedelta(0)),
        ("PT1H2M3.5S", timedelta(hours=1, minutes=2, seconds=3.5)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-03T01:09:18Z", ""])
def test_bad_datetimes_raise_model_error(bad: str) -> None:
    with pytest.raises(ModelError):
        parse_datetime(bad, "job.creationTime")
