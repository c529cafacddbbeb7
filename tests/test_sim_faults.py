"""Injected faults: latency, throttling, server errors and outages (in-process and over loopback)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from test_sim_support import API, ERROR_TAIL, SharedKey, client, get

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer


class FakeTime:
    def __init__(self) -> None:
        self.t = 50.0

    def __call__(self) -> float:
        return self.t


async def test_throttling_answers_429_with_retry_after() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=3, time_scale=0, throttle_rate=1.0))
    async with client(sim) as c:
        responses = [await get(c, "/jobs") for _ in range(12)]
    for r in responses:
        assert r.status_code == 429
        assert r.json()["code"] == "TooManyRequests"
        assert ERROR_TAIL.search(r.json()["message"]["value"])
        assert 1 <= int(r.headers["retry-after"]) <= 3
    assert len({r.headers["retry-after"] for r in responses}) > 1


async def test_throttle_rate_is_a_fraction_and_can_be_changed_at_run_time() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=3, time_scale=0, throttle_rate=0.5))
    async with client(sim) as c:
        statuses = [(await get(c, "/jobs", maxresults=1)).status_code for _ in range(60)]
        assert set(statuses) == {200, 429}
        sim.faults.throttle_rate = 0
        assert (await get(c, "/jobs", maxresults=1)).status_code == 200


async def test_error_rate_gives_server_busy_and_operation_timed_out() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=3, time_scale=0, error_rate=1.0))
    async with client(sim) as c:
        bodies = [(r.status_code, r.json()["code"]) for r in [await get(c, "/jobs") for _ in range(20)]]
    assert set(bodies) == {(503, "ServerBusy"), (500, "OperationTimedOut")}


async def test_faults_are_seeded() -> None:
    async def run(seed: int) -> list[int]:
        sim = Simulator(SimConfig(seed=seed, jobs=2, time_scale=0, throttle_rate=0.3, error_rate=0.3))
        async with client(sim) as c:
            return [(await get(c, "/jobs", maxresults=1)).status_code for _ in range(30)]

    assert await run(4) == await run(4)
    assert await run(4) != await run(5)


async def test_latency_is_added() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0, latency_ms=80))
    async with client(sim) as c:
        t0 = time.perf_counter()
        r = await get(c, "/jobs", maxresults=1)
    assert r.status_code == 200
    assert time.perf_counter() - t0 >= 0.075


async def test_503_outage_lasts_its_time_then_clears() -> None:
    now = FakeTime()
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0), now=now)
    sim.faults.outage(30, "503")
    async with client(sim) as c:
        r = await get(c, "/jobs")
        assert (r.status_code, r.json()["code"]) == (503, "ServerBusy")
        now.t += 29
        assert (await get(c, "/jobs")).status_code == 503
        now.t += 2
        assert (await get(c, "/jobs")).status_code == 200
        sim.faults.outage(30)
        sim.faults.clear()
        assert (await get(c, "/jobs")).status_code == 200


async def test_refuse_outage_in_process_raises_connection_refused() -> None:
    now = FakeTime()
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0), now=now)
    sim.faults.outage(5, "refuse")
    async with client(sim) as c:
        with pytest.raises(ConnectionRefusedError):
            await get(c, "/jobs")
        now.t += 6
        assert (await get(c, "/jobs")).status_code == 200


def test_refuse_outage_over_loopback_refuses_connections_then_listens_again() -> None:
    # The outage runs on an injected clock: it lasts until the test moves the clock past it, so
    # there is no window to race; the loops below only wait for the server thread to act.
    now = FakeTime()
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0), now=now)
    with BackgroundServer(sim) as server:
        auth = SharedKey(sim.config.account, sim.config.key)
        with httpx.Client(base_url=server.url, auth=auth, timeout=5) as c:
            assert c.get("/jobs", params={"api-version": API}).status_code == 200
            sim.faults.outage(5, "refuse")

            def answer() -> int | None:
                try:
                    return c.get("/jobs", params={"api-version": API}).status_code
                except httpx.ConnectError:
                    return None  # refused: nothing listens
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    return -1  # a kept-alive connection dropped as the listener closed

            assert wait_until(lambda: answer() is None), "the listener never closed"
            assert answer() is None  # still refused: the outage's clock has not moved
            now.t += 6
            assert wait_until(lambda: answer() == 200), "the listener never came back"


def wait_until(condition: Callable[[], bool], tries: int = 250) -> bool:
    for _ in range(tries):
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_outage_kind_is_checked() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=1, time_scale=0))
    with pytest.raises(ValueError):
        sim.faults.outage(1, "teapot")
