"""ASGI plumbing: a request parsed once, what a handler answers, and writing it to the wire.

Handlers never see ASGI. They get a :class:`Request` and return a :class:`Response` (or raise
:class:`BatchHTTPError`, which becomes the service's BatchError body). A response body is a
dict (sent as the service's JSON), raw bytes (file contents: sent as they are, with the
handler's Content-Type), a :class:`Stream` of byte chunks (a large file, written as it is
read) or None (202/204/304 and HEAD answers: no body at all).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CONTENT_TYPE = "application/json; odata=minimalmetadata"
OCTET_STREAM = "application/octet-stream"
ERROR_METADATA = "Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
# The service refuses bodies over 1 MB (its add-task-collection limit); the simulator reads no
# more than that, so a client cannot make it hold an unbounded body.
MAX_REQUEST_BODY = 1 << 20
AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature."
)
MESSAGES = {
    "JobNotFound": "The specified job does not exist.",
    "TaskNotFound": "The specified task does not exist.",
    "ResourceNotFound": "The specified resource does not exist.",
    "InvalidQueryParameterValue": (
        "Value for one of the query parameters specified in the request URI is invalid."
    ),
    "UnsupportedQueryParameter": "One of the query parameters specified in the request URI is not supported.",
    "MissingRequiredQueryParameter": "A query parameter that's mandatory for this request is not specified.",
    "UnsupportedRequestVersion": "The specified request version is not supported.",
    "UnsupportedHttpVerb": "The resource doesn't support specified Http Verb.",
    "ConditionNotMet": "The condition specified using HTTP conditional header(s) is not met.",
    "AuthenticationFailed": AUTH_FAILED,
    # code names from the service's error code list; their exact texts are UNCONFIRMED
    "InvalidRequestBody": "The specified Request Body is not syntactically valid.",
    "RequestBodyTooLarge": "The request body is too large and exceeds the maximum permissible limit.",
    # state conflicts of the write actions, as the service's error code list words them (only
    # TaskCompleted's text is confirmed by a real body; NEXT-APIS §4, §8.4)
    "MissingRequiredProperty": "A required property was not specified in the request body.",
    "InvalidPropertyValue": "The value provided for one of the properties in the request body is invalid.",
    "JobCompleted": "The specified job is already in a completed state.",
    "JobBeingTerminated": "The specified job is being terminated.",
    "JobBeingDeleted": "The specified job has been marked for deletion and is being garbage collected.",
    "JobNotActive": "The specified job is not in active state.",
    "TaskCompleted": "The specified task is already in a completed state.",
    "TaskNotCompleted": (
        "The specified task is not in a completed state, and the requested operation can be "
        "performed only on completed tasks."
    ),
    "TaskSucceeded": (
        "The specified task has already completed successfully, and the requested operation "
        "cannot be performed on successful tasks."
    ),
    "OperationInvalidForCurrentState": "The specified operation is not valid for the current state of the resource.",
    # the node actions' refusals (only OperationNotValidOnNode's text is from a real body)
    "OperationNotValidOnNode": "The specified operation is not valid on the node.",
    "NodeAlreadyInTargetSchedulingState": "The node is already in the target scheduling state.",
    "NodeBeingRebooted": "The specified node is being rebooted.",
    "NodeBeingReimaged": "The specified node is being reimaged.",
    "NodeBeingCreated": "The specified node is being created.",
    "NodeBeingStarted": "The specified node is being started.",
    "NodeStateUnusable": "The specified node is in an unusable state.",
    "PoolBeingResized": "The specified pool is being resized.",
}


class BatchHTTPError(Exception):
    """Raised by handlers; turned into a BatchError body by the dispatcher."""

    def __init__(
        self,
        status: int,
        code: str,
        values: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.values = values or []
        self.headers = headers or {}
        self.message = message or MESSAGES.get(code, code)


@dataclass(frozen=True, slots=True)
class Response:
    """What a handler answers. ``headers`` are added after the common ones (and may replace
    them); Content-Length is always the plumbing's, except on a HEAD answer without a body,
    where the handler's announces the length a GET would send."""

    status: int
    body: dict[str, Any] | bytes | Stream | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stream:
    """A body written chunk by chunk as it is made (a whole 1 GB file): never held at once."""

    chunks: Iterable[bytes]
    length: int


class Request:
    """What a handler needs from an ASGI scope, parsed once."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        self.method: str = scope["method"].upper()
        self.path: str = scope["path"]
        raw = scope.get("raw_path")
        self.raw_path = raw.decode("latin-1").split("?", 1)[0] if raw else quote(self.path)
        # Path segments as the client sent them, each decoded on its own: an id or a file path
        # may carry an encoded "/" (the SDK sends wd/out.txt as wd%2Fout.txt) without splitting.
        self.segments: list[str] = [unquote(s) for s in self.raw_path.split("/") if s]
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            name = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            self.headers[name] = f"{self.headers[name]},{value}" if name in self.headers else value
        # Query names are case-insensitive to the service (the new SDKs send timeOut).
        self.query: dict[str, str] = {}
        for name, value in parse_qsl(self.query_string, keep_blank_values=True):
            self.query.setdefault(name.lower(), value)
        self.body = body
        host = self.headers.get("host")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        self.base_url = f"{scope.get('scheme', 'http')}://{host}"

    def json(self) -> dict[str, Any] | None:
        """The JSON object a POST carries (None when it carries nothing); 400 if it is not one."""
        if not self.body.strip():
            return None
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, ValueError):
            value = None
        if not isinstance(value, dict):
            raise BatchHTTPError(400, "InvalidRequestBody")
        return value


async def read_body(receive: Receive) -> bytes | None:
    """The request body, at most MAX_REQUEST_BODY + 1 bytes of it (None: the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if size <= MAX_REQUEST_BODY:
            chunks.append(chunk[: MAX_REQUEST_BODY + 1 - size])
            size += len(chunks[-1])
        if not message.get("more_body", False):
            return b"".join(chunks)


def error_response(request: Request, request_id: str, stamp: str, exc: BatchHTTPError) -> Response:
    """The service's BatchError body: code, message (with request id and time) and values."""
    body: dict[str, Any] = {
        "odata.metadata": f"{request.base_url}/$metadata#{ERROR_METADATA}",
        "code": exc.code,
        "message": {"lang": "en-US", "value": f"{exc.message}\nRequestId:{request_id}\nTime:{stamp}"},
    }
    if exc.values:
        body["values"] = [{"key": k, "value": v} for k, v in exc.values]
    return Response(exc.status, body, exc.headers)


async def write_response(
    send: Send,
    request: Request,
    request_id: str,
    response: Response,
    wall_now: float,
    receive: Receive | None = None,
) -> None:
    headers = {
        "DataServiceVersion": "3.0",
        "request-id": request_id,
        "Date": formatdate(wall_now, usegmt=True),
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("return-client-request-id", "").lower() == "true":
        client_id = request.headers.get("client-request-id")
        if client_id:
            headers["client-request-id"] = client_id
    headers.update(response.headers)
    body = b""
    stream = response.body if isinstance(response.body, Stream) and request.method != "HEAD" else None
    if response.status == 304 or response.body is None:
        pass
    elif isinstance(response.body, Stream):
        headers["Content-Length"] = str(response.body.length)
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = OCTET_STREAM
    elif isinstance(response.body, bytes):
        body = response.body
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = OCTET_STREAM
    else:
        body = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = CONTENT_TYPE
    announced = next((k for k in headers if k.lower() == "content-length"), None)
    keep = isinstance(response.body, Stream) or (request.method == "HEAD" and response.body is None)
    if not (keep and announced is not None):
        if announced is not None:
            del headers[announced]
        headers["Content-Length"] = str(len(body))
    if request.method == "HEAD":
        body = b""  # headers only: the length is what a GET would send
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        }
    )
    if stream is not None:
        # A server goes quiet, not loud, once the client has gone: stop making chunks then.
        gone = asyncio.ensure_future(receive()) if receive is not None else None
        try:
            for chunk in stream.chunks:
                await asyncio.sleep(0)  # let the loop see a closed connection between chunks
                if gone is not None and gone.done():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            if gone is not None:
                gone.cancel()
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
