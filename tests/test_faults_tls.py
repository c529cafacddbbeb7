"""A TLS certificate that fails verification, over loopback TLS (the simulator's `--tls` certs).

It will not heal by retrying, so it is said at once, in one line, in the operator's words
(not trusted, or for another host name; SSL_CERT_FILE / REQUESTS_CA_BUNDLE named), never
retried inside a call, and the dashboard keeps its last good data and backs off as for a
rejected credential."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ui_support import wait_for

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import CertificateError
from batchtui.batch.retry import RetryPolicy
from batchtui.refresh.pacing import paced_wait
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen

TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
RETRYING = RetryPolicy(max_attempts=5, base_delay=0, max_delay=0)
REFRESH = 5.0


@pytest.fixture(autouse=True)
def no_trust_from_the_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TRUST_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def world() -> Simulator:
    return Simulator(SimConfig(seed=5, jobs=6, time_scale=0))


def client_for(sim: Simulator, url: str) -> BatchClient:
    return BatchClient(url, SharedKeyAuth(sim.config.account, sim.config.key), retry=RETRYING)


async def test_a_certificate_nobody_trusts_is_one_line_and_sent_once(tmp_path: Path) -> None:
    sim = world()
    with BackgroundServer(sim, tls=make_server_certificate(tmp_path, "127.0.0.1")) as server:
        async with client_for(sim, server.url) as client:
            with pytest.raises(CertificateError) as caught:
                await client.list_jobs()
            assert client.stats.requests == 1 and client.stats.retries == 0
    text = str(caught.value)
    assert text == (
        f"list_jobs: the TLS certificate of 127.0.0.1:{server.port} is not trusted (self-signed "
        "certificate in certificate chain): if your network signs it (a proxy, a private CA), "
        "point SSL_CERT_FILE or REQUESTS_CA_BUNDLE to that CA's bundle"
    )
    assert caught.value.kind == "certificate" and "\n" not in text and "SSL:" not in text
    assert sim.requests == []  # refused at the handshake: nothing reached the service


async def test_a_certificate_for_another_host_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = world()
    tls = make_server_certificate(tmp_path, "127.0.0.1", only_names=["batch.example.test"])
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))  # the authority is trusted; the name is wrong
    with BackgroundServer(sim, tls=tls) as server:
        async with client_for(sim, server.url) as client:
            with pytest.raises(
                CertificateError, match=r"is for another host name \(IP address mismatch"
            ) as caught:
                await client.get_task_counts("any")
            assert client.stats.requests == 1
    assert "check the endpoint" in str(caught.value) and "SSL_CERT_FILE" in str(caught.value)


async def test_the_dashboard_keeps_its_data_says_why_and_backs_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trusted at first; then the server on that port presents another authority's certificate
    (a proxy put in front, a certificate replaced): the last jobs stay, the line says why."""
    sim = world()
    trusted = make_server_certificate(tmp_path / "trusted", "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted.ca_file))
    timer = ManualTimer()
    server = BackgroundServer(sim, tls=trusted).start()
    port = server.port
    client = client_for(sim, server.url)
    app = make_app(client, refresh=REFRESH, now=sim.clock.now, timer=timer)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(
                pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0
            )
            screen = app.screen
            assert isinstance(screen, JobsScreen)
            await wait_for(pilot, lambda: screen.status.last_ok is not None and timer.sleeping >= 1)
            shown = screen.table.total_count

            server.stop()
            other = make_server_certificate(tmp_path / "other", "127.0.0.1")
            server = BackgroundServer(sim, port=port, tls=other).start()
            served, sent, retries = len(sim.requests), client.stats.requests, client.stats.retries

            timer.advance(REFRESH)
            await wait_for(pilot, lambda: isinstance(screen.status.error, CertificateError))
            line = screen.status.plain
            assert line.startswith("⚠ refresh failed · slowing down, next try in 20 s · updated "), line
            assert re.search(
                rf"certificate: \w+: the TLS certificate of 127\.0\.0\.1:{port} is not trusted", line
            )
            assert "SSL_CERT_FILE" in line and "offline" not in line
            assert screen.table.total_count == shown  # the last good data stays

            # No storm: the polls back off as for a rejected key (20, 40, 80 s...), each
            # request tried once, and nothing reaches the service.
            polls = screen.fetches
            for _ in range(28):  # 140 s
                await wait_for(pilot, lambda: timer.sleeping >= app.engine.open_handles)
                timer.advance(REFRESH)
            await wait_for(pilot, lambda: timer.sleeping >= app.engine.open_handles)
            assert screen.fetches - polls == 3  # 20, 40 then 80 s after the first: +20, +60, +140 s
            assert screen.next_wait == paced_wait(REFRESH, "certificate", 4) == 160.0
            assert client.stats.retries == retries
            assert len(sim.requests) == served
            assert client.stats.requests - sent <= 4 * 4  # four polls of a few reads each
    finally:
        server.stop()
        await client.aclose()
