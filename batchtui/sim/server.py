"""Serve a :class:`Simulator` over HTTP (or HTTPS) with uvicorn, including connection-refused outages.

A "refuse" outage cannot be expressed in ASGI (an app can only answer), so the server
closes its listening socket and drops open connections for the outage, then listens again
on the same port: clients see ECONNREFUSED, as they would from a service that is down.

Over TLS (``batchtui sim --tls``) the server counts the handshakes it is asked for
(:attr:`SimServer.tls_handshakes`), so a benchmark or a test can see whether a client keeps
its connections or reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import uvicorn

from batchtui.sim.app import Simulator
from batchtui.sim.asgi import Receive, Scope, Send
from batchtui.sim.config import SimConfig

if TYPE_CHECKING:  # cryptography is imported only when TLS is asked for
    from batchtui.sim.tls import ServerCertificate

log = logging.getLogger(__name__)

#: How long an idle client connection is kept open (seconds). uvicorn's default is 5 s, so a
#: dashboard refreshing every 5 s would reconnect on most ticks; the client keeps its idle
#: connections 120 s (batchtui/batch/transport.py), and the server keeps them longer still,
#: so it is the client that lets an idle connection go, never a request racing the server's
#: close of it.
KEEPALIVE_SECONDS = 300


class Draining:
    """The simulator, with a switch that ends requests still waiting when the server stops.

    With ``--latency-ms 20000`` every request in flight would hold a SIGTERM for 20 s (uvicorn
    waits for them), or be cancelled with a traceback in the log. Stopped, a waiting request
    is answered at once with an empty 503 and ``Connection: close``, as a service going down
    may answer; the client retries it elsewhere or later.
    """

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._stopping: asyncio.Event | None = None

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.sim.faults.latency_ms <= 0:
            await self.sim(scope, receive, send)  # nothing to wait for: no extra task
            return
        if self._stopping is None:
            self._stopping = asyncio.Event()
        started = False

        async def tracked(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        call = asyncio.ensure_future(self.sim(scope, receive, tracked))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if call.done():
            call.result()
            return
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        if not started:
            headers = [(b"content-length", b"0"), (b"connection", b"close"), (b"retry-after", b"5")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": b""})


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind first, so the caller knows the real port (port 0) before anything is printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class SimServer(uvicorn.Server):
    """uvicorn's server plus a watcher that closes and reopens the listener for "refuse" outages."""

    def __init__(
        self, config: uvicorn.Config, sim: Simulator, host: str, port: int, draining: Draining | None = None
    ) -> None:
        super().__init__(config)
        self.sim = sim
        self.draining = draining
        sim.refuse_by_raising = False
        self.host = host
        self.port = port
        self._watcher: asyncio.Task[None] | None = None
        #: TLS handshakes begun (ClientHello messages received); 0 over plain http
        self.tls_handshakes = 0

    def _client_hello(self, _conn: ssl.SSLObject, _name: str | None, _context: ssl.SSLContext) -> None:
        # OpenSSL calls the server-name callback once per ClientHello, whether or not the
        # client sent a name (clients do not for an IP address).
        self.tls_handshakes += 1

    #: called once listening, with uvicorn's Ctrl+C / SIGTERM handling in place
    on_ready: Callable[[], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self.config.ssl is not None:  # built by config.load(), which serve() has called
            self.config.ssl.sni_callback = self._client_hello
        await super().startup(sockets=sockets)
        if self.on_ready is not None and self.started:
            self.on_ready()
        self._watcher = asyncio.get_running_loop().create_task(self._watch_outages())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.draining is not None:
            self.draining.stop()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await super().shutdown(sockets=sockets)

    def _create_protocol(self, _loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=_loop,
        )

    async def _watch_outages(self) -> None:
        loop = asyncio.get_running_loop()
        closed = False
        while not self.should_exit:
            refusing = self.sim.faults.refusing()
            if refusing and not closed:
                for server in self.servers:
                    server.close()
                for connection in list(self.server_state.connections):
                    connection.shutdown()
                closed = True
            elif closed and not refusing:
                try:
                    sock = bind_socket(self.host, self.port)
                    server = await loop.create_server(
                        self._create_protocol, sock=sock, ssl=self.config.ssl, backlog=self.config.backlog
                    )
                except OSError as exc:  # port taken meanwhile: keep trying, the outage just lasts longer
                    log.warning("could not listen again on %s:%s: %s", self.host, self.port, exc)
                else:
                    self.servers = [server]
                    closed = False
            await asyncio.sleep(0.05)


def make_server(sim: Simulator, sock: socket.socket, *, tls: ServerCertificate | None = None) -> SimServer:
    host, port = sock.getsockname()[:2]
    draining = Draining(sim)
    config = uvicorn.Config(
        app=draining,
        log_level="warning",
        access_log=False,
        server_header=False,
        date_header=False,  # the simulator writes its own Date header
        lifespan="on",
        timeout_keep_alive=KEEPALIVE_SECONDS,
        ssl_certfile=None if tls is None else str(tls.cert_file),
        ssl_keyfile=None if tls is None else str(tls.key_file),
        # After a SIGTERM, what Draining has not ended within a second is cancelled.
        timeout_graceful_shutdown=1,
    )
    return SimServer(config, sim, host, port, draining)


def serve(
    config: SimConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    sim: Simulator | None = None,
    tls: ServerCertificate | None = None,
) -> None:
    """Blocking: serve until interrupted."""
    sock = bind_socket(host, port)
    server = make_server(sim or Simulator(config), sock, tls=tls)
    server.run(sockets=[sock])


class BackgroundServer:
    """A loopback server in a daemon thread, for tests and benchmarks that need a real socket."""

    def __init__(
        self,
        sim: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: ServerCertificate | None = None,
    ) -> None:
        self.sim = sim
        self._sock = bind_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self.tls = tls
        self.server = make_server(sim, self._sock, tls=tls)
        self._thread = threading.Thread(target=self._run, name="batchtui-sim", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self._sock]))

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread.start()
        deadline = threading.Event()
        waited = 0.0
        while not self.server.started and waited < timeout and self._thread.is_alive():
            deadline.wait(0.01)
            waited += 0.01
        if not self.server.started:
            raise RuntimeError("the simulator's HTTP server did not start")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
