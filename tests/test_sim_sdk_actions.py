"""The official azure-batch SDK (15.x) acting on the simulator over real loopback HTTP: terminate,
disable and enable a job; terminate, reactivate and delete a task; the service's refusals; ETags.

Each test gets a fresh frozen world (time_scale 0), moved on by hand, so that what each action does can be
read at the instant it was made and again once the service has had time to finish it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_support import sdk_for

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.batch.models import BatchJobDisableOptions  # noqa: E402
from azure.batch.models._models import BatchJobTerminateOptions  # noqa: E402 - not exported in 15.1
from azure.core import MatchConditions  # noqa: E402
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402

POLL = 0.05  # seconds between the SDK's LRO polls (its default is 5)


@pytest.fixture
def served() -> Iterator[tuple[Simulator, azure_batch.BatchClient]]:
    sim = Simulator(SimConfig(seed=9, jobs=30, instances=16, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, sdk_for(sim, server.url)


def running_tasks(sdk: azure_batch.BatchClient, job_id: str) -> list[str]:
    return [t.id for t in sdk.list_tasks(job_id) if t.state.value == "running"]


def active_job_with_running_tasks(sdk: azure_batch.BatchClient) -> str:
    for job in sdk.list_jobs(filter="state eq 'active'"):
        if not job.id.startswith("mpi") and running_tasks(sdk, job.id):
            return job.id
    raise AssertionError("no active job with running tasks in the world")


def code_of(info: pytest.ExceptionInfo[HttpResponseError]) -> tuple[int | None, str | None]:
    return info.value.status_code, info.value.error.code if info.value.error else None


def test_terminate_then_reactivate_a_task(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    task_id = running_tasks(sdk, job_id)[0]

    assert sdk.terminate_task(job_id, task_id) is None
    task = sdk.get_task(job_id, task_id)
    assert task.state.value == "completed" and task.execution_info.result.value == "failure"
    assert task.execution_info.failure_info.code == "TaskEnded"
    with pytest.raises(HttpResponseError) as info:
        sdk.terminate_task(job_id, task_id)
    assert code_of(info) == (409, "TaskCompleted")

    sdk.reactivate_task(job_id, task_id)
    task = sdk.get_task(job_id, task_id)
    assert task.state.value == "active" and task.previous_state.value == "completed"
    assert task.execution_info.retry_count == 0
    assert task.execution_info.exit_code is None and task.execution_info.failure_info is None
    with pytest.raises(HttpResponseError) as info:
        sdk.reactivate_task(job_id, task_id)  # active: nothing to reactivate
    assert code_of(info) == (409, "TaskNotCompleted")

    sim.clock.advance(3600)  # it runs again and ends, one way or the other
    assert sdk.get_task(job_id, task_id).state.value == "completed"
    succeeded = next(
        t for t in sdk.list_tasks(job_id) if t.execution_info.result and t.execution_info.exit_code == 0
    )
    with pytest.raises(HttpResponseError) as info:
        sdk.reactivate_task(job_id, succeeded.id)
    assert code_of(info) == (409, "TaskSucceeded")


def test_terminating_a_multi_instance_task_completes_its_ranks(
    served: tuple[Simulator, azure_batch.BatchClient],
) -> None:
    _sim, sdk = served
    mpi = next(j.id for j in sdk.list_jobs() if j.id.startswith("mpi"))
    solver = next(
        t for t in sdk.list_tasks(mpi) if t.state.value == "running" and t.multi_instance_settings is not None
    )
    before = list(sdk.list_subtasks(mpi, solver.id))
    assert any(s.state.value == "running" for s in before)
    sdk.terminate_task(mpi, solver.id)
    after = list(sdk.list_subtasks(mpi, solver.id))
    assert [s.id for s in after] == [s.id for s in before]
    assert {s.state.value for s in after} == {"completed"}
    stopped = [s for s in after if s.id in {b.id for b in before if b.state.value == "running"}]
    assert stopped and all(s.failure_info.code == "TaskEnded" for s in stopped)


def test_terminate_a_job_with_a_reason(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    running = running_tasks(sdk, job_id)
    poller = sdk.begin_terminate_job(
        job_id, BatchJobTerminateOptions(termination_reason="operator: bad input"), polling_interval=POLL
    )
    assert sdk.get_job(job_id).state.value == "terminating"
    sim.clock.advance(5)
    poller.result(timeout=20)
    job = sdk.get_job(job_id)
    assert job.state.value == "completed" and job.previous_state.value == "terminating"
    assert job.execution_info.termination_reason == "operator: bad input"
    stopped = {t.id: t for t in sdk.list_tasks(job_id) if t.id in running}
    assert all(t.state.value == "completed" and t.execution_info.failure_info for t in stopped.values())
    with pytest.raises(HttpResponseError) as info:
        # (azure-batch 15.1 cannot send it without a reason: options=None, or empty options,
        # fail to build the request: "content_type if options else None")
        sdk.begin_terminate_job(job_id, BatchJobTerminateOptions(termination_reason="again"))
    assert code_of(info) == (409, "JobCompleted")


def test_disable_with_requeue_then_enable(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    running = set(running_tasks(sdk, job_id))
    poller = sdk.begin_disable_job(
        job_id, BatchJobDisableOptions(disable_tasks="requeue"), polling_interval=POLL
    )
    assert sdk.get_job(job_id).state.value == "disabling"
    sim.clock.advance(5)
    poller.result(timeout=20)
    assert sdk.get_job(job_id).state.value == "disabled"
    requeued = [t for t in sdk.list_tasks(job_id) if t.id in running]
    assert {t.state.value for t in requeued} == {"active"}
    assert all(t.execution_info.requeue_count == 1 for t in requeued)

    sdk.begin_enable_job(job_id, polling_interval=POLL).result(timeout=20)
    assert sdk.get_job(job_id).state.value == "active"
    sim.clock.advance(3)  # they start over a moment after the enable
    restarted = [t for t in sdk.list_tasks(job_id) if t.id in running]
    assert {t.state.value for t in restarted} <= {"preparing", "running"}
    with pytest.raises(HttpResponseError) as info:
        sdk.begin_enable_job(job_id)  # not disabled
    assert code_of(info) == (409, "OperationInvalidForCurrentState")


def test_disable_with_terminate_fails_the_running_tasks(
    served: tuple[Simulator, azure_batch.BatchClient],
) -> None:
    sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    running = set(running_tasks(sdk, job_id))
    sdk.begin_disable_job(job_id, BatchJobDisableOptions(disable_tasks="terminate"), polling_interval=POLL)
    sim.clock.advance(5)
    stopped = [t for t in sdk.list_tasks(job_id) if t.id in running]
    assert {(t.state.value, t.execution_info.result.value) for t in stopped} == {("completed", "failure")}


def test_delete_a_task(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    _sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    task_id = next(iter(sdk.list_tasks(job_id))).id
    assert sdk.delete_task(job_id, task_id) is None
    with pytest.raises(ResourceNotFoundError) as info:
        sdk.get_task(job_id, task_id)
    assert info.value.error.code == "TaskNotFound"
    assert task_id not in {t.id for t in sdk.list_tasks(job_id)}
    with pytest.raises(ResourceNotFoundError):
        sdk.delete_task(job_id, task_id)


def test_an_etag_guards_an_action(served: tuple[Simulator, azure_batch.BatchClient]) -> None:
    _sim, sdk = served
    job_id = active_job_with_running_tasks(sdk)
    task_id = running_tasks(sdk, job_id)[0]
    etag = sdk.get_task(job_id, task_id).etag  # the SDK sends it quoted: the service's is bare
    with pytest.raises(HttpResponseError) as info:
        sdk.terminate_task(
            job_id, task_id, etag="0x8D000000000000", match_condition=MatchConditions.IfNotModified
        )
    assert code_of(info) == (412, "ConditionNotMet")
    sdk.terminate_task(job_id, task_id, etag=etag, match_condition=MatchConditions.IfNotModified)
    assert sdk.get_task(job_id, task_id).state.value == "completed"
