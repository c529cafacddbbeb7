"""Misbehaving Batch services on loopback, in a thread of their own, for tests that run the
command line (``main()`` runs its own event loop) or the dashboard against them.

Each server answers every request the same way and counts what it was sent:

- ``skiptoken``: a page of jobs whose ``odata.nextLink`` carries a new ``$skiptoken`` every
  time, so a client that follows links pages forever;
- ``silent``: reads the request and never answers;
- ``trickle``: promises a body and sends it one byte a second;
- ``fixed``: one status and body for every request;
- ``routes``: ``route(path)`` gives each request's status and JSON document.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Served:
    url: str = ""
    requests: int = 0
    paths: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def job(i: int) -> dict[str, Any]:
    return {"id": f"job-{i:07d}", "state": "active", "poolInfo": {"poolId": "pool"}}


@contextmanager
def serving(
    mode: str,
    *,
    page_size: int = 100,
    status: int = 200,
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
    route: Callable[[str], tuple[int, Any]] | None = None,
) -> Iterator[Served]:
    served = Served()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass

        def send(self, code: int, payload: bytes, extra: dict[str, str] | None = None) -> None:
            # One write for head and body: two small writes meet the peer's delayed ACK (40 ms).
            head = [f"HTTP/1.1 {code} X", "Content-Type: application/json;odata=minimalmetadata"]
            head.append(f"Content-Length: {len(payload)}")
            head += [f"{name}: {value}" for name, value in (extra or {}).items()]
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            with lock:
                served.requests += 1
                served.paths.append(self.path)
            if mode == "skiptoken":
                query = parse_qs(urlsplit(self.path).query)
                skip = int(query.get("$skiptoken", ["0"])[0])
                items = [job(skip + i) for i in range(page_size)]
                link = f"{served.url}/jobs?api-version=2025-06-01&$skiptoken={skip + page_size}"
                self.send(200, json.dumps({"value": items, "odata.nextLink": link}).encode())
            elif mode == "silent":
                served.stop.wait(120)
                self.close_connection = True
            elif mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                while not served.stop.wait(1.0):
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                self.close_connection = True
            elif mode == "routes":
                assert route is not None
                code, doc = route(urlsplit(self.path).path)
                self.send(code, json.dumps(doc).encode())
            else:
                self.send(status, body, headers)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hangs up (a timeout under test) is not news

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_until(predicate: Any, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
