"""HTTPS_PROXY / HTTP_PROXY / NO_PROXY, through a real forward proxy in its own process.

The proxy is proxy.py (the test extra), run on loopback with its access log on (one line per
connection it served, written when that connection closes). What went through it is seen at
both ends: a plain-http connection the proxy opened to the simulator carries proxy.py's ``Via``
header on its first request (proxy.py relays the rest of a kept-alive connection as it is); an
HTTPS connection is one ``CONNECT`` line in the proxy's log and one TLS handshake at the
simulator.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import BatchServiceError
from batchtui.once import collect
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate

pytest.importorskip("proxy", reason="proxy.py is in the test extra: pip install -e '.[test]'")

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@dataclass
class Proxy:
    url: str
    log: Path

    def lines(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if "access_log" in line]

    def wait_for(self, needle: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        """The access-log lines holding ``needle``, once there are ``count`` of them. proxy.py
        writes a line when the connection it served closes."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.lines() if needle in line]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    home = tmp_path_factory.mktemp("proxy")
    log, port_file = home / "proxy.log", home / "port"
    env = {k: v for k, v in os.environ.items() if k.upper() not in PROXY_VARIABLES}
    env["HOME"] = str(home)  # proxy.py keeps a folder in $HOME: never the developer's
    cmd = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"]
    cmd += ["--port-file", str(port_file), "--num-acceptors", "1", "--num-workers", "1"]
    cmd += ["--data-dir", str(home / "data"), "--log-level", "INFO", "--log-file", str(log)]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        port = 0
        while not port and time.monotonic() < deadline and process.poll() is None:
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text) if text.isdigit() else 0
            time.sleep(0.05)
        while port and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        if not port:
            pytest.fail(f"proxy.py did not start: {log.read_text() if log.exists() else ''}")
        yield Proxy(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


class ViaSimulator(Simulator):
    """The simulator, noting each request's connection (the peer's port), path and ``Via``."""

    def __init__(self) -> None:
        super().__init__(SimConfig(seed=5, jobs=12, time_scale=0))
        self.seen: list[tuple[int, str, str | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            via = dict(scope["headers"]).get(b"via", b"").decode() or None
            self.seen.append((scope["client"][1], scope["path"], via))
        await super().__call__(scope, receive, send)

    def first_on_each_connection(self) -> dict[int, str | None]:
        """The ``Via`` of the first request on each connection."""
        first: dict[int, str | None] = {}
        for port, _path, via in self.seen:
            first.setdefault(port, via)
        return first


def client(server: BackgroundServer, **kw: object) -> BatchClient:
    config = server.sim.config
    return BatchClient(server.url, SharedKeyAuth(config.account, config.key), **kw)  # type: ignore[arg-type]


async def test_plain_http_goes_through_http_proxy(proxy: Proxy, no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    sim = ViaSimulator()
    with BackgroundServer(sim) as server:
        async with client(server, max_concurrency=4) as batch:
            result = await collect(batch)
    assert result.jobs and all(row.counts is not None for row in result.jobs)
    # Every request reached the simulator (still signed) on a connection the proxy opened, at
    # most 4 of them: one per request in flight, kept alive.
    assert len(sim.seen) == batch.stats.requests == len(result.jobs) + 2  # + the pools' node counts
    first = sim.first_on_each_connection()
    assert 1 <= len(first) <= 4
    assert set(first.values()) == {f"1.1 proxy.py v{proxy_version()}"}
    lines = proxy.wait_for(f"GET 127.0.0.1:{server.port}/jobs")
    assert 1 <= len(lines) <= 4 and all(" 200 OK " in line for line in lines)


def proxy_version() -> str:
    from proxy.common.version import __version__

    return str(__version__)


async def test_https_goes_through_a_connect_tunnel(
    proxy: Proxy, no_proxy_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    no_proxy_env.setenv("SSL_CERT_FILE", str(tls.ca_file))
    sim = ViaSimulator()
    with BackgroundServer(sim, tls=tls) as server:
        async with client(server, max_concurrency=4) as batch:
            first = await collect(batch)
            second = await collect(batch)  # over the same tunnels
        handshakes = server.server.tls_handshakes
    assert first.jobs and all(row.counts is not None for row in (*first.jobs, *second.jobs))
    assert sim.seen and all(via is None for *_, via in sim.seen)  # inside TLS the proxy adds nothing
    # Each connection is one tunnel and one TLS handshake with the simulator, end to end (the
    # proxy sees only where the tunnel goes), and both bursts shared the same few.
    tunnels = proxy.wait_for(f"CONNECT 127.0.0.1:{server.port} ", count=handshakes)
    assert 1 <= handshakes <= 4
    assert len(tunnels) == handshakes


async def test_no_proxy_bypasses_it(proxy: Proxy, no_proxy_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    no_proxy_env.setenv("HTTP_PROXY", proxy.url)
    no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
    no_proxy_env.setenv("NO_PROXY", "example.org, 127.0.0.1")
    no_proxy_env.setenv("SSL_CERT_FILE", str(tls.ca_file))
    sim = ViaSimulator()
    with BackgroundServer(sim) as plain, BackgroundServer(ViaSimulator(), tls=tls) as secure:
        for server in (plain, secure):
            async with client(server) as batch:
                assert (await collect(batch)).jobs
        assert sim.seen and all(via is None for *_, via in sim.seen)  # plain http came direct
        # Then one request that does go through the proxy: once its line is in the log, the
        # line of any tunnel closed before it would be there too (one proxy worker, in order).
        no_proxy_env.delenv("NO_PROXY")
        async with client(plain) as batch:
            with pytest.raises(BatchServiceError):
                await batch.get_task_counts("marker-job")
        assert proxy.wait_for(f"127.0.0.1:{plain.port}/jobs/marker-job/taskcounts")
        assert sim.seen[-1][2] is not None
    mentioned = [line for line in proxy.lines() if re.search(rf":({plain.port}|{secure.port})\b", line)]
    assert len(mentioned) == 1 and "marker-job" in mentioned[0]
