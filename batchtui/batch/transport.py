"""The client's HTTP transport: httpx's own, over a connection pool that stays cheap when many
requests are in flight.

httpcore 1.0's pool, on every request queued and every response closed, re-scans every
connection once per queued request, builds a list of all connections once per idle connection,
polls each idle socket through anyio's typed-attribute lookup, and counts *every* connection
against the keep-alive limit, so idle ones above it are closed and re-opened on the next burst
(encode/httpcore#1035, still open upstream). With 32 task-counts requests in flight that
bookkeeping, not the network, is what ``--once`` waits for: 1.2 s instead of 0.5 s for 200
jobs (bench/once_vs_sdk.py). The pool below does one pass over the connections, keeps as many
idle connections as it may have in flight, never hands one connection to two requests, and
polls an idle socket only when it hands that connection out (or once a second for all of them).

HTTP/1.1 only, as the client has always been (Batch does not need HTTP/2 here); proxies from
the environment still get httpx's standard transports, which the client mounts by itself.
"""

# httpcore's stream and backend interfaces take `timeout` arguments; they are not ours to change.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import sys
import time
from typing import Any

import httpcore
import httpx


def _readable(sock: socket.socket | None) -> bool:
    """Whether ``sock`` has data or EOF waiting: on an idle keep-alive connection, only the
    server's close can be waiting, so readable means it must not be reused."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """A connection as asyncio's own stream pair.

    httpcore's default goes through anyio, whose streams add a cancel scope, a checkpoint and
    an attribute table to every read and write, and whose readability question rebuilds that
    table each time it is asked: ~16 ms of a 200-job ``--once`` (bench/once_vs_sdk.py). The
    dashboard only ever runs on asyncio. Errors come out as httpcore's, which httpx maps to
    its own (ConnectError, ReadTimeout, ...) as it does for anyio's.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._socket: Any = writer.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:  # before OSError: it is one
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"TLS handshake not done within {timeout} s") from None
        except OSError as exc:  # ssl.SSLError (a certificate that does not verify) is one
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        if info == "socket":
            return self._socket
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


class _Backend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=0.25,  # as anyio: an IPv6 address that hangs is not waited on
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return _with_options(_Stream(reader, writer), socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return _with_options(_Stream(reader, writer), socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _with_options(stream: _Stream, options: Any) -> _Stream:
    # Applied once connected (the client sets none; asyncio already sets TCP_NODELAY).
    for option in options or ():
        stream.get_extra_info("socket").setsockopt(*option)
    return stream


class _Pool(httpcore.AsyncConnectionPool):
    #: how often every idle connection is checked for a server-side close or an expired
    #: keep-alive (each check polls its socket); one handed to a request is always checked
    SWEEP_SECONDS = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        # Called by httpcore (under its lock) whenever a request is queued or a response is
        # closed. Connections a request holds, sending or assigned and about to start, are
        # neither closed as idle nor given to a second request.
        held = {id(r.connection) for r in self._requests if r.connection is not None}
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
        closing: list[httpcore.AsyncConnectionInterface] = []
        kept: list[httpcore.AsyncConnectionInterface] = []
        idle: list[httpcore.AsyncConnectionInterface] = []
        for conn in self._connections:
            if conn.is_closed():
                continue
            if id(conn) not in held and conn.is_idle():
                if sweep and conn.has_expired():  # keep-alive ran out, or the server closed it
                    closing.append(conn)
                    continue
                idle.append(conn)
            kept.append(conn)
        surplus = len(idle) - self._max_keepalive_connections
        if surplus > 0:  # the oldest idle connections go first
            dropped = {id(c) for c in idle[:surplus]}
            closing.extend(idle[:surplus])
            idle = idle[surplus:]
            kept = [c for c in kept if id(c) not in dropped]
        self._connections = kept

        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            conn = self._reusable(idle, origin, checked=sweep, closing=closing)
            if conn is None:
                if len(self._connections) >= self._max_connections:
                    if not idle:
                        break  # every connection is busy: the rest wait for one to come back
                    victim = idle.pop(0)  # full, but an idle connection elsewhere makes room
                    self._connections.remove(victim)
                    closing.append(victim)
                conn = self.create_connection(origin)
                self._connections.append(conn)
            request.assign_to_connection(conn)
        return closing

    def _reusable(
        self,
        idle: list[httpcore.AsyncConnectionInterface],
        origin: httpcore.Origin,
        *,
        checked: bool,
        closing: list[httpcore.AsyncConnectionInterface],
    ) -> httpcore.AsyncConnectionInterface | None:
        """Take an idle connection to ``origin`` off ``idle``; one found dead is closed instead."""
        while True:
            conn = next((c for c in idle if c.can_handle_request(origin) and c.is_available()), None)
            if conn is None:
                return None
            idle.remove(conn)
            if checked or not conn.has_expired():
                return conn
            self._connections.remove(conn)
            closing.append(conn)


class BatchTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (its request, response and error mapping), over :class:`_Pool`."""

    def __init__(self, *, max_connections: int, tls: bool = True, keepalive_expiry: float = 5.0) -> None:
        # Not super().__init__(): it would build a TLS context and a pool only to throw them
        # away. httpx's request handling uses only ``self._pool`` (httpx is pinned for this).
        # ``tls=False`` is for a client that can only ever reach a plain-http origin (the
        # loopback simulator): loading the certificate bundle costs ~25 ms of every start,
        # which urllib3 (the SDK's stack) does not pay for http either. Were an https request
        # to come anyway, httpcore would build a default context for it.
        self._pool = _Pool(
            ssl_context=httpx.create_ssl_context() if tls else None,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_Backend(),
        )
