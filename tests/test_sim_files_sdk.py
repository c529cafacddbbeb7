"""The official SDK reads the simulator's files as batchtui does: the same listings, properties
and bytes, ranged or whole, through the task-files API and through a rank's node."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sim_support import ours, sdk_for

from batchtui.batch.files import TaskFileRef, rank_file
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.core.exceptions import HttpResponseError  # noqa: E402

JOB, TASK = "mpi-cfd-0001", "solver-00"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, server.url


def test_task_files_read_the_same_through_the_sdk(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    listed = list(sdk.list_task_files(JOB, TASK, recursive=True))  # type: ignore[attr-defined]
    names = {f.name: f for f in listed}
    assert {"stdout.txt", "stderr.txt", "wd", "wd\\solver.trace"} <= set(names)
    assert names["wd"].is_directory and names["wd"].properties is None
    props = sdk.get_task_file_properties(JOB, TASK, "stdout.txt")  # type: ignore[attr-defined]
    assert (
        props.is_directory is False and props.content_length == names["stdout.txt"].properties.content_length
    )
    sdk_bytes = b"".join(sdk.download_task_file(JOB, TASK, "stdout.txt"))  # type: ignore[attr-defined]
    sdk_range = b"".join(sdk.download_task_file(JOB, TASK, "wd/solver.trace", ocp_range="bytes=1000-1999"))  # type: ignore[attr-defined]

    async def read() -> tuple[bytes, bytes, int, list[str]]:
        async with ours(sim, url) as client:
            ref = TaskFileRef(JOB, TASK, "stdout.txt")
            p = await client.get_file_properties(ref)
            whole = (await client.read_file_range(ref, 0, p.content_length)).data
            trace = (await client.read_file_range(ref.sibling("wd/solver.trace"), 1000, 2000)).data
            files = [f.name for f in await client.list_task_files(JOB, TASK, recursive=True)]
            return whole, trace, p.content_length, files

    whole, trace, length, our_names = asyncio.run(read())
    assert sdk_bytes == whole and len(whole) == length == props.content_length
    assert sdk_range == trace and len(trace) == 1000
    assert our_names == [f.name for f in listed]


def test_a_ranks_files_read_the_same_through_its_node(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    rank = next(s for s in sdk.list_subtasks(JOB, TASK) if s.id == 5)  # type: ignore[attr-defined]
    pool, node, root = rank.node_info.pool_id, rank.node_info.node_id, rank.node_info.task_root_directory
    path = root + "\\stderr.txt"  # as Microsoft's MPI sample composes it
    props = sdk.get_node_file_properties(pool, node, path)  # type: ignore[attr-defined]
    sdk_err = b"".join(sdk.download_node_file(pool, node, path))  # type: ignore[attr-defined]
    sdk_part = b"".join(sdk.download_node_file(pool, node, path, ocp_range="bytes=5-64"))  # type: ignore[attr-defined]
    listed = [
        f.name for f in sdk.list_node_files(pool, node, recursive=True, filter=f"startswith(name,'{root}')")
    ]  # type: ignore[attr-defined]
    assert b"Segmentation fault" in sdk_err and props.content_length == len(sdk_err)
    assert sdk_part == sdk_err[5:65]
    assert f"{root}\\stdout.txt" in listed and f"{root}\\stderr.txt" in listed

    async def read() -> tuple[bytes, bytes, list[str]]:
        async with ours(sim, url) as client:
            subtasks = await client.list_subtasks(JOB, TASK)
            ref = rank_file(next(s for s in subtasks if s.id == 5).node_info, "stderr.txt", 5)
            size = (await client.get_file_properties(ref)).content_length
            whole = (await client.read_file_range(ref, 0, size)).data
            part = (await client.read_file_range(ref, 5, 65)).data
            files = [f.name for f in await client.list_node_files(pool, node, recursive=True, prefix=root)]
            return whole, part, files

    whole, part, our_listed = asyncio.run(read())
    assert whole == sdk_err and part == sdk_part and our_listed == listed


def test_the_sdk_sees_the_same_refusals(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    with pytest.raises(HttpResponseError) as info:
        b"".join(sdk.download_task_file("etl-nightly-0003", "shard-0048", "stdout.txt"))  # type: ignore[attr-defined]
    assert info.value.status_code == 409
    with pytest.raises(HttpResponseError) as info:
        b"".join(sdk.download_task_file(JOB, TASK, "nope.txt"))  # type: ignore[attr-defined]
    # (the SDK streams downloads and does not read an error body: the status is what it sees)
    assert info.value.status_code == 404
    with pytest.raises(HttpResponseError) as info:
        sdk.get_task_file_properties(JOB, TASK, "nope.txt")  # type: ignore[attr-defined]
    assert info.value.status_code == 404
