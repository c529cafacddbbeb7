"""The simulator's file routes on the wire, as the service answers them (NEXT-APIS §1, §2, §7):
listings, HEAD header spellings, ranges answered 200, encoded paths, each rank's files under
its own root on its own node, and the state errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote, unquote

import httpx
import pytest

from batchtui.batch.auth import SharedKeyAuth
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.file_tree import RETENTION

V = "api-version=2025-06-01"
RUNNING = ("mpi-cfd-0001", "solver-00")  # rank 5 died (exit 139), the others hang
FAILED = ("etl-nightly-0003", "shard-0015")  # ended in a Python traceback (not on the bad node)
ACTIVE = ("etl-nightly-0003", "shard-0048")  # not started: no node yet


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimConfig(seed=1, jobs=40, time_scale=0))


@pytest.fixture
async def http(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url="http://127.0.0.1:8765",
        transport=httpx.ASGITransport(app=sim),
        auth=SharedKeyAuth(sim.config.account, sim.config.key),
    ) as client:
        yield client


def files(job: str, task: str, path: str = "") -> str:
    return f"/jobs/{job}/tasks/{task}/files" + (f"/{quote(path, safe='')}" if path else "")


async def test_a_task_listing_is_shaped_as_recorded(http: httpx.AsyncClient) -> None:
    r = await http.get(f"{files(*FAILED)}?{V}")
    assert r.status_code == 200
    body = r.json()
    assert body["odata.metadata"].endswith("/$metadata#files")
    assert [f["name"] for f in body["value"]] == ["stderr.txt", "stdout.txt", "wd"]
    stderr, _, wd = body["value"]
    assert stderr["isDirectory"] is False and isinstance(stderr["properties"]["contentLength"], str)
    assert (
        int(stderr["properties"]["contentLength"]) > 100
        and stderr["properties"]["contentType"] == "text/plain"
    )
    assert "properties" not in wd and wd["isDirectory"] is True
    assert stderr["url"] == f"http://127.0.0.1:8765{files(*FAILED)}/stderr.txt"


async def test_recursive_and_startswith_and_paging(http: httpx.AsyncClient) -> None:
    top = (await http.get(f"{files(*RUNNING)}?{V}")).json()["value"]
    assert "wd\\solver.trace" not in [f["name"] for f in top]
    deep = (await http.get(f"{files(*RUNNING)}?{V}&recursive=true")).json()["value"]
    assert "wd\\solver.trace" in [f["name"] for f in deep]
    only = (await http.get(f"{files(*RUNNING)}?{V}&recursive=true&$filter=startswith(name,'wd')")).json()
    assert [f["name"] for f in only["value"]] == ["wd", "wd\\solver.trace"]
    first = (await http.get(f"{files(*RUNNING)}?{V}&recursive=true&maxresults=2")).json()
    assert len(first["value"]) == 2 and "odata.nextLink" in first
    rest = (await http.get(first["odata.nextLink"])).json()
    assert [f["name"] for f in first["value"] + rest["value"]] == [f["name"] for f in deep]
    bad = await http.get(f"{files(*RUNNING)}?{V}&$filter=name eq 'x'")
    assert bad.status_code == 400


async def test_head_carries_the_recorded_header_spellings(http: httpx.AsyncClient) -> None:
    listed = {f["name"]: f for f in (await http.get(f"{files(*FAILED)}?{V}")).json()["value"]}
    r = await http.head(f"{files(*FAILED, 'stderr.txt')}?{V}")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == listed["stderr.txt"]["properties"]["contentLength"]
    assert r.headers["ocp-batch-file-isdirectory"] == "False"
    url = r.headers["ocp-batch-file-url"]
    assert "/" not in url and unquote(url) == f"http://127.0.0.1:8765{files(*FAILED)}/stderr.txt"
    assert r.headers["ocp-creation-time"].endswith(" GMT") and r.headers["last-modified"].endswith(" GMT")
    assert "etag" not in r.headers
    wd = await http.head(f"{files(*FAILED, 'wd')}?{V}")
    assert wd.headers["ocp-batch-file-isdirectory"] == "True"


async def test_a_range_is_answered_200_with_that_slice(http: httpx.AsyncClient) -> None:
    url = f"{files(*FAILED, 'stderr.txt')}?{V}"
    whole = (await http.get(url)).content
    assert whole.startswith(b"Traceback (most recent call last):")
    part = await http.get(url, headers={"ocp-range": "bytes=10-19"})
    assert (part.status_code, part.content) == (200, whole[10:20])
    clamped = await http.get(url, headers={"ocp-range": f"bytes=100-{len(whole) + 5000}"})
    assert (clamped.status_code, clamped.content) == (200, whole[100:])
    past = await http.get(url, headers={"ocp-range": f"bytes={len(whole)}-{len(whole) + 10}"})
    assert past.status_code == 416 and past.json()["code"] == "InvalidRange"


async def test_encoded_separators_inside_the_path(http: httpx.AsyncClient) -> None:
    for raw in ("wd%2Fsolver.trace", "wd%5Csolver.trace"):
        r = await http.get(
            f"/jobs/{RUNNING[0]}/tasks/{RUNNING[1]}/files/{raw}?{V}", headers={"ocp-range": "bytes=0-99"}
        )
        assert r.status_code == 200 and r.content.startswith(b"t=00000000.000 step=000000000 ")


async def test_state_errors(sim: Simulator, http: httpx.AsyncClient) -> None:
    active = await http.get(f"{files(*ACTIVE, 'stdout.txt')}?{V}")
    assert active.status_code == 409
    assert active.json()["message"]["value"].startswith(
        "The specified operation is not valid for the current state"
    )
    missing = await http.get(f"{files(*FAILED, 'nope.txt')}?{V}")
    assert (missing.status_code, missing.json()["code"]) == (404, "FileNotFound")
    head = await http.head(f"{files(*FAILED, 'nope.txt')}?{V}")
    assert head.status_code == 404 and head.content == b""  # a HEAD answer has no body
    # the node it ran on is removed
    task = (await http.get(f"/jobs/{FAILED[0]}/tasks/{FAILED[1]}?{V}")).json()
    pool, node = task["nodeInfo"]["poolId"], task["nodeInfo"]["nodeId"]
    sim.remove_node(pool, node)
    gone = await http.get(f"{files(*FAILED, 'stderr.txt')}?{V}")
    assert (gone.status_code, gone.json()["code"]) == (404, "NodeNotFound")
    on_node = await http.get(f"/pools/{pool}/nodes/{node}/files?{V}")
    assert (on_node.status_code, on_node.json()["code"]) == (404, "NodeNotFound")


async def test_after_the_retention_time_the_files_are_unavailable(
    sim: Simulator, http: httpx.AsyncClient
) -> None:
    sim.clock.advance(RETENTION + 3600)
    late = await http.get(f"{files(*FAILED, 'stderr.txt')}?{V}")
    assert (late.status_code, late.json()["code"]) == (409, "TaskFilesUnavailable")


async def test_each_rank_has_its_files_under_its_own_root_on_its_own_node(http: httpx.AsyncClient) -> None:
    ranks = (await http.get(f"/jobs/{RUNNING[0]}/tasks/{RUNNING[1]}/subtasksinfo?{V}")).json()["value"]
    five = next(s for s in ranks if s["id"] == 5)
    info = five["nodeInfo"]
    root = info["taskRootDirectory"]
    assert root == f"workitems\\{RUNNING[0]}\\job-1\\{RUNNING[1]}\\5"
    node_files = f"/pools/{info['poolId']}/nodes/{info['nodeId']}/files"
    stderr_path = quote(root + "\\stderr.txt", safe="")
    stderr = await http.get(f"{node_files}/{stderr_path}?{V}")
    assert stderr.status_code == 200 and b"Signal: Segmentation fault (11)" in stderr.content
    listing = (await http.get(f"{node_files}?{V}&recursive=true&$filter=startswith(name,'{root}')")).json()
    assert {f["name"] for f in listing["value"]} >= {root, f"{root}\\stdout.txt", f"{root}\\stderr.txt"}
    whole = (await http.get(f"{node_files}?{V}&recursive=true")).json()["value"]
    assert {"applications", "startup", "workitems"} <= {f["name"] for f in whole}
    # rank 4's node does not hold rank 5's files
    four = next(s for s in ranks if s["id"] == 4)["nodeInfo"]
    assert four["nodeId"] != info["nodeId"]
    elsewhere = await http.get(f"/pools/{four['poolId']}/nodes/{four['nodeId']}/files/{stderr_path}?{V}")
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "FileNotFound")
    # the primary's stdout is the task file
    task_out = (await http.get(f"{files(*RUNNING, 'stdout.txt')}?{V}")).content
    assert b"MCW rank 5 of 8" in task_out


def test_a_whole_large_file_is_streamed_not_built() -> None:
    # Over loopback (httpx's in-process ASGI transport would buffer the whole answer itself).
    import tracemalloc

    from batchtui.sim.server import BackgroundServer

    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    auth = SharedKeyAuth(sim.config.account, sim.config.key)
    with BackgroundServer(sim) as server, httpx.Client(base_url=server.url, auth=auth) as http:
        url = f"{files(*RUNNING, 'wd/solver.trace')}?{V}"
        size = int(http.head(url).headers["content-length"])
        assert size > 100_000_000
        tracemalloc.start()
        try:
            seen = 0
            with http.stream("GET", url) as r:
                assert r.status_code == 200 and int(r.headers["content-length"]) == size
                for chunk in r.iter_raw():
                    seen += len(chunk)
                    if seen > 4 << 20:
                        break
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen > 4 << 20 and peak < 32 << 20
