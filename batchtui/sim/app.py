"""The simulated account as a plain ASGI 3 application.

One class holds the world, the clock, the faults and the request log; ``__call__`` is the
ASGI entry point, so the same object is served by uvicorn (``batchtui sim``) or handed to
``httpx.ASGITransport`` in-process (``--demo``, tests, benchmarks).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlencode

from batchtui.sim import odata, sharedkey
from batchtui.sim import world as w
from batchtui.sim.clock import SimClock
from batchtui.sim.config import API_VERSIONS, FIRST_PAGED_SUBTASKS_VERSION, SimConfig
from batchtui.sim.faults import Faults
from batchtui.sim.wire import Renderer, Timebase, iso_wall, job_version, task_modified, task_version

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CONTENT_TYPE = "application/json; odata=minimalmetadata"
ERROR_METADATA = "Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
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
}
MAX_REQUEST_LOG = 200_000
_VERSION_ORDER = {v: i for i, v in enumerate(API_VERSIONS)}


class ServedRequest(NamedTuple):
    method: str
    path: str
    status: int


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


class Response(NamedTuple):
    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]


class Request:
    """What a handler needs from an ASGI scope, parsed once."""

    def __init__(self, scope: Scope, body: bytes) -> None:
        self.method: str = scope["method"].upper()
        self.path: str = scope["path"]
        raw = scope.get("raw_path")
        self.raw_path = raw.decode("latin-1").split("?", 1)[0] if raw else quote(self.path)
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


class Simulator:
    """The world + the ASGI app. See SIM_API.md for the contract."""

    def __init__(
        self,
        config: SimConfig,
        *,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if config.max_page < 1 or config.time_scale < 0 or config.count_lag < 0:
            raise ValueError("SimConfig: max_page must be >= 1, time_scale and count_lag >= 0")
        self.config = config
        self.clock = SimClock(config.start, config.warmup, config.time_scale, now)
        self.faults = Faults(
            latency_ms=config.latency_ms,
            throttle_rate=config.throttle_rate,
            error_rate=config.error_rate,
            seed=config.seed,
            now=now,
        )
        self.world = w.World(
            seed=config.seed,
            jobs=config.jobs,
            tasks=config.tasks,
            instances=config.instances,
            start=config.start,
            warmup=config.warmup,
        )
        self.timebase = Timebase(config.start)
        self.requests: list[ServedRequest] = []
        # In-process there is no socket to close, so a "refuse" outage raises what a client's
        # connect would; the HTTP server turns this off and closes its listener instead.
        self.refuse_by_raising = True
        self._wall = wall

    # ---------------------------------------------------------------- helpers for tests and demos

    def now(self) -> datetime:
        return self.clock.now()

    def job_ids(self) -> list[str]:
        """Ids of the jobs that exist now, in listing order."""
        return self.world.job_ids_after(self.clock.seconds())

    def delete_job(self, job_id: str) -> bool:
        return self.world.delete_job(job_id)

    def delete_task(self, job_id: str, task_id: str) -> bool:
        return self.world.delete_task(job_id, task_id)

    def _record(self, request: Request, status: int) -> None:
        self.requests.append(ServedRequest(request.method, request.path, status))
        if len(self.requests) > MAX_REQUEST_LOG:
            # a long-running `batchtui sim` keeps the newest half rather than growing forever
            del self.requests[: MAX_REQUEST_LOG // 2]

    # ---------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        request = Request(scope, b"".join(chunks))
        request_id = str(uuid.uuid4())
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        fault = self.faults.decide()
        if fault is not None and fault.refuse:
            if self.refuse_by_raising:
                self._record(request, 0)
                raise ConnectionRefusedError("simulated outage: connection refused")
            # Behind a real listener the server drops connections itself; a request that got in
            # before it did is answered as a service going down would.
            fault = Faults.busy()
        try:
            if fault is not None:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                raise BatchHTTPError(fault.status, fault.code, headers=headers, message=fault.message)
            self._authenticate(request)
            response = self._dispatch(request)
        except BatchHTTPError as exc:
            response = self._error(request, request_id, exc)
        self._record(request, response.status)
        await self._send(request, request_id, response, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _send(self, request: Request, request_id: str, response: Response, send: Send) -> None:
        headers = {
            "DataServiceVersion": "3.0",
            "request-id": request_id,
            "Date": formatdate(self._wall(), usegmt=True),
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("return-client-request-id", "").lower() == "true":
            client_id = request.headers.get("client-request-id")
            if client_id:
                headers["client-request-id"] = client_id
        headers.update(response.headers)
        body = b""
        if response.body is not None and response.status != 304:
            body = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = CONTENT_TYPE
        headers["Content-Length"] = str(len(body))
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _error(self, request: Request, request_id: str, exc: BatchHTTPError) -> Response:
        stamp = iso_wall(self._wall())
        body: dict[str, Any] = {
            "odata.metadata": f"{request.base_url}/$metadata#{ERROR_METADATA}",
            "code": exc.code,
            "message": {"lang": "en-US", "value": f"{exc.message}\nRequestId:{request_id}\nTime:{stamp}"},
        }
        if exc.values:
            body["values"] = [{"key": k, "value": v} for k, v in exc.values]
        return Response(exc.status, body, exc.headers)

    # ---------------------------------------------------------------- auth

    def _authenticate(self, request: Request) -> None:
        auth = request.headers.get("authorization", "").strip()
        if not auth:
            raise BatchHTTPError(
                401,
                "AuthenticationFailed",
                [("AuthenticationErrorDetail", "The request does not carry an Authorization header.")],
            )
        scheme = auth.split(" ", 1)[0]
        if scheme.lower() == "bearer":
            token = auth[len(scheme) :].strip()
            if token and token in self.config.tokens:
                return
            raise BatchHTTPError(
                401,
                "AuthenticationFailed",
                [
                    (
                        "AuthenticationErrorDetail",
                        "The access token is invalid or was not issued for this account.",
                    )
                ],
            )
        try:
            sharedkey.verify(
                auth,
                method=request.method,
                raw_path=request.raw_path,
                query=request.query_string,
                headers=request.headers,
                body_length=len(request.body),
                account=self.config.account,
                key_b64=self.config.key,
                wall_now=self._wall(),
            )
        except sharedkey.SharedKeyRejected as exc:
            raise BatchHTTPError(403, "AuthenticationFailed") from exc

    # ---------------------------------------------------------------- routing

    def _dispatch(self, request: Request) -> Response:
        version = request.query.get("api-version")
        if version is None or version == "":
            raise BatchHTTPError(
                400, "MissingRequiredQueryParameter", [("QueryParameterName", "api-version")]
            )
        if version not in _VERSION_ORDER:
            raise BatchHTTPError(
                400,
                "UnsupportedRequestVersion",
                [("QueryParameterName", "api-version"), ("QueryParameterValue", version)],
            )
        timeout = request.query.get("timeout")
        if timeout is not None and not timeout.lstrip("-").isdigit():
            raise BatchHTTPError(
                400,
                "InvalidQueryParameterValue",
                [
                    ("QueryParameterName", "timeout"),
                    ("QueryParameterValue", timeout),
                    ("Reason", "The value must be an integer"),
                ],
            )
        parts = [p for p in request.path.split("/") if p]
        handler: Callable[..., Response] | None = None
        args: tuple[str, ...] = ()
        if parts[:1] == ["jobs"]:
            n = len(parts)
            if n == 1:
                handler = self._list_jobs
            elif n == 2:
                handler, args = self._get_job, (parts[1],)
            elif n == 3 and parts[2] == "taskcounts":
                handler, args = self._task_counts, (parts[1],)
            elif n == 3 and parts[2] == "tasks":
                handler, args = self._list_tasks, (parts[1],)
            elif n == 4 and parts[2] == "tasks":
                handler, args = self._get_task, (parts[1], parts[3])
            elif n == 5 and parts[2] == "tasks" and parts[4] == "subtasksinfo":
                handler, args = self._list_subtasks, (parts[1], parts[3])
        if handler is None:
            raise BatchHTTPError(404, "ResourceNotFound")
        if request.method != "GET":
            raise BatchHTTPError(405, "UnsupportedHttpVerb", headers={"Allow": "GET"})
        if handler not in (self._list_jobs, self._list_tasks):
            for name in ("$filter", "$skiptoken") if handler != self._list_subtasks else ("$filter",):
                if name in request.query:
                    raise BatchHTTPError(
                        400,
                        "UnsupportedQueryParameter",
                        [
                            ("QueryParameterName", name),
                            ("QueryParameterValue", request.query[name]),
                            ("Reason", f"{name} is not supported on this operation"),
                        ],
                    )
        try:
            return handler(request, *args)
        except odata.QueryError as exc:
            raise BatchHTTPError(
                400,
                exc.code,
                [
                    ("QueryParameterName", exc.parameter),
                    ("QueryParameterValue", exc.value),
                    ("Reason", exc.reason),
                ],
            ) from exc

    # ---------------------------------------------------------------- query options

    def _page_size(self, request: Request) -> int:
        raw = request.query.get("maxresults")
        if raw is None:
            return min(1000, self.config.max_page)
        try:
            value = int(raw)
        except ValueError:
            raise odata.QueryError("maxresults", raw, "MaxResults must be an integer") from None
        if value < 1:
            raise odata.QueryError("maxresults", raw, "MaxResults cannot be less than 1")
        if value > 1000:
            raise odata.QueryError("maxresults", raw, "MaxResults cannot be greater than 1000")
        return min(value, self.config.max_page)

    @staticmethod
    def _select(request: Request, properties: tuple[str, ...]) -> tuple[str, ...] | None:
        raw = request.query.get("$select")
        return None if raw is None else odata.parse_select(raw, properties)

    @staticmethod
    def _expand(request: Request) -> bool:
        raw = request.query.get("$expand")
        return False if raw is None else odata.parse_expand(raw)

    def _next_link(self, request: Request, path: str, last_id: str) -> str:
        kept = [
            (k, v)
            for k, v in parse_qsl(request.query_string, keep_blank_values=True)
            if k.lower() != "$skiptoken"
        ]
        kept.append(("$skiptoken", odata.make_skiptoken(last_id)))
        return f"{request.base_url}{path}?{urlencode(kept, quote_via=quote)}"

    def _renderer(self, request: Request) -> Renderer:
        return Renderer(self.world, self.timebase, request.base_url)

    def _job(self, job_id: str, t: float) -> w.JobPlan:
        plan = self.world.find_job(job_id, t)
        if plan is None:
            raise BatchHTTPError(404, "JobNotFound")
        return plan

    def _conditional(self, request: Request, etag: str, modified_epoch: float) -> Response | None:
        h = request.headers
        if "if-match" in h and h["if-match"].strip() not in ("*", etag):
            raise BatchHTTPError(412, "ConditionNotMet")
        if "if-unmodified-since" in h:
            since = _http_date(h["if-unmodified-since"])
            if since is not None and int(modified_epoch) > since:
                raise BatchHTTPError(412, "ConditionNotMet")
        if "if-none-match" in h and h["if-none-match"].strip() in ("*", etag):
            return Response(304, None, {"ETag": etag})
        if "if-modified-since" in h:
            since = _http_date(h["if-modified-since"])
            if since is not None and int(modified_epoch) <= since:
                return Response(304, None, {"ETag": etag})
        return None

    # ---------------------------------------------------------------- handlers

    def _paged(
        self,
        request: Request,
        rendered: Iterator[dict[str, Any]],
        *,
        properties: Any,
        filter_fields: Any,
        metadata: str,
        path: str,
    ) -> Response:
        """One page of a list call: $filter, maxresults, $select and the absolute nextLink."""
        size = self._page_size(request)
        select = self._select(request, properties)
        raw_filter = request.query.get("$filter")
        pred = odata.parse_filter(raw_filter, filter_fields) if raw_filter is not None else None
        value: list[dict[str, Any]] = []
        more = False
        for d in rendered:
            if pred is not None and not pred(d):
                continue
            if len(value) == size:
                more = True
                break
            value.append(d)
        body: dict[str, Any] = {
            "odata.metadata": self._renderer(request).metadata(metadata),
            "value": [odata.apply_select(d, select) for d in value],
        }
        if more:
            body["odata.nextLink"] = self._next_link(request, path, value[-1]["id"])
        return Response(200, body, {})

    @staticmethod
    def _after(request: Request) -> Any:
        token = request.query.get("$skiptoken")
        return odata.read_skiptoken(token) if token is not None else None

    def _list_jobs(self, request: Request) -> Response:
        t = self.clock.seconds()
        stats = self._expand(request)
        after = self._after(request)
        r = self._renderer(request)

        def rendered() -> Iterator[dict[str, Any]]:
            for job_id in self.world.job_ids_after(t, after):
                plan = self.world.plan(job_id)
                assert plan is not None
                yield r.job(self.world.job_view(plan, t), t, stats=stats)

        return self._paged(
            request,
            rendered(),
            properties=odata.JOB_PROPERTIES,
            filter_fields=odata.JOB_FILTER_FIELDS,
            metadata="jobs",
            path="/jobs",
        )

    def _get_job(self, request: Request, job_id: str) -> Response:
        t = self.clock.seconds()
        plan = self._job(job_id, t)
        select = self._select(request, odata.JOB_PROPERTIES)
        r = self._renderer(request)
        view = self.world.job_view(plan, t)
        d = r.job(view, t, stats=self._expand(request))
        etag = d["eTag"]
        headers = {"ETag": etag, "Last-Modified": self.timebase.http_date(view.last_modified)}
        cond = self._conditional(request, etag, self.timebase.epoch(job_version(view)))
        if cond is not None:
            return cond
        body = {"odata.metadata": r.metadata("jobs/@Element"), **d}
        return Response(200, odata.apply_select(body, select), headers)

    def _task_counts(self, request: Request, job_id: str) -> Response:
        t = self.clock.seconds()
        plan = self._job(job_id, t)
        counts, slots = self.world.counts(plan, t - self.config.count_lag)
        return Response(200, self._renderer(request).counts(counts, slots), {})

    def _list_tasks(self, request: Request, job_id: str) -> Response:
        t = self.clock.seconds()
        plan = self._job(job_id, t)
        stats = self._expand(request)
        after = self._after(request)
        r = self._renderer(request)

        def rendered() -> Iterator[dict[str, Any]]:
            for spec in self.world.visible_tasks(plan, t):
                if after is None or spec.id > after:
                    yield r.task(plan, self.world.task_view(plan, spec, t), t, stats=stats)

        return self._paged(
            request,
            rendered(),
            properties=odata.TASK_PROPERTIES,
            filter_fields=odata.TASK_FILTER_FIELDS,
            metadata="tasks",
            path=f"/jobs/{plan.id}/tasks",
        )

    def _task(self, plan: w.JobPlan, task_id: str, t: float) -> w.TaskSpec:
        spec = self.world.find_task(plan, task_id, t)
        if spec is None:
            raise BatchHTTPError(404, "TaskNotFound")
        return spec

    def _get_task(self, request: Request, job_id: str, task_id: str) -> Response:
        t = self.clock.seconds()
        plan = self._job(job_id, t)
        spec = self._task(plan, task_id, t)
        select = self._select(request, odata.TASK_PROPERTIES)
        r = self._renderer(request)
        view = self.world.task_view(plan, spec, t)
        d = r.task(plan, view, t, stats=self._expand(request))
        etag = d["eTag"]
        headers = {"ETag": etag, "Last-Modified": self.timebase.http_date(task_modified(spec))}
        cond = self._conditional(request, etag, self.timebase.epoch(task_version(view)))
        if cond is not None:
            return cond
        body = {"odata.metadata": r.metadata("tasks/@Element"), **d}
        return Response(200, odata.apply_select(body, select), headers)

    def _list_subtasks(self, request: Request, job_id: str, task_id: str) -> Response:
        t = self.clock.seconds()
        plan = self._job(job_id, t)
        spec = self._task(plan, task_id, t)
        select = self._select(request, odata.SUBTASK_PROPERTIES)
        version = request.query["api-version"]
        paged = _VERSION_ORDER[version] >= _VERSION_ORDER[FIRST_PAGED_SUBTASKS_VERSION]
        size = self.config.max_page if paged else 1 << 30
        token = request.query.get("$skiptoken")
        after = -1
        if token is not None:
            text = odata.read_skiptoken(token)
            if not text.isdigit():
                raise odata.QueryError("$skiptoken", token, "The skip token is not valid")
            after = int(text)
        r = self._renderer(request)
        views = [v for v in self.world.subtask_views(plan, spec, t) if v.spec.id > after]
        page = views[:size]
        body: dict[str, Any] = {
            "odata.metadata": r.metadata("subtaskinfo"),
            "value": [odata.apply_select(r.subtask(plan, spec, v), select) for v in page],
        }
        if len(views) > size:
            body["odata.nextLink"] = self._next_link(
                request, f"/jobs/{plan.id}/tasks/{spec.id}/subtasksinfo", str(page[-1].spec.id)
            )
        return Response(200, body, {})


def _http_date(text: str) -> int | None:
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
