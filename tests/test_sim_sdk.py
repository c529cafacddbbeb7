"""The official azure-batch SDK (15.x) against the simulator over real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.core.credentials import AzureNamedKeyCredential  # noqa: E402
from azure.core.exceptions import HttpResponseError  # noqa: E402

BatchClient = azure_batch.BatchClient


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimConfig(seed=9, jobs=30, instances=16, time_scale=0, max_page=50))
    with BackgroundServer(sim) as server:
        yield sim, server.url


def test_sdk_reads_everything_the_dashboard_needs(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = BatchClient(endpoint=url, credential=AzureNamedKeyCredential(sim.config.account, sim.config.key))
    jobs = list(sdk.list_jobs())
    assert [j.id for j in jobs] == sim.job_ids()
    assert {j.state.value for j in jobs} >= {"active", "completed", "disabled", "terminating"}
    active = list(sdk.list_jobs(filter="state eq 'active'", select=["id", "state"], max_results=5))
    assert active and all(j.state.value == "active" for j in active)

    mpi = next(j.id for j in jobs if j.id.startswith("mpi"))
    counts = sdk.get_job_task_counts(mpi, timeout=20)
    assert counts.task_counts.succeeded + counts.task_counts.failed == counts.task_counts.completed

    tasks = list(sdk.list_tasks(mpi))
    assert len(tasks) >= 3
    largest = max(tasks, key=lambda t: t.multi_instance_settings.number_of_instances)
    assert largest.multi_instance_settings.number_of_instances == 16
    task = sdk.get_task(mpi, largest.id)
    assert task.id == largest.id and task.node_info.node_id.startswith("tvm-")

    subtasks = list(sdk.list_subtasks(mpi, largest.id))
    assert [s.id for s in subtasks] == list(range(1, 16))
    assert len({s.node_info.node_id for s in subtasks}) == 15

    whole = [t.id for t in sdk.list_tasks("render-shot-0000")]
    assert len(whole) > 7
    paged = [t.id for t in sdk.list_tasks("render-shot-0000", max_results=7)]  # follows odata.nextLink
    assert paged == whole


def test_sdk_gets_403_with_a_wrong_key(served: tuple[Simulator, str]) -> None:
    sim, url = served
    wrong = BatchClient(endpoint=url, credential=AzureNamedKeyCredential(sim.config.account, "d3Jvbmc="))
    with pytest.raises(HttpResponseError) as info:
        list(wrong.list_jobs())
    assert info.value.status_code == 403
    assert "AuthenticationFailed" in str(info.value)
