"""One HTTP/1.1 connection: h11's state machine over an asyncio stream pair.

h11 is the protocol (it is httpcore's too) and leaves the I/O to its user, as its
documentation shows; this module is that I/O and nothing else. It replaced
``httpcore.AsyncHTTPConnection`` on the direct path (session 6): per request httpcore's
connection cost about as much again as h11 itself, in its anyio lock and cancel shield, trace
hooks and its own request and response models, converted to and from httpx's: ~0.5 ms of the
~1.5 ms a ``--once`` spends on each request (bench/README.md, session 6). It also needed the one
undocumented name batchtui used, ``"is_readable"``, to learn that an idle connection had been
closed by the server; here that is :meth:`Connection.reusable`, on asyncio's public API.

Errors come out as httpx's, chained to the OSError behind them (batch/tls_trouble.py walks the
chain to a certificate failure).
"""

# httpx's timeouts bound each socket operation (connect, each read, each write), as its own
# transport does; the whole answer's deadline is RequestCore's asyncio.timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import h11
import httpx

from batchtui.batch.tls_sessions import ResumingContext

#: the most bytes a status line and its headers may take (httpcore's own limit)
MAX_HEAD_BYTES = 100 * 1024
#: the most bytes asked of the socket at once
READ_SIZE = 64 * 1024


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


def origin_of(url: httpx.URL) -> tuple[bytes, bytes, int]:
    """Scheme, host and port: what a connection can be reused for."""
    return url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80)


def _failed(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class Connection:
    """One request at a time, then kept for the next while the server keeps it open.

    Broken (and closed) by anything that leaves an exchange unfinished: an error, a timeout, a
    cancellation, an answer abandoned half read, or the server saying ``Connection: close``.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        origin: tuple[bytes, bytes, int],
        keepalive_expiry: float | None,
        resume: tuple[ResumingContext, str] | None = None,
    ) -> None:
        self.origin = origin
        self._reader = reader
        self._writer = writer
        self._socket: Any = writer.get_extra_info("socket")
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._keepalive = keepalive_expiry
        self._idle_since = time.monotonic()
        self._broken = False
        #: the context to give this connection's TLS session to after its first answer, and the
        #: host name it was opened for (the key asyncio's handshake looks the session up by)
        self._resume = resume

    @classmethod
    async def open(
        cls,
        request: httpx.Request,
        *,
        ssl_context: ssl.SSLContext | None,
        timeout: float | None,
        keepalive_expiry: float | None,
    ) -> Connection:
        """A new connection to the request's origin (TLS when its scheme is https)."""
        url = request.url
        host = url.host
        origin = origin_of(url)
        port = origin[2]
        tls = ssl_context if url.scheme == "https" else None
        # As anyio: an IPv6 address that hangs is not waited on. uvloop's loop (--once) has no
        # such option and tries the addresses one after the other.
        eyeballs: dict[str, Any] = (
            {"happy_eyeballs_delay": 0.25}
            if isinstance(asyncio.get_running_loop(), asyncio.BaseEventLoop)
            else {}
        )
        try:
            async with asyncio.timeout(timeout):  # the TCP connection and the TLS handshake
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                    **eyeballs,
                )
        except TimeoutError:  # before OSError: it is one
            raise httpx.ConnectTimeout(f"no connection within {timeout} s", request=request) from None
        except OSError as exc:  # ssl.SSLError (a certificate that does not verify) is one
            raise httpx.ConnectError(_failed(exc), request=request) from exc
        resume = (tls, host) if isinstance(tls, ResumingContext) else None
        return cls(reader, writer, origin, keepalive_expiry, resume)

    @property
    def resumed(self) -> bool:
        """Whether the TLS handshake resumed an earlier session (batch/tls_sessions.py)."""
        tls = self._writer.get_extra_info("ssl_object")
        return bool(tls is not None and tls.session_reused)

    def finished(self) -> bool:
        """The last exchange ran to its end and both sides may start another."""
        return not self._broken and self._h11.our_state is h11.IDLE

    def reusable(self) -> bool:
        """:meth:`finished`, kept alive no longer than allowed, and not closed by the server
        meanwhile: asked when a request picks the connection, since that is when it matters."""
        if not self.finished():
            return False
        if self._keepalive is not None and time.monotonic() - self._idle_since > self._keepalive:
            return False
        # asyncio reads a socket as soon as data comes, so a server's close is usually already
        # in the reader (EOF) or has closed the transport; the poll covers the moment before.
        return not (self._reader.at_eof() or self._writer.is_closing() or _readable(self._socket))

    async def send(self, request: httpx.Request, timeouts: dict[str, Any]) -> h11.Response:
        """Send ``request`` whole and read the head of its answer; the body follows in :meth:`body`."""
        try:
            try:
                out = [
                    self._h11.send(
                        h11.Request(
                            method=request.method, target=request.url.raw_path, headers=request.headers.raw
                        )
                    )
                ]
                async for part in request.stream:  # type: ignore[union-attr]
                    if part:
                        out.append(self._h11.send(h11.Data(data=part)))
                out.append(self._h11.send(h11.EndOfMessage()))
            except h11.LocalProtocolError as exc:  # a header h11 will not send, a body too long
                raise httpx.LocalProtocolError(_failed(exc), request=request) from exc
            await self._write(b"".join(out), request, timeouts.get("write"))
            while True:
                event = await self._next(request, timeouts.get("read"))
                if isinstance(event, h11.Response):
                    return event
                if not isinstance(event, h11.InformationalResponse):  # 1xx: the answer follows
                    self._fail(request, f"unexpected {type(event).__name__} before the answer")
        except BaseException:
            self.close()
            raise

    async def body(self, request: httpx.Request, timeout: float | None) -> AsyncIterator[bytes]:
        """The answer's body as it arrives; at its end the connection is ready for another."""
        try:
            while True:
                event = await self._next(request, timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:
                    self._fail(request, f"unexpected {type(event).__name__} in the answer's body")
        except BaseException:
            self.close()
            raise
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self._idle_since = time.monotonic()
            if self._resume is not None:  # by now the server's session tickets have come
                context, host = self._resume
                context.remember(host, self._writer.get_extra_info("ssl_object"))
                self._resume = None
        else:  # the server said close (MUST_CLOSE)
            self.close()

    def close(self) -> None:
        self._broken = True
        self._writer.close()

    async def _write(self, data: bytes, request: httpx.Request, timeout: float | None) -> None:
        try:
            self._writer.write(data)
            transport = self._writer.transport
            if transport.get_write_buffer_size() or transport.is_closing():
                # only then is there anything to wait for (a small request is sent at once)
                async with asyncio.timeout(timeout):
                    await self._writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout(f"could not send within {timeout} s", request=request) from None
        except OSError as exc:
            raise httpx.WriteError(_failed(exc), request=request) from exc

    async def _next(self, request: httpx.Request, timeout: float | None) -> Any:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(_failed(exc), request=request) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(timeout):
                    data = await self._reader.read(READ_SIZE)
            except TimeoutError:
                raise httpx.ReadTimeout(f"no data within {timeout} s", request=request) from None
            except OSError as exc:
                raise httpx.ReadError(_failed(exc), request=request) from exc
            if not data and self._h11.their_state is h11.SEND_RESPONSE:
                self._fail(request, "Server disconnected without sending a response.")
            self._h11.receive_data(data)

    def _fail(self, request: httpx.Request, why: str) -> NoReturn:
        raise httpx.RemoteProtocolError(why, request=request)
