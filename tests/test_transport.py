"""How the client uses its connections and whom it trusts (batchtui/batch/transport.py), over
real loopback sockets.

A small HTTP/1.1 server counts the connections it accepts and the requests in flight, so the
tests see what went over the wire: how many connections a burst opened, whether they were kept,
and whether a connection the server closed was ever written to again. Every request goes
through BatchClient's public calls, built the way the dashboard builds it.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import CertificateError, ConfigError, TransportError
from batchtui.batch.retry import RetryPolicy
from batchtui.batch.transport import (
    KEEPALIVE_SECONDS,
    needs_tls,
    proxies_from_env,
    trust_store,
    untrusting_context,
)
from batchtui.once import collect
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import KEEPALIVE_SECONDS as SIM_KEEPALIVE_SECONDS
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate

COUNTS = json.dumps(
    {"taskCounts": {"active": 1, "running": 2, "completed": 3, "succeeded": 3, "failed": 0}}
).encode()
ONE_TRY = RetryPolicy(max_attempts=1)


@dataclass
class Wire:
    url: str = ""
    connections: int = 0
    requests: int = 0
    in_flight: int = 0
    peak: int = 0
    #: requests served on each connection, in the order they were accepted
    per_connection: list[int] = field(default_factory=list)
    hung_up: asyncio.Queue[None] = field(default_factory=asyncio.Queue)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def listening(handler: Handler, context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback server running ``handler`` per connection; yields its base URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"


@asynccontextmanager
async def counts_server(
    *, delay: float = 0.0, close_after_response: bool = False, context: ssl.SSLContext | None = None
) -> AsyncIterator[Wire]:
    """Answers every request with a task-counts body; counts connections and requests."""
    wire = Wire()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire.connections += 1
        mine = len(wire.per_connection)
        wire.per_connection.append(0)
        try:
            while True:
                try:
                    await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                    return
                wire.requests += 1
                wire.per_connection[mine] += 1
                wire.in_flight += 1
                wire.peak = max(wire.peak, wire.in_flight)
                await asyncio.sleep(delay)
                wire.in_flight -= 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(COUNTS), COUNTS)
                )
                await writer.drain()
                if close_after_response:  # keep-alive promised (no Connection: close), then hung up
                    writer.close()
                    await writer.wait_closed()
                    wire.hung_up.put_nowait(None)
                    return
        finally:
            writer.close()

    async with listening(serve, context) as wire.url:
        yield wire


async def test_a_burst_opens_one_connection_per_request_in_flight_and_keeps_them_all() -> None:
    async with counts_server(delay=0.02) as wire, BatchClient(wire.url, max_concurrency=8) as client:
        first = await asyncio.gather(*(client.get_task_counts(f"j{i}") for i in range(64)))
        assert all(r.task_counts is not None and r.task_counts.running == 2 for r in first)
        assert (wire.connections, wire.peak) == (8, 8)
        # All 8 stay alive between bursts (httpx keeps 20 by default, and the client has up
        # to 32 in flight): the next burst opens none.
        await asyncio.gather(*(client.get_task_counts(f"j{i}") for i in range(64)))
        assert wire.connections == 8
    assert wire.requests == 128


async def test_a_connection_the_server_closed_is_never_written_to_again() -> None:
    async with (
        counts_server(close_after_response=True) as wire,
        BatchClient(wire.url, max_concurrency=4, retry=ONE_TRY) as client,
    ):
        for _ in range(5):
            await client.get_task_counts("j")
            await wire.hung_up.get()  # the server's FIN is sent while the connection is idle
    # Each request found its idle connection closed and opened a new one, rather than sending
    # into a dead socket and failing with "server disconnected" (one try: no retry hides it).
    assert (wire.requests, wire.connections) == (5, 5)
    assert (client.stats.requests, client.stats.errors) == (5, 0)


async def test_over_tls_a_connection_the_server_closed_is_never_written_to_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over TLS the close comes as a close_notify, which asyncio reads before anyone asks.
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(tls.cert_file, tls.key_file)
    async with (
        counts_server(close_after_response=True, context=server_side) as wire,
        BatchClient(wire.url, max_concurrency=4, retry=ONE_TRY) as client,
    ):
        for _ in range(3):
            await client.get_task_counts("j")
            await wire.hung_up.get()
            await asyncio.sleep(0.05)  # the close_notify and FIN reach the client's loop
    assert (wire.requests, wire.connections) == (3, 3)
    assert (client.stats.requests, client.stats.errors) == (3, 0)


async def test_one_at_a_time_the_connections_of_a_burst_take_turns_and_stay_alive() -> None:
    # A connection a burst opened and one-at-a-time reads never used again would outlive its
    # keep-alive, and the next burst would pay a new TLS handshake for it (issue 15).
    async with counts_server(delay=0.02) as wire, BatchClient(wire.url, max_concurrency=4) as client:
        await asyncio.gather(*(client.get_task_counts(f"j{i}") for i in range(4)))
        assert wire.per_connection == [1, 1, 1, 1]
        for i in range(8):
            await client.get_task_counts(f"j{i}")
    assert wire.per_connection == [3, 3, 3, 3]


async def test_failed_and_abandoned_requests_give_their_connection_back() -> None:
    """Answers cut half way, and requests cancelled while in flight, leave every slot free:
    afterwards as many requests as the limit still run at once."""
    cut = {"left": 3}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if cut["left"] > 0:  # promise a body, send half, hang up
                    cut["left"] -= 1
                    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"taskCounts"')
                    await writer.drain()
                    return
                await asyncio.sleep(0.05)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(COUNTS), COUNTS))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    async with listening(serve) as url, BatchClient(url, max_concurrency=2, retry=ONE_TRY) as client:
        for _ in range(3):
            with pytest.raises(TransportError):
                await client.get_task_counts("j")
        calls = [asyncio.ensure_future(client.get_task_counts(f"c{i}")) for i in range(2)]
        await asyncio.sleep(0.02)
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        async with asyncio.timeout(5):
            results = await asyncio.gather(*(client.get_task_counts(f"j{i}") for i in range(2)))
    assert all(r.task_counts is not None for r in results)


async def test_requests_beyond_the_limit_wait_for_a_connection_and_none_is_shared() -> None:
    async with counts_server(delay=0.01) as wire, BatchClient(wire.url, max_concurrency=3) as client:
        results = await asyncio.gather(*(client.get_task_counts(f"j{i}") for i in range(30)))
    assert all(r.task_counts is not None for r in results)
    assert wire.connections == 3 and wire.peak == 3 and wire.requests == 30


async def test_once_over_loopback_reads_every_jobs_counts() -> None:
    sim = Simulator(SimConfig(seed=3, jobs=60, time_scale=0))
    with BackgroundServer(sim) as server:
        auth = SharedKeyAuth(sim.config.account, sim.config.key)
        async with BatchClient(server.url, auth, max_concurrency=8) as client:
            result = await collect(client)
    assert len(result.jobs) >= 50
    assert all(row.counts is not None and row.error is None for row in result.jobs)
    # one list page, one counts call each, and the pools' node counts
    assert client.stats.requests == len(result.jobs) + 2


async def test_over_tls_a_second_burst_needs_no_new_handshake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = Simulator(SimConfig(seed=3, jobs=60, time_scale=0))
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    with BackgroundServer(sim, tls=tls) as server:
        auth = SharedKeyAuth(sim.config.account, sim.config.key)
        async with BatchClient(server.url, auth, max_concurrency=8) as client:
            first = await collect(client)
            assert server.server.tls_handshakes == 8  # one per request in flight at most
            second = await collect(client)
            assert server.server.tls_handshakes == 8
    assert len(first.jobs) == len(second.jobs) >= 50
    assert all(row.counts is not None for row in (*first.jobs, *second.jobs))


def test_connections_outlive_the_refresh_interval_on_both_sides() -> None:
    # The dashboard refreshes every 5 s and reads a quiet job's counts about once a minute
    # (issue 15); idle connections must outlive both, and the simulator must keep them
    # longer than the client does, so it is never the server's close that a request races.
    assert KEEPALIVE_SECONDS > 60
    assert SIM_KEEPALIVE_SECONDS > KEEPALIVE_SECONDS


# ---------------------------------------------------------------------- TLS trust


@asynccontextmanager
async def tls_counts_server(tmp_path: Path) -> AsyncIterator[tuple[Wire, Path]]:
    """A counts server with a certificate made here; yields it and its authority's file."""
    tls = make_server_certificate(tmp_path / "server", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    async with counts_server(context=context) as wire:
        yield wire, tls.ca_file


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
async def test_https_trusts_the_bundle_an_operator_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    async with tls_counts_server(tmp_path) as (wire, ca_file):
        # Not in the default bundle: refused, as httpx and the SDK refuse it.
        async with BatchClient(wire.url, retry=ONE_TRY) as client:
            with pytest.raises(CertificateError, match="is not trusted"):
                await client.get_task_counts("j")
        # Trusted the way an operator behind a TLS-inspecting proxy would:
        monkeypatch.setenv(variable, str(ca_file))
        async with BatchClient(wire.url, retry=ONE_TRY) as client:
            first = await client.get_task_counts("j")
            second = await client.get_task_counts("j")
    assert first.task_counts is not None and second.task_counts is not None
    # One connection for both (a refused handshake never reaches the server's handler).
    assert (wire.requests, wire.connections) == (2, 1)


async def test_requests_bundle_is_trusted_beside_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_server_certificate(tmp_path / "other", "127.0.0.1")  # an unrelated authority
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(other.ca_file))
    async with tls_counts_server(tmp_path) as (wire, ca_file):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
        async with BatchClient(wire.url, retry=ONE_TRY) as client:
            assert (await client.get_task_counts("j")).task_counts is not None


def test_a_bundle_that_cannot_be_read_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(missing))
    with pytest.raises(ConfigError) as info:
        BatchClient("https://acct.westeurope.batch.azure.com")
    assert "REQUESTS_CA_BUNDLE" in str(info.value) and str(missing) in str(info.value)
    assert "\n" not in str(info.value)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="cannot load the certificates that SSL_CERT_FILE names"):
        trust_store({"SSL_CERT_FILE": str(garbage)})


async def test_a_client_that_needs_no_tls_trusts_no_certificate(tmp_path: Path) -> None:
    # An http endpoint with no https proxy loads no bundle (~25 ms of every start); were TLS
    # to happen anyway, that context fails closed.
    assert not needs_tls("http://127.0.0.1:8765", {})
    assert not needs_tls("http://127.0.0.1:8765", {"HTTP_PROXY": "http://127.0.0.1:3128"})
    assert needs_tls("http://127.0.0.1:8765", {"http_proxy": "https://127.0.0.1:3128"})
    assert needs_tls("https://acct.westeurope.batch.azure.com", {})
    async with tls_counts_server(tmp_path) as (wire, ca_file):
        host, port = wire.url.removeprefix("https://").split(":")
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection(host, int(port), ssl=untrusting_context())
        trusting = trust_store({"SSL_CERT_FILE": str(ca_file)})
        _reader, writer = await asyncio.open_connection(host, int(port), ssl=trusting)
        writer.close()


# ---------------------------------------------------------------------- proxies and credentials


@pytest.mark.parametrize(
    ("proxy", "allowed"),
    [
        ("http://127.0.0.1:3128", True),
        ("localhost:3128", True),
        ("http://[::1]:3128", True),
        ("http://proxy.corp.example:3128", False),
        ("http://10.0.0.5:3128", False),
    ],
)
def test_credentials_for_a_plain_http_endpoint_reach_only_a_loopback_proxy(
    monkeypatch: pytest.MonkeyPatch, proxy: str, allowed: bool
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    assert proxies_from_env("http://127.0.0.1:8765", with_credentials=True) is allowed
    # Without credentials there is nothing to leak; over https the proxy sees only a tunnel.
    assert proxies_from_env("http://127.0.0.1:8765", with_credentials=False)
    assert proxies_from_env("https://acct.westeurope.batch.azure.com", with_credentials=True)
