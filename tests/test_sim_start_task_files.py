"""A node's start task output through the node-files API, as the official SDK and batchtui read
it from a loopback simulator: the files under ``startup``, their bytes whole and ranged, a
failed start task's stderr agreeing with its ``startTaskInfo``, a running one's stdout growing,
and the refusals of a node that is gone or in no state to serve files."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from sim_support import ours, sdk_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.files import FileUnavailable, start_task_file
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

azure_batch = pytest.importorskip("azure.batch")
from azure.core.exceptions import HttpResponseError  # noqa: E402

V = "api-version=2025-06-01"
POOL = "pool-hpc-a"


@pytest.fixture
def served() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    with BackgroundServer(sim) as server:
        yield sim, server.url


def node_in(sdk: object, pool: str, state: str) -> object:
    return next(n for n in sdk.list_nodes(pool) if n.state == state)  # type: ignore[attr-defined]


def test_the_start_task_files_read_the_same_through_the_sdk_and_batchtui(
    served: tuple[Simulator, str],
) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    node = node_in(sdk, POOL, "idle").id  # type: ignore[attr-defined]
    listed = {
        f.name: f
        for f in sdk.list_node_files(POOL, node, recursive=True, filter="startswith(name,'startup')")  # type: ignore[attr-defined]
    }
    assert set(listed) == {"startup", "startup\\stdout.txt", "startup\\stderr.txt", "startup\\wd"}
    assert listed["startup\\wd"].is_directory and listed["startup\\wd"].properties is None
    props = sdk.get_node_file_properties(POOL, node, "startup/stdout.txt")  # type: ignore[attr-defined]
    whole = b"".join(sdk.download_node_file(POOL, node, "startup/stdout.txt"))  # type: ignore[attr-defined]
    part = b"".join(sdk.download_node_file(POOL, node, "startup\\stdout.txt", ocp_range="bytes=10-99"))  # type: ignore[attr-defined]
    assert props.content_length == len(whole) == listed["startup\\stdout.txt"].properties.content_length
    assert part == whole[10:100]
    # the pool's start task installs openmpi-bin and mounts the scratch disk: its output says so
    assert b"Setting up openmpi-bin" in whole and b"mounted /mnt/scratch" in whole

    async def read() -> tuple[bytes, bytes, int]:
        async with ours(sim, url) as client:
            ref = start_task_file(POOL, node, "stdout.txt")
            size = (await client.get_file_properties(ref)).content_length
            ours_whole = (await client.read_file_range(ref, 0, size)).data
            ours_part = (await client.read_file_range(ref, 10, 100)).data
            return ours_whole, ours_part, size

    ours_whole, ours_part, size = asyncio.run(read())
    assert (ours_whole, ours_part, size) == (whole, part, props.content_length)


def test_a_failed_start_task_says_why_on_stderr_and_its_exit_code_agrees(
    served: tuple[Simulator, str],
) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    failed = node_in(sdk, POOL, "starttaskfailed")
    info = failed.start_task_info  # type: ignore[attr-defined]
    assert (info.result, info.exit_code, info.retry_count) == ("failure", 100, 2)
    stderr = b"".join(sdk.download_node_file(POOL, failed.id, "startup/stderr.txt"))  # type: ignore[attr-defined]
    # apt-get exits 100 when it cannot take the dpkg lock: once per try (the first and 2 retries)
    assert stderr.count(b"E: Could not get lock /var/lib/dpkg/lock-frontend") == 1 + info.retry_count
    written = sdk.get_node_file_properties(POOL, failed.id, "startup/stderr.txt")  # type: ignore[attr-defined]
    assert abs((written.last_modified - info.last_retry_time).total_seconds()) < 2  # the last try's words
    stdout = sdk.get_node_file_properties(POOL, failed.id, "startup/stdout.txt")  # type: ignore[attr-defined]
    assert stdout.content_length == 0  # `apt-get ... && ./mount-scratch.sh`: nothing ran after it


def test_a_running_start_task_writes_its_stdout_as_it_goes(served: tuple[Simulator, str]) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    # pool-hpc-b is resizing: its new nodes come up one after another and run the start task
    node = None
    for _ in range(120):
        sim.clock.advance(5)
        node = next(
            (
                n
                for n in sdk.list_nodes("pool-hpc-b")  # type: ignore[attr-defined]
                if n.state == "waitingforstarttask"
                and n.start_task_info
                and n.start_task_info.state == "running"
            ),
            None,
        )
        if node is not None:
            break
    assert node is not None, "no node of the resizing pool ran its start task"
    seen = [b"".join(sdk.download_node_file("pool-hpc-b", node.id, "startup/stdout.txt"))]  # type: ignore[attr-defined]
    while sdk.get_node("pool-hpc-b", node.id).start_task_info.state == "running":  # type: ignore[attr-defined]
        sim.clock.advance(2)
        seen.append(b"".join(sdk.download_node_file("pool-hpc-b", node.id, "startup/stdout.txt")))  # type: ignore[attr-defined]
    sizes = [len(s) for s in seen]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] and len(set(sizes)) > 2
    assert all(later.startswith(earlier) for earlier, later in zip(seen, seen[1:], strict=False))
    assert seen[-1].endswith(b"setup-node.sh: node ready\n")
    assert sdk.get_node("pool-hpc-b", node.id).state == "idle"  # type: ignore[attr-defined]


def test_a_node_that_cannot_serve_or_is_gone_is_refused_as_the_service_does(
    served: tuple[Simulator, str],
) -> None:
    sim, url = served
    sdk = sdk_for(sim, url)
    rebooting = node_in(sdk, POOL, "rebooting").id  # type: ignore[attr-defined]
    with pytest.raises(HttpResponseError) as not_ready:
        list(sdk.list_node_files(POOL, rebooting))  # type: ignore[attr-defined]
    assert not_ready.value.status_code == 409 and "NodeNotReady" in str(not_ready.value)
    with pytest.raises(HttpResponseError) as head:
        sdk.get_node_file_properties(POOL, rebooting, "startup/stdout.txt")  # type: ignore[attr-defined]
    assert head.value.status_code == 409
    with pytest.raises(HttpResponseError) as missing:
        list(sdk.list_node_files(POOL, "tvm-0_1-20260101t000000z"))  # type: ignore[attr-defined]
    assert missing.value.status_code == 404 and "NodeNotFound" in str(missing.value)
    idle = node_in(sdk, POOL, "idle").id  # type: ignore[attr-defined]
    with pytest.raises(HttpResponseError) as no_file:
        sdk.get_node_file_properties(POOL, idle, "startup/nope.txt")  # type: ignore[attr-defined]
    assert no_file.value.status_code == 404

    async def refusals() -> list[str | None]:
        async with ours(sim, url) as client:
            out: list[str | None] = []
            for node, name in ((rebooting, "stdout.txt"), (idle, "nope.txt")):
                try:
                    await client.get_file_properties(start_task_file(POOL, node, name))
                except FileUnavailable as exc:
                    out.append(exc.reason)
            return out

    assert asyncio.run(refusals()) == ["node-busy", "not-found"]
    sim.remove_node(POOL, idle)
    with pytest.raises(HttpResponseError) as gone:
        list(sdk.list_node_files(POOL, idle))  # type: ignore[attr-defined]
    assert gone.value.status_code == 404 and "NodeNotFound" in str(gone.value)


async def test_the_head_and_an_encoded_path_on_the_wire() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    async with httpx.AsyncClient(
        base_url="http://127.0.0.1:8765",
        transport=httpx.ASGITransport(app=sim),
        auth=SharedKeyAuth(sim.config.account, sim.config.key),
    ) as http:
        nodes = (await http.get(f"/pools/{POOL}/nodes?{V}&$filter=state eq 'idle'")).json()["value"]
        base = f"/pools/{POOL}/nodes/{nodes[0]['id']}/files"
        head = await http.head(f"{base}/startup%5Cstdout.txt?{V}")  # encoded as the SDK encodes it
        assert head.status_code == 200 and head.content == b""
        assert head.headers["ocp-batch-file-isdirectory"] == "False"
        assert head.headers["ocp-batch-file-url"] == quote(
            f"http://127.0.0.1:8765{base}/startup\\stdout.txt", safe=""
        )
        got = await http.get(f"{base}/startup%2Fstdout.txt?{V}", headers={"ocp-range": "bytes=0-9"})
        assert got.status_code == 200 and len(got.content) == 10
        top = (await http.get(f"{base}?{V}")).json()["value"]
        assert "startup" in [f["name"] for f in top] and "startup\\stdout.txt" not in [f["name"] for f in top]
