"""The direct way to the service: httpcore's HTTP/1.1 connections over asyncio's own sockets.

httpx's stock transport runs httpcore's pool over anyio. In a 200-job ``--once`` that costs a
fifth of the client's CPU at 12 requests in flight and half of it at 32: anyio adds a cancel
scope and a checkpoint to every read and write and answers "did the server close this idle
connection?" by rebuilding a table of lambdas each time, and the pool asks that of every idle
connection, once per idle connection, on every request queued and every response closed
(bench/once_vs_sdk.py; bench/README.md, session 5). The dashboard only ever runs on asyncio.

Public API only: ``httpcore.AsyncHTTPConnection`` (one connection, its HTTP/1.1 state machine)
over a backend on httpcore's documented ``AsyncNetworkBackend`` / ``AsyncNetworkStream``
interface, under an ``httpx.AsyncBaseTransport``; the one undocumented name is in
:func:`extra_info`. Used for direct connections only: when a proxy applies, the client keeps
httpx's own transport, which picks the proxy and honours NO_PROXY (batch/transport.py).
"""

# httpcore's stream and backend interfaces take `timeout` arguments; they are not ours to change.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx


def _readable(sock: socket.socket | None) -> bool:
    """Whether ``sock`` has data or EOF waiting: on an idle keep-alive connection only the
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


def extra_info(stream: _Stream, info: str) -> Any:
    """``AsyncNetworkStream.get_extra_info``: the keys httpcore's own backends answer.

    ``"is_readable"`` is not in httpcore's documentation, but it is how a connection's
    ``has_expired()`` learns that the server closed it while idle; without an answer a
    connection the server dropped would be handed to the next request, which would fail. The
    one undocumented name, here only. These fail when httpcore stops asking it or it is
    answered wrongly (a server that closed an idle connection must cost a new connection,
    never a failed request): tests/test_transport.py (a plain-http server that hangs up) and
    tests/test_faults_tls.py (a TLS server restarted under the dashboard).
    """
    if info == "is_readable":
        # asyncio reads a socket as soon as data comes, so a server's close is usually already
        # in the reader (EOF), or has closed the transport; the poll covers the moment before.
        return stream.reader.at_eof() or stream.writer.is_closing() or _readable(stream.socket)
    if info == "socket":
        return stream.socket
    if info == "ssl_object":
        return stream.writer.get_extra_info("ssl_object")
    if info == "client_addr":
        return stream.writer.get_extra_info("sockname")
    if info == "server_addr":
        return stream.writer.get_extra_info("peername")
    return None


def _failed(exc: OSError) -> str:
    return str(exc) or type(exc).__name__


class _Stream(httpcore.AsyncNetworkStream):
    """A connection as asyncio's stream pair; errors come out as httpcore's, chained to the
    OSError behind them (batch/tls_trouble.py walks the chain to a certificate failure)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.socket: Any = writer.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read(max_bytes)
        except TimeoutError:  # before OSError: it is one
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ReadError(_failed(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            self.writer.write(buffer)
            async with asyncio.timeout(timeout):
                await self.writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
        except OSError as exc:
            raise httpcore.WriteError(_failed(exc)) from exc

    async def aclose(self) -> None:
        self.writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self.writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"TLS handshake not done within {timeout} s") from None
        except OSError as exc:  # ssl.SSLError (a certificate that does not verify) is one
            raise httpcore.ConnectError(_failed(exc)) from exc
        self.socket = self.writer.get_extra_info("socket")
        return self

    def get_extra_info(self, info: str) -> Any:
        return extra_info(self, info)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
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
            raise httpcore.ConnectError(_failed(exc)) from exc
        stream = _Stream(reader, writer)
        for option in socket_options or ():  # the client sets none; asyncio sets TCP_NODELAY
            stream.socket.setsockopt(*option)
        return stream

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("batchtui reaches the service over TCP only")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


#: httpcore's errors as httpx's (the most specific class wins, as in httpx's own transport)
_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
}


@contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        kind = next((_ERRORS[k] for k in type(exc).__mro__ if k in _ERRORS), None)
        if kind is None:
            raise
        raise kind(str(exc), request=request) from exc


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
        self._idle: list[httpcore.AsyncHTTPConnection] = []  # least recently used first
        self._busy: set[httpcore.AsyncHTTPConnection] = set()
        self._backend = AsyncioBackend()

    async def take(self, origin: httpcore.Origin, wait: float | None) -> httpcore.AsyncHTTPConnection:
        try:
            async with asyncio.timeout(wait):
                await self._slots.acquire()
        except TimeoutError:
            raise httpcore.PoolTimeout(f"no connection free within {wait} s") from None
        try:
            while self._idle:
                conn = self._idle.pop(0)
                if conn.can_handle_request(origin) and conn.is_available() and not conn.has_expired():
                    self._busy.add(conn)
                    return conn
                await conn.aclose()  # expired, or closed by the server while idle
        except BaseException:  # cancelled while closing a dead one: the slot is not kept
            self._slots.release()
            raise
        conn = httpcore.AsyncHTTPConnection(
            origin,
            ssl_context=self._ssl,
            keepalive_expiry=self._keepalive,
            http1=True,
            http2=False,
            network_backend=self._backend,
        )
        self._busy.add(conn)
        return conn

    async def give_back(self, conn: httpcore.AsyncHTTPConnection) -> None:
        """The request on ``conn`` is over: kept if it can take another, closed otherwise."""
        self._busy.discard(conn)
        self._slots.release()
        if conn.is_idle() and not conn.is_closed():
            self._idle.append(conn)
        else:  # the server said close, or the answer was abandoned half read
            await conn.aclose()

    async def aclose(self) -> None:
        conns, self._idle = [*self._idle, *self._busy], []
        self._busy.clear()
        for conn in conns:
            await conn.aclose()


class _Body(httpx.AsyncByteStream):
    """An answer's body; when it is closed (read to the end or not) its connection goes back."""

    def __init__(self, parts: Any, request: httpx.Request, done: Callable[[], Awaitable[None]]) -> None:
        self._parts = parts
        self._request = request
        self._done: Callable[[], Awaitable[None]] | None = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx(self._request):
            async for part in self._parts:
                yield part

    async def aclose(self) -> None:
        done, self._done = self._done, None
        if done is None:
            return
        try:
            if hasattr(self._parts, "aclose"):
                with _as_httpx(self._request):
                    await self._parts.aclose()
        finally:
            await done()


class DirectTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 straight to the endpoint over :class:`AsyncioBackend`, through :class:`_Pool`."""

    def __init__(self, *, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        self.pool = _Pool(limits=limits, ssl_context=ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        timeouts = request.extensions.get("timeout", {})
        with _as_httpx(request):
            conn = await self.pool.take(core.url.origin, timeouts.get("pool"))
            try:
                answer = await conn.handle_async_request(core)
            except BaseException:
                await self.pool.give_back(conn)
                raise
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream, request, lambda: self.pool.give_back(conn)),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
