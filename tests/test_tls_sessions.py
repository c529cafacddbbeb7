"""TLS session resumption on the direct transport (batchtui/batch/tls_sessions.py), against
TLS servers on loopback: one that resumes, one that sends no tickets, and one that has
forgotten the ticket it gave (a restart: new ticket keys). The last two must still be reached,
with a full handshake."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from batchtui.batch.network import DirectTransport
from batchtui.batch.tls_sessions import ResumingContext, resuming_context
from batchtui.batch.transport import connection_limits, trust_store
from batchtui.sim.tls import ServerCertificate, make_server_certificate

BODY = b'{"value": []}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificate:
    return make_server_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")


def server_context(cert: ServerCertificate, *, tickets: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_file, cert.key_file)
    if not tickets:
        context.num_tickets = 0  # TLS 1.3 resumes only with a ticket: none, nothing to resume
    return context


@asynccontextmanager
async def https_server(context: ssl.SSLContext, port: int = 0) -> AsyncIterator[tuple[str, list[bool]]]:
    """Answers every request with ANSWER; yields its URL and, per connection, whether the
    server saw it resume a session."""
    resumed: list[bool] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        resumed.append(bool(writer.get_extra_info("ssl_object").session_reused))
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, ssl=context)
    async with server:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", resumed


async def get(transport: DirectTransport, url: str) -> int:
    response = await transport.handle_async_request(httpx.Request("GET", url + "/jobs"))
    await response.aread()
    await response.aclose()
    return response.status_code


async def burst(transport: DirectTransport, url: str, n: int) -> list[int]:
    """``n`` requests at once: one new connection each, beside the one kept idle."""
    return list(await asyncio.gather(*(get(transport, url) for _ in range(n))))


def trusting(cert: ServerCertificate) -> ssl.SSLContext:
    return trust_store({"SSL_CERT_FILE": str(cert.ca_file)})


def client(context: ssl.SSLContext) -> DirectTransport:
    return DirectTransport(limits=connection_limits(8), ssl_context=context)


async def one_then_burst(server: ssl.SSLContext, context: ssl.SSLContext, n: int) -> list[bool]:
    """One request, then ``n`` at once; whether each connection the server saw resumed."""
    async with https_server(server) as (url, resumed):
        transport = client(context)
        try:
            assert await get(transport, url) == 200
            if n:
                assert await burst(transport, url, n) == [200] * n
        finally:
            await transport.aclose()
    return resumed


async def test_connections_after_the_first_resume_its_session(cert: ServerCertificate) -> None:
    # the first connection is reused by one of the four; three are new, and all three resumed
    assert await one_then_burst(server_context(cert), trusting(cert), 4) == [False, True, True, True]


async def test_a_server_that_sends_no_ticket_gets_full_handshakes(cert: ServerCertificate) -> None:
    context = trusting(cert)
    assert await one_then_burst(server_context(cert, tickets=False), context, 3) == [False, False, False]
    assert isinstance(context, ResumingContext) and context.sessions == {}


async def test_a_server_that_forgot_the_ticket_is_reached_with_a_full_handshake(
    cert: ServerCertificate,
) -> None:
    transport = client(trusting(cert))
    try:
        async with https_server(server_context(cert)) as (url, first):
            assert await get(transport, url) == 200
        assert first == [False]
        await transport.aclose()  # the kept connection went with the server
        port = int(url.rsplit(":", 1)[1])
        async with https_server(server_context(cert), port=port) as (_, second):  # new ticket keys
            assert await get(transport, url) == 200
            assert await burst(transport, url, 2) == [200] * 2
    finally:
        await transport.aclose()
    # the old ticket is refused and a full handshake made; its new ticket resumes the next
    assert second == [False, True]


async def test_a_session_is_offered_only_to_the_host_it_was_made_with(cert: ServerCertificate) -> None:
    context = trusting(cert)
    assert await one_then_burst(server_context(cert), context, 0) == [False]
    assert isinstance(context, ResumingContext) and list(context.sessions) == ["127.0.0.1"]
    same = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="127.0.0.1")
    other = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    assert same.session == context.sessions["127.0.0.1"]
    assert other.session is None


def settings(context: ssl.SSLContext) -> dict[str, object]:
    return {
        "protocol": context.protocol,
        "verify_mode": context.verify_mode,
        "check_hostname": context.check_hostname,
        "verify_flags": context.verify_flags,
        "options": context.options,
        "minimum_version": context.minimum_version,
        "maximum_version": context.maximum_version,
        "hostname_checks_common_name": context.hostname_checks_common_name,
        "post_handshake_auth": context.post_handshake_auth,
        "security_level": context.security_level,
        "keylog_filename": context.keylog_filename,
        "ciphers": [c["name"] for c in context.get_ciphers()],
        "ca_certs": context.get_ca_certs(),
    }


@pytest.mark.parametrize("keylog", [False, True])
def test_it_is_set_as_pythons_default_context(
    cert: ServerCertificate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keylog: bool
) -> None:
    if keylog:
        monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
    else:
        monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    ours = resuming_context(cafile=str(cert.ca_file), capath=None)
    assert settings(ours) == settings(ssl.create_default_context(cafile=str(cert.ca_file)))
    assert (ours.keylog_filename is not None) is keylog
