"""Task and node files: list, properties (HEAD) and content (GET with ``ocp-range``).

As the service serves them (NEXT-APIS §1, §2, §7): directories carry no ``properties`` and
``contentLength`` is a string; HEAD answers ``ocp-batch-file-isdirectory: True|False``, the
whole URL percent-encoded in ``ocp-batch-file-url`` and ``ocp-creation-time`` (the simulated
nodes are Windows-style, as the world's ``taskRootDirectory`` is); a ranged GET is answered 200
with only its slice (an END past the end clamped, a START at or past it 416 ``InvalidRange``).
Paths may carry ``%2F`` and ``%5C``, and either separator. A task's files can be read once it
runs: 409 while it is active or preparing, 404 ``NodeNotFound`` once its node is gone, 409
``TaskFilesUnavailable`` after its retention time; a rank's are node files under its own root.
A node's files (its start task's under ``startup\\``) answer 404 ``PoolNotFound`` or
``NodeNotFound`` once it is gone and 409 ``NodeNotReady`` while it cannot serve them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from batchtui.sim import odata
from batchtui.sim.asgi import BatchHTTPError, Request, Response, Stream
from batchtui.sim.file_tree import RETENTION, node_file, node_tree, task_run
from batchtui.sim.files import SimFile, find, task_files
from batchtui.sim.routes import common
from batchtui.sim.routing import LIST_OPTIONS, Router

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator

#: A GET of more than this is written in chunks of this size (a whole 1 GB trace is never built).
STREAM_ABOVE = 1 << 20
FILE_FILTER_FIELDS = (odata.Field("name", ("startswith",), None),)
MESSAGES = {
    # codes from the service's error list; the 409's code is UNCONFIRMED, its message is as seen
    "OperationInvalidForCurrentState": "The specified operation is not valid for the current state of the resource.",
    "FileNotFound": "The specified file does not exist.",
    "NodeNotFound": "The specified node does not exist.",
    "PoolNotFound": "The specified pool does not exist.",
    "TaskFilesUnavailable": "The files of the specified task are not available, for example because the retention period has expired.",
    "InvalidRange": "The range specified is invalid for the current size of the resource.",
    "NodeNotReady": "Node is not able to perform the requested operations in its current state",
}
#: The node states whose files can be read. Which states refuse, and with what, is UNCONFIRMED:
#: these are the states BatchExplorer browses a node's files in (NEXT-APIS §1d); in the others
#: (creating, starting, rebooting, unusable, unknown, preempted, leavingpool, ...) the agent is
#: not answering, and the code is the one seen for a node in no state to serve (``NodeNotReady``,
#: its 409 status presumed).
FILE_STATES = frozenset(("idle", "running", "waitingforstarttask", "starttaskfailed", "offline"))
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def register(router: Router) -> None:
    router.get("/jobs/{job_id}/tasks/{task_id}/files", list_task_files, serves=LIST_OPTIONS)
    router.head("/jobs/{job_id}/tasks/{task_id}/files/{file_path:path}", task_file)
    router.get("/jobs/{job_id}/tasks/{task_id}/files/{file_path:path}", task_file)
    router.get("/pools/{pool_id}/nodes/{node_id}/files", list_node_files, serves=LIST_OPTIONS)
    router.head("/pools/{pool_id}/nodes/{node_id}/files/{file_path:path}", node_file_route)
    router.get("/pools/{pool_id}/nodes/{node_id}/files/{file_path:path}", node_file_route)


def _refuse(status: int, code: str) -> BatchHTTPError:
    return BatchHTTPError(status, code, message=MESSAGES.get(code))


# --------------------------------------------------------------------------- where the files are


def _task_files(sim: Simulator, job_id: str, task_id: str, t: float) -> tuple[str, list[SimFile]]:
    """The task's files and the URL its names hang from, or the refusal the service gives."""
    plan = common.find_job(sim, job_id, t)
    spec = common.find_task(sim, plan, task_id, t)
    view = sim.world.task_view(plan, spec, t)
    run = task_run(sim.world, plan, spec, t)
    if run is None or view.node is None:
        raise _refuse(409, "OperationInvalidForCurrentState")  # active or preparing: no node
    if sim.world.node_gone(plan.kind.pool, view.node):
        raise _refuse(404, "NodeNotFound")
    if view.end_time is not None and t > view.end_time + RETENTION:
        raise _refuse(409, "TaskFilesUnavailable")
    return f"/jobs/{plan.id}/tasks/{spec.id}/files", task_files(run)


def _node(sim: Simulator, pool_id: str, node_id: str, t: float) -> tuple[str, str, int]:
    """The pool, node and node number whose files are asked for, or the refusal: 404
    ``PoolNotFound``/``NodeNotFound`` when either is gone, 409 ``NodeNotReady`` when the node
    is in no state to serve files."""
    nodes = sim.world.nodes
    pool = nodes.find_pool(pool_id, t)
    if pool is None:
        raise _refuse(404, "PoolNotFound")
    view = nodes.find_node(pool, node_id, t)
    if view is None or nodes.gone(pool.id, view.node.index):
        raise _refuse(404, "NodeNotFound")  # leaving the pool counts as gone, as for task files
    if view.state not in FILE_STATES:
        raise _refuse(409, "NodeNotReady")
    return pool.id, view.node.id, view.node.index


# --------------------------------------------------------------------------- listings


def _content_type(name: str) -> str:
    return "text/plain" if name.lower().endswith((".txt", ".log", ".csv")) else "application/octet-stream"


def _listed(sim: Simulator, base: str, f: SimFile, t: float) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "url": f"{base}/{f.name}", "isDirectory": f.is_directory}
    if f.content is not None:
        modified = f.content.modified(t)
        d["properties"] = {
            "creationTime": sim.timebase.iso(f.created),
            "lastModified": sim.timebase.iso(modified if modified is not None else f.created),
            "contentLength": str(f.content.size(t)),  # an int64: a JSON string
            "contentType": _content_type(f.name),
        }
    return d


def _list(sim: Simulator, request: Request, base_path: str, files: list[SimFile], t: float) -> Response:
    recursive = request.query.get("recursive", "false").lower()
    if recursive not in ("true", "false"):
        raise odata.QueryError("recursive", recursive, "The value must be true or false")
    raw_filter = request.query.get("$filter")
    pred = odata.parse_filter(raw_filter, FILE_FILTER_FIELDS) if raw_filter is not None else None
    base = f"{request.base_url}{base_path}"
    chosen = [f for f in files if recursive == "true" or "\\" not in f.name]
    # As the recordings list them: shallower first, files before directories, by name.
    chosen.sort(key=lambda f: (f.name.count("\\"), f.is_directory, f.name.lower()))
    rendered = (_listed(sim, base, f, t) for f in chosen)
    items: Iterator[dict[str, Any]] = (d for d in rendered if pred is None or pred(d))
    token = request.query.get("$skiptoken")
    skip = 0
    if token is not None:
        text = odata.read_skiptoken(token)
        if not text.isdigit():
            raise odata.QueryError("$skiptoken", token, "The skip token is not valid")
        skip = int(text)
    size = common.page_size(sim, request)
    page: list[dict[str, Any]] = []
    more = False
    for k, d in enumerate(items):
        if k < skip:
            continue
        if len(page) == size:
            more = True
            break
        page.append(d)
    body: dict[str, Any] = {"odata.metadata": common.renderer(sim, request).metadata("files"), "value": page}
    if more:
        body["odata.nextLink"] = common.next_link(request, base_path, str(skip + size))
    return Response(200, body, {})


def list_task_files(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    base_path, files = _task_files(sim, job_id, task_id, t)
    return _list(sim, request, base_path, files, t)


def list_node_files(sim: Simulator, request: Request, pool_id: str, node_id: str) -> Response:
    t = sim.clock.seconds()
    pool, node, index = _node(sim, pool_id, node_id, t)
    return _list(sim, request, f"/pools/{pool}/nodes/{node}/files", node_tree(sim.world, pool, index, t), t)


# --------------------------------------------------------------------------- one file


def _answer(sim: Simulator, request: Request, url: str, f: SimFile | None, t: float) -> Response:
    """HEAD: the properties; GET: the bytes (of ``ocp-range`` when given), with the same headers."""
    if f is None:
        raise _refuse(404, "FileNotFound")
    size = f.content.size(t) if f.content is not None else 0
    modified = f.content.modified(t) if f.content is not None else None
    headers = {
        "Last-Modified": sim.timebase.http_date(modified if modified is not None else f.created),
        "ocp-creation-time": sim.timebase.http_date(f.created),
        "ocp-batch-file-isdirectory": "True" if f.is_directory else "False",  # capitalised, as recorded
        "ocp-batch-file-url": quote(url, safe=""),  # the whole URL percent-encoded, as recorded
        "Content-Type": _content_type(f.name),
    }
    if request.method == "HEAD":
        return Response(200, None, {**headers, "Content-Length": str(size)})
    if f.content is None:
        raise _refuse(404, "FileNotFound")  # what a GET of a directory gets is UNCONFIRMED
    start, end = 0, size
    spec = request.headers.get("ocp-range")
    if spec is not None:
        m = _RANGE.match(spec)
        if m is None or not (m.group(1) or m.group(2)):
            raise _refuse(416, "InvalidRange")
        if m.group(1):
            # bytes=S-E (E inclusive, clamped to the end); bytes=S- (UNCONFIRMED) to the end
            start = int(m.group(1))
            end = min(size, int(m.group(2)) + 1) if m.group(2) else size
        else:
            start = max(0, size - int(m.group(2)))  # bytes=-N, the last N (UNCONFIRMED)
        if start >= size or end <= start:
            raise _refuse(416, "InvalidRange")
    if end - start <= STREAM_ABOVE:
        return Response(200, f.content.read(start, end, t), headers)
    content = f.content

    def chunks() -> Iterator[bytes]:
        for at in range(start, end, STREAM_ABOVE):
            yield content.read(at, min(end, at + STREAM_ABOVE), t)

    return Response(200, Stream(chunks(), end - start), headers)


def task_file(sim: Simulator, request: Request, job_id: str, task_id: str, file_path: str) -> Response:
    t = sim.clock.seconds()
    base_path, files = _task_files(sim, job_id, task_id, t)
    f = find(files, file_path)
    return _answer(sim, request, f"{request.base_url}{base_path}/{file_path}", f, t)


def node_file_route(sim: Simulator, request: Request, pool_id: str, node_id: str, file_path: str) -> Response:
    t = sim.clock.seconds()
    pool, node, index = _node(sim, pool_id, node_id, t)
    f = node_file(sim.world, pool, index, file_path, t)
    return _answer(sim, request, f"{request.base_url}/pools/{pool}/nodes/{node}/files/{file_path}", f, t)
