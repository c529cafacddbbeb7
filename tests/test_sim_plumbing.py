"""The simulator's plumbing serves what the coming routes need: HEAD, raw bytes, any headers,
empty 202/204 answers, JSON request bodies, file paths with encoded slashes.

The routes here are test-only handlers registered on a router the simulator is built with,
exactly as a route module registers its own; they are not Batch operations.
"""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest
from test_sim_support import API, BASE, SharedKey, client, sign

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.asgi import MAX_REQUEST_BODY, BatchHTTPError, Request, Response
from batchtui.sim.routes import jobs, tasks
from batchtui.sim.routing import Router
from batchtui.sim.server import BackgroundServer

CONTENT = "héllo\r\nwörld\x00\xff".encode("latin-1") + "✓".encode()  # not JSON, not UTF-8
FILE_HEADERS = {
    "Content-Type": "text/plain",
    "ocp-batch-file-isdirectory": "False",
    "ocp-batch-file-url": "https%3A%2F%2Facct.batch%2Fjobs%2Fj%2Ftasks%2Ft%2Ffiles%2Fwd%2Fout.txt",
    "Last-Modified": "Wed, 19 Mar 2025 19:29:39 GMT",
}
seen: list[Any] = []


def file_content(sim: Simulator, request: Request, job_id: str, file_path: str) -> Response:
    seen.append((job_id, file_path))
    return Response(200, CONTENT, FILE_HEADERS)


def file_properties(sim: Simulator, request: Request, job_id: str, file_path: str) -> Response:
    seen.append((job_id, file_path))
    return Response(200, None, {**FILE_HEADERS, "Content-Length": str(len(CONTENT))})


def blob(sim: Simulator, request: Request) -> Response:
    return Response(200, b"\x89PNG\r\n")  # no Content-Type given: octet-stream


def accepted(sim: Simulator, request: Request, job_id: str) -> Response:
    seen.append(request.json())
    return Response(202, None, {"DataServiceId": f"{request.base_url}/jobs/{job_id}/disable"})


def no_content(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    return Response(204, None, {"ETag": "0x1"})


def gone(sim: Simulator, request: Request, job_id: str) -> Response:
    raise BatchHTTPError(409, "JobCompleted", message="The specified job is already in a completed state.")


def make_sim() -> Simulator:
    # The real read routes, and these test handlers where the real actions would be.
    router = Router()
    jobs.register(router)
    tasks.register(router)
    router.get("/jobs/{job_id}/files/{file_path:path}", file_content)
    router.head("/jobs/{job_id}/files/{file_path:path}", file_properties)
    router.get("/blob", blob)
    router.head("/blob", blob)
    router.post("/jobs/{job_id}/disable", accepted)
    router.post("/jobs/{job_id}/tasks/{task_id}/terminate", no_content)
    router.delete("/jobs/{job_id}/disable", gone)
    seen.clear()
    return Simulator(SimConfig(seed=7, jobs=5, time_scale=0), router=router)


async def test_raw_bytes_come_back_as_they_are_with_the_handlers_headers() -> None:
    async with client(make_sim()) as c:
        r = await c.get("/jobs/j1/files/wd%2Fsub%20dir%2Fout.txt", params={"api-version": API})
    assert r.status_code == 200
    assert r.content == CONTENT
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["content-length"] == str(len(CONTENT))
    assert r.headers["ocp-batch-file-isdirectory"] == "False"
    assert r.headers["ocp-batch-file-url"] == FILE_HEADERS["ocp-batch-file-url"]  # passed through as is
    assert r.headers["DataServiceVersion"] == "3.0" and r.headers["request-id"]
    # an encoded "/" stays inside the path parameter, as does a plain one
    assert seen == [("j1", "wd/sub dir/out.txt")]


async def test_raw_bytes_without_a_content_type_are_octet_stream() -> None:
    async with client(make_sim()) as c:
        r = await c.get("/blob", params={"api-version": API})
    assert (r.status_code, r.content, r.headers["content-type"]) == (
        200,
        b"\x89PNG\r\n",
        "application/octet-stream",
    )


async def test_head_sends_headers_only_with_the_announced_length() -> None:
    async with client(make_sim()) as c:
        r = await c.head("/jobs/j1/files/wd/out.txt", params={"api-version": API})
        r2 = await c.head("/blob", params={"api-version": API})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(CONTENT))  # the length a GET would send
    assert r.headers["ocp-batch-file-isdirectory"] == "False"
    assert seen == [("j1", "wd/out.txt")]
    # a HEAD handler may also answer what GET does: the plumbing drops the body, keeps its length
    assert r2.content == b"" and r2.headers["content-length"] == "6"


async def raw_call(sim: Simulator, method: str, path: str) -> list[dict[str, Any]]:
    """The ASGI messages the simulator sends for one signed request (what goes on the wire)."""
    query = f"api-version={API}"
    headers = {"ocp-date": email.utils.formatdate(usegmt=True), "host": "127.0.0.1:8765"}
    headers["authorization"] = sign(
        method, f"{BASE}{path}?{query}", headers, sim.config.account, sim.config.key
    )
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await sim(scope, receive, send)
    return sent


async def test_head_puts_no_body_on_the_wire() -> None:
    start, body = await raw_call(make_sim(), "HEAD", "/blob")
    headers = {k.lower(): v for k, v in start["headers"]}
    assert start["status"] == 200 and headers[b"content-length"] == b"6"
    assert headers[b"content-type"] == b"application/octet-stream"
    assert body == {"type": "http.response.body", "body": b""}
    start, body = await raw_call(make_sim(), "GET", "/blob")
    assert body["body"] == b"\x89PNG\r\n"


async def test_head_and_raw_bytes_over_a_real_socket() -> None:
    with BackgroundServer(make_sim()) as server:
        sim = server.sim
        auth = SharedKey(sim.config.account, sim.config.key)
        async with httpx.AsyncClient(base_url=server.url, auth=auth, timeout=5) as c:
            head = await c.head("/jobs/j1/files/stdout.txt", params={"api-version": API})
            get = await c.get("/jobs/j1/files/stdout.txt", params={"api-version": API})
            nothing = await c.post("/jobs/j1/tasks/t1/terminate", params={"api-version": API})
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(CONTENT)))
    assert get.content == CONTENT
    assert (nothing.status_code, nothing.content) == (204, b"")


async def test_202_and_204_have_empty_bodies_and_no_content_type() -> None:
    async with client(make_sim()) as c:
        r = await c.post("/jobs/j1/disable", params={"api-version": API}, json={"disableTasks": "requeue"})
        r2 = await c.post("/jobs/j1/tasks/t1/terminate", params={"api-version": API})
    assert r.status_code == 202 and r.content == b"" and r.headers["content-length"] == "0"
    assert "content-type" not in r.headers
    assert r.headers["DataServiceId"] == "http://127.0.0.1:8765/jobs/j1/disable"
    assert seen == [{"disableTasks": "requeue"}]  # the JSON body reached the handler, signed
    assert r2.status_code == 204 and r2.content == b"" and r2.headers["etag"] == "0x1"


async def test_a_post_without_a_body_reads_as_none() -> None:
    async with client(make_sim()) as c:
        r = await c.post("/jobs/j1/disable", params={"api-version": API})
    assert r.status_code == 202 and seen == [None]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
async def test_a_body_that_is_not_a_json_object_is_a_batch_error(body: bytes) -> None:
    async with client(make_sim()) as c:
        r = await c.post(
            "/jobs/j1/disable",
            params={"api-version": API},
            content=body,
            headers={"Content-Type": "application/json"},
        )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json; odata=minimalmetadata"
    assert r.json()["code"] == "InvalidRequestBody"
    assert seen == []


async def test_a_body_over_the_limit_is_refused_without_being_held() -> None:
    async with client(make_sim()) as c:
        r = await c.post(
            "/jobs/j1/disable", params={"api-version": API}, content=b" " * (MAX_REQUEST_BODY + 10)
        )
    assert r.status_code == 413 and r.json()["code"] == "RequestBodyTooLarge"
    assert seen == []


async def test_a_handlers_batch_error_and_the_allow_header_of_a_405() -> None:
    async with client(make_sim()) as c:
        conflict = await c.delete("/jobs/j1/disable", params={"api-version": API})
        verb = await c.put("/jobs/j1/disable", params={"api-version": API})
        jobs = await c.head("/jobs", params={"api-version": API})  # no HEAD route: as before
    assert conflict.status_code == 409 and conflict.json()["code"] == "JobCompleted"
    assert conflict.json()["message"]["value"].startswith(
        "The specified job is already in a completed state.\n"
    )
    assert verb.status_code == 405 and verb.headers["allow"] == "POST, DELETE"
    assert verb.json()["code"] == "UnsupportedHttpVerb"
    assert jobs.status_code == 405 and jobs.headers["allow"] == "GET" and jobs.content == b""


def test_the_router_refuses_patterns_it_could_not_serve() -> None:
    router = Router()
    router.get("/jobs/{job_id}", blob)
    with pytest.raises(ValueError, match="twice"):
        router.get("/jobs/{other}", blob)  # same shape, same method
    with pytest.raises(ValueError, match="must come last"):
        router.get("/files/{path:path}/x", blob)
    with pytest.raises(ValueError, match="bad parameter"):
        router.get("/jobs/{job-id}/tasks", blob)
    with pytest.raises(ValueError, match="unknown options"):
        router.get("/pools", blob, serves=("$orderby",))
