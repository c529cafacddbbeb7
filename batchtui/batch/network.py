"""The direct way to the service: HTTP/1.1 connections of our own (batch/http11.py, on h11) over
asyncio's sockets, in a pool of our own, under an ``httpx.AsyncBaseTransport``.

Not httpx's stock transport: that runs httpcore's pool over anyio, whose CPU grows with the
square of the requests in flight (below), and whose connection costs as much again as h11 per
request (batch/http11.py). The dashboard only ever runs on asyncio. Used for direct connections
only: when a proxy applies, the client keeps httpx's own transport, which picks the proxy and
honours NO_PROXY (batch/transport.py). Public API only: httpx's transport and stream
interfaces, h11 and asyncio.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

from batchtui.batch.http11 import Connection, origin_of


class _Pool:
    """HTTP/1.1 connections to one origin, each used by one request at a time.

    Not httpcore's ``AsyncConnectionPool``: on every request queued and every response closed
    that one walks every connection once per idle connection (encode/httpcore#1035), so its CPU
    grows with the square of the requests in flight; at 32 in flight it doubles a 200-job
    ``--once`` (bench/README.md, session 5). Here a request takes a slot (as many as may be in
    flight) and the idle connection used least recently, so every connection of a burst is kept
    in use and alive (issue 15: a rarely needed second connection would otherwise expire and
    cost a handshake at the next burst); one the server closed is dropped when it is picked.
    """

    def __init__(self, *, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._keepalive = limits.keepalive_expiry
        self._slots = asyncio.Semaphore(limits.max_connections or 100)
        self._idle: list[Connection] = []  # least recently used first
        self._busy: set[Connection] = set()

    async def take(self, request: httpx.Request, timeouts: dict[str, Any]) -> Connection:
        """A slot, and the least recently used idle connection to the request's origin or a new one."""
        wait = timeouts.get("pool")
        if self._slots.locked():  # a timer only when there is something to wait for (~4% of CPU)
            try:
                async with asyncio.timeout(wait):
                    await self._slots.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout(f"no connection free within {wait} s", request=request) from None
        else:
            await self._slots.acquire()  # free: taken at once
        try:
            origin = origin_of(request.url)
            while self._idle:
                conn = self._idle.pop(0)
                if conn.origin == origin and conn.reusable():
                    self._busy.add(conn)
                    return conn
                conn.close()  # expired, or closed by the server while idle
            conn = await Connection.open(
                request,
                ssl_context=self._ssl,
                timeout=timeouts.get("connect"),
                keepalive_expiry=self._keepalive,
            )
        except BaseException:  # no connection (or cancelled while opening one): the slot is not kept
            self._slots.release()
            raise
        self._busy.add(conn)
        return conn

    def give_back(self, conn: Connection) -> None:
        """The request on ``conn`` is over: kept if it can take another, closed otherwise."""
        self._busy.discard(conn)
        self._slots.release()
        if conn.finished():  # its expiry and the server's close are looked at when it is picked
            self._idle.append(conn)
        else:  # the server said close, or the answer was abandoned half read
            conn.close()

    def close(self) -> None:
        conns, self._idle = [*self._idle, *self._busy], []
        self._busy.clear()
        for conn in conns:
            conn.close()


class _Body(httpx.AsyncByteStream):
    """An answer's body; when it is closed (read to the end or not) its connection goes back."""

    def __init__(self, pool: _Pool, conn: Connection, request: httpx.Request, timeout: float | None) -> None:
        self._pool = pool
        self._conn: Connection | None = conn
        self._request = request
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._conn is None:
            raise httpx.StreamClosed()
        async for part in self._conn.body(self._request, self._timeout):
            yield part

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._pool.give_back(conn)  # not read to its end: not reusable, so closed


class DirectTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 straight to the endpoint (batch/http11.py), through :class:`_Pool`."""

    def __init__(self, *, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        self.pool = _Pool(limits=limits, ssl_context=ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        conn = await self.pool.take(request, timeouts)
        try:
            head = await conn.send(request, timeouts)
        except BaseException:
            self.pool.give_back(conn)
            raise
        return httpx.Response(
            status_code=head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(self.pool, conn, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )

    async def aclose(self) -> None:
        self.pool.close()
