"""The simulated account as a plain ASGI 3 application.

One class holds the world, the clock, the faults and the request log; ``__call__`` is the
ASGI entry point, so the same object is served by uvicorn (``batchtui sim``) or handed to
``httpx.ASGITransport`` in-process (``--demo``, tests, benchmarks). A request goes: faults
(latency, outage, throttling), auth, then the routing table (routes/), and every answer,
BatchError bodies included, is written by asgi.write_response.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from batchtui.sim import world as w
from batchtui.sim.asgi import (
    MAX_REQUEST_BODY,
    BatchHTTPError,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error_response,
    lifespan,
    read_body,
    write_response,
)
from batchtui.sim.auth import authenticate
from batchtui.sim.clock import SimClock
from batchtui.sim.config import SimConfig
from batchtui.sim.faults import Faults
from batchtui.sim.routes import build_router
from batchtui.sim.routing import Router
from batchtui.sim.wire import Timebase, iso_wall

MAX_REQUEST_LOG = 200_000


def numbered_request_ids() -> Callable[[], str]:
    """request-ids 00000000-0000-0000-0000-000000000001, ...002, ...: in order, every run."""
    count = itertools.count(1)
    return lambda: f"00000000-0000-0000-0000-{next(count):012d}"


class ServedRequest(NamedTuple):
    method: str
    path: str
    status: int


class Simulator:
    """The world + the ASGI app. See SIM_API.md for the contract."""

    def __init__(
        self,
        config: SimConfig,
        *,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        router: Router | None = None,
        request_ids: Callable[[], str] | None = None,
    ) -> None:
        """``request_ids``: where each answer's request-id comes from (default: a fresh uuid4;
        pictures and snapshots number them, so that what shows them is the same every run)."""
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
        self.router = router if router is not None else build_router()
        self.requests: list[ServedRequest] = []
        # In-process there is no socket to close, so a "refuse" outage raises what a client's
        # connect would; the HTTP server turns this off and closes its listener instead.
        self.refuse_by_raising = True
        self._wall = wall
        self._request_id = request_ids or (lambda: str(uuid.uuid4()))

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

    def remove_node(self, pool_id: str, node_id: str) -> bool:
        """The node leaves its pool now (leavingpool, then gone; its files go with it)."""
        return self.world.remove_node(pool_id, node_id, self.clock.seconds())

    def _record(self, request: Request, status: int) -> None:
        self.requests.append(ServedRequest(request.method, request.path, status))
        if len(self.requests) > MAX_REQUEST_LOG:
            # a long-running `batchtui sim` keeps the newest half rather than growing forever
            del self.requests[: MAX_REQUEST_LOG // 2]

    # ---------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away before it finished sending
        request = Request(scope, body)
        request_id = self._request_id()
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
            if len(body) > MAX_REQUEST_BODY:
                raise BatchHTTPError(413, "RequestBodyTooLarge")
            authenticate(request, self.config, self._wall())
            response = self.router.dispatch(self, request)
        except BatchHTTPError as exc:
            response = self._error(request, request_id, exc)
        self._record(request, response.status)
        # The Date header is on the world's clock, as the service's Date and its entities' times
        # share one clock: a client asking "changed since" on the service's time (issue 15.1)
        # must find the world's times on it. Shared Key's ocp-date check stays on wall time.
        await write_response(send, request, request_id, response, self.clock.now().timestamp(), receive)

    def _error(self, request: Request, request_id: str, exc: BatchHTTPError) -> Response:
        return error_response(request, request_id, iso_wall(self._wall()), exc)
