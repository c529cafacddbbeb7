"""The client's connection pool (batchtui/batch/transport.py), over real loopback sockets.

A small HTTP/1.1 server counts the connections it accepts and the requests in flight, so the
tests see what went over the wire: how many connections a burst opened, whether they were kept,
and whether a connection the server closed was ever written to again.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.transport import BatchTransport
from batchtui.once import collect
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer


@dataclass
class Wire:
    url: str = ""
    connections: int = 0
    requests: int = 0
    in_flight: int = 0
    peak: int = 0


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def listening(handler: Handler, context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback server running ``handler`` per connection; yields its base URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"


@asynccontextmanager
async def http_server(*, delay: float = 0.0, close_after_response: bool = False) -> AsyncIterator[Wire]:
    wire = Wire()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                wire.requests += 1
                wire.in_flight += 1
                wire.peak = max(wire.peak, wire.in_flight)
                await asyncio.sleep(delay)
                wire.in_flight -= 1
                body = b'{"ok": true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
                if close_after_response or head.startswith(b"GET /close "):
                    # keep-alive promised (no Connection: close), then hung up
                    writer.close()
                    return
        finally:
            writer.close()

    async with listening(serve) as wire.url:
        yield wire


async def test_a_burst_opens_one_connection_per_request_in_flight_and_keeps_them_all() -> None:
    async with http_server(delay=0.02) as wire:
        async with httpx.AsyncClient(transport=BatchTransport(max_connections=8)) as http:
            first = await asyncio.gather(*(http.get(f"{wire.url}/x") for _ in range(64)))
            assert [r.status_code for r in first] == [200] * 64
            assert (wire.connections, wire.peak) == (8, 8)
            # All 8 stay alive between bursts (httpx keeps 20 by default, and httpcore 1.0
            # counts busy connections against that limit too): the next burst opens none.
            again = await asyncio.gather(*(http.get(f"{wire.url}/x") for _ in range(64)))
            assert [r.status_code for r in again] == [200] * 64
            assert wire.connections == 8
    assert wire.requests == 128


async def test_a_connection_the_server_closed_is_never_written_to_again() -> None:
    async with http_server(close_after_response=True) as wire:
        async with httpx.AsyncClient(transport=BatchTransport(max_connections=4)) as http:
            for _ in range(5):
                assert (await http.get(f"{wire.url}/x")).status_code == 200
                await asyncio.sleep(0.05)  # the server's FIN arrives while the connection is idle
    # Each request found its idle connection readable (EOF) and opened a new one, rather than
    # sending into a dead socket and failing with "server disconnected".
    assert (wire.requests, wire.connections) == (5, 5)


async def test_idle_connections_the_server_closed_are_let_go_within_a_second() -> None:
    async with http_server() as wire:
        transport = BatchTransport(max_connections=4)
        async with httpx.AsyncClient(transport=transport) as http:
            paths = ["/keep", "/close", "/close", "/close"]  # one connection each, in this order
            burst = await asyncio.gather(*(http.get(f"{wire.url}{p}") for p in paths))
            assert [r.status_code for r in burst] == [200] * 4
            await asyncio.sleep(transport._pool.SWEEP_SECONDS + 0.1)
            # This request reuses the live connection; the three the server hung up on are
            # swept on the way, not kept until someone happens to pick them.
            assert (await http.get(f"{wire.url}/keep")).status_code == 200
            assert len(transport._pool.connections) == 1
    assert wire.connections == 4


async def test_requests_beyond_the_pool_wait_for_a_connection_and_none_is_shared() -> None:
    async with http_server(delay=0.01) as wire:
        async with httpx.AsyncClient(transport=BatchTransport(max_connections=3)) as http:
            results = await asyncio.gather(*(http.get(f"{wire.url}/{i}") for i in range(30)))
    assert all(r.status_code == 200 and r.json() == {"ok": True} for r in results)
    assert wire.connections == 3 and wire.peak == 3 and wire.requests == 30


async def test_once_over_loopback_reads_every_jobs_counts_through_the_pool() -> None:
    sim = Simulator(SimConfig(seed=3, jobs=60, time_scale=0))
    with BackgroundServer(sim) as server:
        auth = SharedKeyAuth(sim.config.account, sim.config.key)
        async with BatchClient(server.url, auth, max_concurrency=8) as client:
            result = await collect(client)
    assert len(result.jobs) >= 50
    assert all(row.counts is not None and row.error is None for row in result.jobs)
    assert client.stats.requests == len(result.jobs) + 1  # one list page, one counts call each


# ---------------------------------------------------------------------- failures, as httpx's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_httpx_connect_error() -> None:
    async with httpx.AsyncClient(transport=BatchTransport(max_connections=2)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{_free_port()}/x")


async def test_a_server_that_never_answers_is_httpx_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(1 << 16)
            await asyncio.sleep(5)
        finally:
            writer.close()

    async with (
        listening(silent) as url,
        httpx.AsyncClient(transport=BatchTransport(max_connections=2), timeout=0.2) as http,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{url}/x")


async def test_a_server_that_hangs_up_mid_body_is_an_httpx_protocol_error() -> None:
    async def truncating(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.close()

    async with (
        listening(truncating) as url,
        httpx.AsyncClient(transport=BatchTransport(max_connections=2)) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/x")


# ---------------------------------------------------------------------- TLS


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made here (no network, no fixtures on disk)."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batchtui test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@asynccontextmanager
async def https_server(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async with listening(serve, context) as url:
        yield url, cert


async def test_https_verifies_the_server_against_the_trusted_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with https_server(tmp_path) as (url, cert):
        # Not in the default bundle: refused, as httpx's own transport refuses it.
        async with httpx.AsyncClient(transport=BatchTransport(max_connections=2)) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"{url}/x")
        # Trusted the way an operator behind a TLS-inspecting proxy would (SSL_CERT_FILE):
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        async with httpx.AsyncClient(transport=BatchTransport(max_connections=2)) as http:
            first, second = (await http.get(f"{url}/x")), (await http.get(f"{url}/y"))
            assert (first.status_code, first.text, second.text) == (200, "ok", "ok")
            assert first.extensions["network_stream"].get_extra_info("ssl_object") is not None
