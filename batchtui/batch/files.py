"""Task and node files: list, properties (HEAD) and ranged reads, with the service's refusals
turned into what an operator can act on.

Facts (NEXT-APIS §1, §2): a ranged read is ``ocp-range: bytes=S-E`` (E inclusive) answered
**200** with only that slice; HEAD carries ``Content-Length``, ``Last-Modified``,
``ocp-batch-file-isdirectory: True|False`` (capitalised on the wire, lower case in the spec
examples), a percent-encoded ``ocp-batch-file-url``, ``ocp-creation-time`` (Windows only) and
``ocp-batch-file-mode`` (Linux only). The whole file path is percent-encoded, ``/`` and ``\\``
included, as the SDK does. A rank's files are node files under its ``taskRootDirectory``.

The calls are free functions over a :class:`~batchtui.batch.client.BatchClient` (its
``_send``/``_pages`` plumbing); the client exposes them as thin methods.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import httpx

from batchtui.batch.errors import BatchClientError, BatchServiceError, ModelError, ResponseTooLarge
from batchtui.batch.file_errors import FileUnavailable, explain
from batchtui.batch.file_refs import (
    START_TASK_DIR,
    FileRef,
    NodeFileRef,
    TaskFileRef,
    join_root,
    rank_file,
    start_task_file,
)
from batchtui.batch.models import Page, parse_datetime, parse_page

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

__all__ = [
    "FileChunk",
    "FileProperties",
    "FileRef",
    "FileUnavailable",
    "NodeFile",
    "NodeFileRef",
    "START_TASK_DIR",
    "TaskFileRef",
    "explain",
    "get_properties",
    "join_root",
    "list_files",
    "rank_file",
    "read_range",
    "start_task_file",
]

#: The most entries one listing returns (a node's recursive listing can be its whole disk).
MAX_LIST_ENTRIES = 10_000
#: The most bytes one ranged read asks for.
MAX_RANGE_BYTES = 4 * 1024 * 1024
#: Room for an error body in a ranged read's byte cap.
_ERROR_ROOM = 64 * 1024
_ACCEPT_BYTES = {"Accept": "application/octet-stream, application/json"}  # as the Java SDK sends


def _explain(exc: BatchServiceError, ref: FileRef) -> BatchServiceError:
    if isinstance(ref, NodeFileRef):
        return explain(exc, on_node=True, start_task=ref.of_start_task)
    return explain(exc, on_node=False)


def _file_path(ref: FileRef) -> str:
    if not ref.path:
        raise BatchClientError("a file path must not be empty")
    seg = _seg
    if isinstance(ref, TaskFileRef):
        base = f"/jobs/{seg(ref.job_id, 'job id')}/tasks/{seg(ref.task_id, 'task id')}/files"
    else:
        base = f"/pools/{seg(ref.pool_id, 'pool id')}/nodes/{seg(ref.node_id, 'node id')}/files"
    return f"{base}/{quote(ref.path, safe='')}"


def _seg(value: str, what: str) -> str:
    if not value:
        raise BatchClientError(f"{what} must not be empty")
    return quote(value, safe="")


# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class NodeFile:
    """One entry of a listing (``BatchNodeFile``). Directories carry no properties."""

    name: str
    url: str | None = None
    is_directory: bool = False
    content_length: int | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    content_type: str | None = None
    file_mode: str | None = None

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "file") -> NodeFile:
        props = d.get("properties")
        if props is not None and not isinstance(props, Mapping):
            raise ModelError(f"{where}.properties: expected an object")
        props = props or {}
        name = d.get("name")
        if not isinstance(name, str) or not name:
            raise ModelError(f"{where}.name: expected a file name")
        return cls(
            name=name,
            url=_opt_str(d.get("url"), f"{where}.url"),
            is_directory=_wire_bool(d.get("isDirectory"), f"{where}.isDirectory") or False,
            content_length=_wire_int(props.get("contentLength"), f"{where}.properties.contentLength"),
            last_modified=parse_datetime(props.get("lastModified"), f"{where}.properties.lastModified"),
            creation_time=parse_datetime(props.get("creationTime"), f"{where}.properties.creationTime"),
            content_type=_opt_str(props.get("contentType"), f"{where}.properties.contentType"),
            file_mode=_opt_str(props.get("fileMode"), f"{where}.properties.fileMode"),
        )


@dataclass(frozen=True, slots=True)
class FileProperties:
    """What a HEAD says about a file."""

    content_length: int
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    is_directory: bool = False
    url: str | None = None  # decoded: the service percent-encodes the whole URL
    file_mode: str | None = None
    content_type: str | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers, *, need_length: bool = True) -> FileProperties:
        raw_len = headers.get("content-length")
        length = _wire_int(raw_len, "Content-Length") if raw_len is not None else None
        if length is None or length < 0:
            if need_length:
                raise ModelError("the file's properties carry no Content-Length")
            length = -1
        url = headers.get("ocp-batch-file-url")
        return cls(
            content_length=length,
            last_modified=_http_date(headers.get("last-modified")),
            creation_time=_http_date(headers.get("ocp-creation-time")),
            is_directory=_wire_bool(headers.get("ocp-batch-file-isdirectory"), "isdirectory") or False,
            url=unquote(url) if url else None,
            file_mode=headers.get("ocp-batch-file-mode"),
            content_type=headers.get("content-type"),
        )


@dataclass(frozen=True, slots=True)
class FileChunk:
    """The bytes ``[start, start + len(data))`` of a file, as one ranged read returned them."""

    start: int
    data: bytes
    total: int | None = None  # the file's size, when the answer said (Content-Range)
    last_modified: datetime | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.data)


def _opt_str(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ModelError(f"{where}: expected a string")


def _wire_bool(value: object, where: str) -> bool | None:
    # "False"/"True" on the wire, "false" in the spec examples, JSON booleans in listings.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ModelError(f"{where}: expected true or false, got {str(value)[:20]!r}")


def _wire_int(value: object, where: str) -> int | None:
    # contentLength is an int64 and so a JSON string ("13"); accept a number as well.
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ModelError(f"{where}: expected a whole number, got {str(value)[:20]!r}")


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # a date we cannot read is not worth failing a read over


def _parse_file_page(body: object) -> Page[NodeFile]:
    return parse_page(body, NodeFile.parse, "files")


# --------------------------------------------------------------------------- calls


def _list_path(target: TaskFileRef | tuple[str, str]) -> tuple[str, str]:
    if isinstance(target, TaskFileRef):
        return "list_task_files", (
            f"/jobs/{_seg(target.job_id, 'job id')}/tasks/{_seg(target.task_id, 'task id')}/files"
        )
    pool_id, node_id = target
    return "list_node_files", f"/pools/{_seg(pool_id, 'pool id')}/nodes/{_seg(node_id, 'node id')}/files"


async def list_files(
    client: BatchClient,
    target: TaskFileRef | tuple[str, str],
    *,
    recursive: bool = False,
    prefix: str | None = None,
    max_results: int | None = None,
    limit: int = MAX_LIST_ENTRIES,
) -> list[NodeFile]:
    """A task's files (``target`` a TaskFileRef, its path ignored) or a node's ((pool, node)).

    ``prefix`` becomes ``$filter=startswith(name,'…')``; pages are followed up to ``limit``
    entries (a node's recursive listing can be its whole disk)."""
    call, path = _list_path(target)
    params: dict[str, object] = {"maxresults": max_results, "recursive": "true" if recursive else None}
    if prefix:
        params["$filter"] = "startswith(name,'{}')".format(prefix.replace("'", "''"))
    pages = client._pages(call, path, params, _parse_file_page)
    try:
        return await client._collect(pages, max(1, limit))
    except BatchServiceError as exc:
        raise explain(exc, on_node=not isinstance(target, TaskFileRef)) from None


async def get_properties(client: BatchClient, ref: FileRef) -> FileProperties:
    """HEAD the file: its length, times and whether it is a directory."""
    call = "get_task_file_properties" if isinstance(ref, TaskFileRef) else "get_node_file_properties"
    url = client._url(_file_path(ref), {})
    try:
        reply = await client._send(call, "HEAD", url, max_bytes=_ERROR_ROOM)
    except BatchServiceError as exc:
        if exc.code is None and exc.status in (404, 409, 416):
            # A HEAD answer has no body, so no error code: FileNotFound, a gone node and a task
            # not started yet all look alike. One GET of a byte asks the service which it is.
            await _refusal_of_get(client, ref)
        raise _explain(exc, ref) from None
    try:
        return FileProperties.from_headers(reply.headers)
    except ModelError as exc:
        raise ModelError(f"{call}: {exc}") from None


async def _refusal_of_get(client: BatchClient, ref: FileRef) -> None:
    """Raise the refusal a GET of the first byte gets (returns if the GET succeeds)."""
    call = "get_task_file" if isinstance(ref, TaskFileRef) else "get_node_file"
    headers = {**_ACCEPT_BYTES, "ocp-range": "bytes=0-0"}
    try:
        await client._send(
            call, "GET", client._url(_file_path(ref), {}), headers=headers, max_bytes=_ERROR_ROOM
        )
    except BatchServiceError as exc:
        if exc.code is not None:
            raise _explain(exc, ref) from None
    except BatchClientError:
        pass  # no better answer than the HEAD's


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


async def read_range(
    client: BatchClient,
    ref: FileRef,
    start: int,
    end: int,
    *,
    total: int | None = None,
) -> FileChunk:
    """The bytes ``[start, end)`` (``end`` exclusive here; the wire's E is inclusive).

    Tolerant of readings the facts leave open (UNCONFIRMED): a 206 with ``Content-Range`` as
    well as the documented 200, and a server that ignores the range and sends the whole
    file (its bytes are cut to the slice when ``start`` is 0 or ``total`` says where it is)."""
    if start < 0 or end <= start:
        raise BatchClientError(f"an empty or negative byte range ({start}-{end})")
    want = min(end - start, MAX_RANGE_BYTES)
    call = "get_task_file" if isinstance(ref, TaskFileRef) else "get_node_file"
    url = client._url(_file_path(ref), {})
    headers = {**_ACCEPT_BYTES, "ocp-range": f"bytes={start}-{start + want - 1}"}
    # A server that ignores the range may send more than asked: allow a small file whole.
    # An error body must fit too.
    cap = max(want, _ERROR_ROOM, min(total or 0, MAX_RANGE_BYTES))
    try:
        reply = await client._send(call, "GET", url, headers=headers, max_bytes=cap)
    except BatchServiceError as exc:
        raise _explain(exc, ref) from None
    except ResponseTooLarge:
        raise ModelError(f"{call}: the server sent more than the {want:,} bytes asked for") from None
    body = reply.body
    last_modified = _http_date(reply.headers.get("last-modified"))
    got_total: int | None = None
    match = _CONTENT_RANGE.match(reply.headers.get("content-range", ""))
    if match:
        first = int(match.group(1))
        got_total = None if match.group(3) == "*" else int(match.group(3))
        if first != start:
            raise ModelError(f"{call}: asked for bytes from {start}, the answer starts at {first}")
    elif len(body) > want:
        if start == 0 or (total is not None and len(body) == total):
            body = body[start : start + want]  # the whole file came back: keep the slice asked for
        else:
            raise ModelError(f"{call}: the server ignored the byte range (sent {len(body):,} bytes)")
    return FileChunk(start, body[:want], got_total, last_modified)
