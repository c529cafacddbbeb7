"""``/metrics`` over HTTP: prometheus_client's WSGI app, its answer kept until the data changes.

Rendering the text format costs ~30 ms for 200 jobs (bench/exporter_cost.py's account) on the
Python thread the poll loops also need, and the data only changes when an account is read
(every ``--refresh``). So each distinct answer (path, query, Accept, Accept-Encoding: what
prometheus_client's app negotiates on) is rendered once per change of the feeds and then served
as bytes: ten scrapers cost one render per interval, not ten a second, and cannot slow the reads.

The server is the standard library's WSGI server with a thread per request, bound to one
address (the family chosen for it, so ``[::1]`` works), as prometheus_client's
``start_http_server`` builds it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.registry import Collector

#: distinct answers kept for one version of the data (each client sends the same headers)
MAX_CACHED = 16
#: requests whose negotiation headers are longer are answered but not kept
MAX_KEY_CHARS = 2048

Answer = tuple[str, list[tuple[str, str]], bytes]


class CachedMetricsApp:
    def __init__(self, registry: Collector, version: Callable[[], object]) -> None:
        self._app = make_wsgi_app(registry)
        self._version = version
        self._lock = threading.Lock()
        self._cached_version: object = None
        self._cache: dict[tuple[str, ...], Answer] = {}
        self.renders = 0  # answers rendered (tests, benchmarks)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = tuple(
            str(environ.get(k, ""))
            for k in ("PATH_INFO", "QUERY_STRING", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING")
        )
        version = self._version()
        with self._lock:
            answer = self._cache.get(key) if version == self._cached_version else None
        if answer is None:
            answer = self._render(environ)
            if sum(map(len, key)) <= MAX_KEY_CHARS:
                with self._lock:
                    if version != self._cached_version:
                        self._cache = {}
                        self._cached_version = version
                    if len(self._cache) < MAX_CACHED:
                        self._cache[key] = answer
        status, headers, body = answer
        start_response(status, list(headers))
        return [body]

    def _render(self, environ: dict[str, Any]) -> Answer:
        got: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            got["status"], got["headers"] = status, headers

        body = b"".join(self._app(environ, capture))
        self.renders += 1
        return got["status"], list(got["headers"]), body


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # one line per scrape on stderr would drown the account messages


def serve_in_thread(app: CachedMetricsApp, host: str, port: int) -> WSGIServer:
    """Serve ``app`` on ``host:port`` from a daemon thread; ``shutdown()`` then ``server_close()``."""
    family, _, _, _, address = next(
        iter(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE))
    )

    class Server(_ThreadingServer):
        address_family = family

    server = make_server(str(address[0]), port, app, Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="batchtui-metrics", daemon=True).start()
    return server
