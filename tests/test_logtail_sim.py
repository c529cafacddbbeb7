"""LogTail in the refresh engine against the simulator, under a clock the test moves: what
every tick costs on the wire, a rank's stderr through its node, and refusals in place."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import httpx

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient, RetryPolicy
from batchtui.batch.files import TaskFileRef, rank_file
from batchtui.refresh.engine import RefreshEngine
from batchtui.refresh.file_list import FileListPoller
from batchtui.refresh.logs import LogSnapshot, LogTail
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import SimConfig, Simulator

TICK = 5.0


def client_of(sim: Simulator) -> BatchClient:
    return BatchClient(
        "http://127.0.0.1:8765",
        SharedKeyAuth(sim.config.account, sim.config.key),
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=1),
    )


async def until(condition: object, what: str) -> None:
    for _ in range(2000):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"timed out waiting for {what}")


async def test_each_tick_costs_one_head_and_one_ranged_get_only_when_the_file_grew() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    client = client_of(sim)
    timer = ManualTimer()
    engine = RefreshEngine(client, interval=TICK, timer=timer)
    # a solver's trace grows ~300 KB per simulated second while it runs
    tail = LogTail(client, TaskFileRef("mpi-cfd-0001", "solver-00", "wd/solver.trace"), task_state="running")
    snaps: list[LogSnapshot] = []
    errors: list[BaseException] = []

    def on_error(exc: BaseException, at: datetime) -> None:
        errors.append(exc)

    handle = engine.open(tail, snaps.append, on_error)
    await until(lambda: handle.polls == 1 and timer.sleeping, "the first poll")
    first = snaps[-1]
    assert first.size is not None and first.size > 100_000_000  # opened at the end of ~hundreds of MB
    assert client.stats.bytes_received < 70_000 and first.lines and first.following
    ticks: list[Counter[str]] = []
    for k in range(6):
        sim.requests.clear()
        grows = k % 2 == 0
        if grows:
            sim.clock.advance(1.0)
        before = handle.polls
        timer.advance(TICK)
        await until(lambda: handle.polls == before + 1 and timer.sleeping, "a tick")
        ticks.append(Counter(r.method for r in sim.requests))
        snap = snaps[-1]
        assert snap.appended > 0 if grows else snap.appended == 0
    assert ticks == [Counter(HEAD=1, GET=1), Counter(HEAD=1)] * 3
    assert not errors
    # each byte read once: what came over the wire is the tail plus what the file grew
    grew = snaps[-1].end - first.end
    assert client.stats.bytes_received - grew < 70_000
    engine.close_all()
    await client.aclose()


async def test_a_ranks_stderr_opens_through_its_node_and_the_primarys_through_the_task() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    client = client_of(sim)
    subtasks = await client.list_subtasks("mpi-cfd-0001", "solver-00")
    five = next(s for s in subtasks if s.id == 5)
    tail = LogTail(client, rank_file(five.node_info, "stderr.txt", 5), task_state=five.state)
    snap = await tail.poll("open")
    assert any("Signal: Segmentation fault (11)" in line.text for line in snap.lines)
    assert not snap.live and tail.interval(TICK) >= 30  # it has completed and will not grow
    assert all("/nodes/" in r.path for r in sim.requests[-2:])
    listing = await FileListPoller(client, rank_file(five.node_info, "stdout.txt", 5)).poll("open")
    assert [e.name for e in listing.entries] == ["stderr.txt", "stdout.txt", "wd"]
    assert listing.entries[0].ref == tail.file
    primary = await FileListPoller(client, TaskFileRef("mpi-cfd-0001", "solver-00", "stdout.txt")).poll(
        "open"
    )
    assert "wd\\solver.trace" in [e.name for e in primary.entries]
    await client.aclose()


async def test_a_task_that_has_not_started_says_so_in_place_and_opens_once_it_runs() -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    client = client_of(sim)
    tail = LogTail(client, TaskFileRef("etl-nightly-0037", "shard-0012", "stdout.txt"), task_state="active")
    snap = await tail.poll("open")
    assert snap.reason == "not-started" and snap.error is not None and "has not started" in snap.error
    assert snap.lines == () and tail.interval(TICK) == TICK
    for _ in range(200):
        sim.clock.advance(60)
        snap = await tail.poll("timer")
        if snap.lines:
            break
    assert snap.lines and snap.error is None
    await client.aclose()
