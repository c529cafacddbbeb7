"""Connections a refreshing job list needs (issue 15.3): no tick after the first needs more than
the ticks before it kept open, so none pays a TLS handshake (counted at a loopback simulator)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sim_support import make_client, make_sim

import batchtui.batch.transport as transport
from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.models import TaskCountsResult
from batchtui.job_order import default_job_order
from batchtui.refresh.jobs import JobsMonitor
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate


def watch_in_flight(client: BatchClient) -> list[int]:
    """Count the counts requests in flight; returns [peak since the last reset]."""
    original: Callable[[str], Awaitable[TaskCountsResult]] = client.get_task_counts
    peak = [0]
    in_flight = 0

    async def slow(job_id: str) -> TaskCountsResult:
        nonlocal in_flight
        in_flight += 1
        peak[0] = max(peak[0], in_flight)
        await asyncio.sleep(0.005)  # long enough for every request let through to be waiting
        try:
            return await original(job_id)
        finally:
            in_flight -= 1

    client.get_task_counts = slow  # type: ignore[method-assign]
    return peak


def live_ids(mon: JobsMonitor) -> list[str]:
    """Jobs whose counts can still change (a completed job's are read once, then never)."""
    return [j.id for j in default_job_order(mon.jobs) if j.id and j.state != "completed"]


async def test_the_first_tick_reads_a_screen_at_once_a_refresh_one_at_a_time() -> None:
    sim = make_sim(jobs=120)
    async with make_client(sim) as client:
        peak = watch_in_flight(client)
        mon = JobsMonitor(client, counts_every=1, initial_window=40, now=sim.clock.now)
        first = await mon.tick("full")
        assert (first.requests, peak[0]) == (41, 32)  # the list and 40 counts, 32 in flight
        live = live_ids(mon)
        assert len(live) >= 60
        window = live[:40]
        mon.focus(window[0], window)
        # What the operator asks for: ctrl+r (all 40 on screen), rows scrolled onto: 4 at once.
        for kind, wanted in (("full", live[:40]), ("focus", live[40:60])):
            mon.focus(wanted[0], wanted)
            before = len(sim.requests)
            peak[0] = 0
            snap = await mon.tick(kind)  # type: ignore[arg-type]
            counts = [r for r in sim.requests[before:] if r.path.endswith("/taskcounts")]
            assert (len(counts), peak[0]) == (len(wanted), 4)
            assert all(snap.counts[k].result is not None for k in wanted)
        # Refreshing: every count that is due is read, one at a time.
        mon.focus(live[0], live[:40])
        busiest = 0
        for _ in range(4):
            before = len(sim.requests)
            peak[0] = 0
            await mon.tick("timer")
            read = sum(r.path.endswith("/taskcounts") for r in sim.requests[before:])
            busiest = max(busiest, read)
            assert peak[0] == 1
        assert busiest >= 20  # a tick at which many were due


async def test_refreshing_after_the_first_tick_opens_no_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keep-alive shortened from 120 s, so that idling out takes a second.
    monkeypatch.setattr(transport, "KEEPALIVE_SECONDS", 1.0)
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    sim = Simulator(SimConfig(seed=3, jobs=80, time_scale=0))
    with BackgroundServer(sim, tls=tls) as server:
        auth = SharedKeyAuth(sim.config.account, sim.config.key)
        async with BatchClient(server.url, auth) as client:
            mon = JobsMonitor(client, counts_every=1, initial_window=40, now=sim.clock.now)
            await mon.tick("full")  # warm-up: a connection per count in flight
            warm = server.server.tls_handshakes
            assert 2 < warm <= 33
            ids = live_ids(mon)[:40]
            assert len(ids) == 40
            mon.focus(ids[0], ids)
            # Unchanged counts are read 1, 2, 4, 8 ticks apart: all 40 due on the same ticks,
            # with quiet ticks between longer than a connection is kept (with 32 in flight, the
            # ones only those bursts used idle out and are reopened).
            before = len(sim.requests)
            for _ in range(16):
                await mon.tick("timer")
                await asyncio.sleep(0.2)
            counts = sum(r.path.endswith("/taskcounts") for r in sim.requests[before:])
            assert counts >= 4 * 40
            assert server.server.tls_handshakes == warm
