"""What the pool views cost (issue 12): a pool of 1,000 nodes, and the failures of a 100,000-task job.

    python bench/pools_nodes.py [--nodes 1000] [--tasks 100000] [--repeat 7] [--latency-ms 20]

1. Nodes: the nodes screen's poller (the pool, and its nodes ``$select``ed, 1,000 a page) over
   loopback HTTP with 20 ms of latency per request: requests, bytes and wall time per refresh;
   then the same snapshot applied to the real NodesScreen, headless at 120x40 (rows built,
   widths measured, table diffed), as wall and this thread's CPU time.
2. Failures: the tasks screen's failures poller on the job whose size is nearest 100,000 tasks:
   ``$filter=executionInfo/result eq 'failure'`` with ``$select=id,executionInfo,nodeInfo``,
   1,000 a page: requests, bytes and time for a read, and for a refresh whose failed count did
   not move (answered from what it has).

Figures are printed, not asserted. Each refresh's requests are counted on the simulator's log.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import table  # noqa: E402

from batchtui.batch.auth import SharedKeyAuth  # noqa: E402
from batchtui.batch.client import BatchClient, RetryPolicy  # noqa: E402
from batchtui.refresh.failures import FailuresPoller  # noqa: E402
from batchtui.refresh.pools import NodesPoller  # noqa: E402
from batchtui.sim import SimConfig, Simulator  # noqa: E402
from batchtui.sim.server import BackgroundServer  # noqa: E402


def client(sim: Simulator, url: str) -> BatchClient:
    auth = SharedKeyAuth(sim.config.account, sim.config.key)
    return BatchClient(url, auth, account=sim.config.account, retry=RetryPolicy(max_attempts=1))


async def nodes_wire(sim: Simulator, url: str, repeat: int) -> tuple[list[tuple[object, ...]], object]:
    rows: list[tuple[object, ...]] = []
    snap = None
    async with client(sim, url) as c:
        poller = NodesPoller(c, "pool-hpc-a", sim.clock.now)
        await poller.poll("timer")  # the simulator builds its index of who ran where once
        times, cpus, reqs, sizes = [], [], [], []
        for _ in range(repeat):
            before, got = len(sim.requests), c.stats.bytes_received
            started, cpu = time.perf_counter(), time.thread_time()
            snap = await poller.poll("timer")
            times.append(time.perf_counter() - started)
            cpus.append(time.thread_time() - cpu)  # the client's thread (the server has its own)
            reqs.append(len(sim.requests) - before)
            sizes.append(c.stats.bytes_received - got)
        assert snap is not None
        rows.append(
            (
                f"{len(snap.nodes):,} nodes",
                statistics.median(reqs),
                f"{statistics.median(sizes) / 1024:,.0f} KiB",
                f"{statistics.median(times) * 1000:,.0f} ms",
                f"{min(times) * 1000:,.0f}-{max(times) * 1000:,.0f} ms",
                f"{statistics.median(cpus) * 1000:,.0f} ms",
            )
        )
    return rows, snap


async def nodes_apply(sim: Simulator, snap: object, repeat: int) -> tuple[object, ...]:
    import httpx

    from batchtui.ui.app import make_app
    from batchtui.ui.screens.nodes import NodesScreen

    c = BatchClient(
        "http://127.0.0.1:8765",
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
    )
    app = make_app(c, refresh=3600.0, now=sim.clock.now)
    walls, cpus = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        app.go("nodes pool-hpc-a")
        for _ in range(500):
            if isinstance(app.screen, NodesScreen) and app.screen.pool is not None:
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, NodesScreen)
        for _ in range(repeat):
            w0, c0 = time.perf_counter(), time.thread_time()
            screen.apply(snap)
            await pilot.pause()
            walls.append(time.perf_counter() - w0)
            cpus.append(time.thread_time() - c0)
    return (
        f"{len(screen.nodes):,} rows",
        f"{statistics.median(walls) * 1000:,.0f} ms",
        f"{statistics.median(cpus) * 1000:,.0f} ms",
    )


async def failures(sim: Simulator, url: str, job_id: str, repeat: int) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    async with client(sim, url) as c:
        counts = await c.get_task_counts(job_id)
        total, failed = counts.task_counts.total, counts.task_counts.failed
        for label, reason in (("read", "now"), ("unchanged", "timer")):
            times, cpus, reqs, sizes = [], [], [], []
            poller = FailuresPoller(c, job_id, sim.clock.now)
            poller.expected = failed
            await poller.poll("now")
            summary = None
            for _ in range(repeat):
                before, got = len(sim.requests), c.stats.bytes_received
                started, cpu = time.perf_counter(), time.thread_time()
                summary = (await poller.poll(reason)).summary
                times.append(time.perf_counter() - started)
                cpus.append(time.thread_time() - cpu)
                reqs.append(len(sim.requests) - before)
                sizes.append(c.stats.bytes_received - got)
            assert summary is not None
            rows.append(
                (
                    f"{job_id} ({total:,} tasks, {failed:,} failed)",
                    label,
                    statistics.median(reqs),
                    f"{statistics.median(sizes) / 1024:,.0f} KiB",
                    f"{statistics.median(times) * 1000:,.0f} ms",
                    f"{statistics.median(cpus) * 1000:,.0f} ms",
                    summary.line()[:70],
                )
            )
    return rows


def biggest_near(sim: Simulator, size: int) -> str:
    t = sim.clock.seconds()
    plans = [p for p in sim.world.all_plans() if sim.world.visible(p, t) and not p.kind.mpi]
    return min(plans, key=lambda p: abs(p.n_tasks - size)).id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)

    sim = Simulator(
        SimConfig(seed=7, jobs=20, instances=args.nodes, time_scale=0, latency_ms=args.latency_ms)
    )
    with BackgroundServer(sim) as server:
        rows, snap = asyncio.run(nodes_wire(sim, server.url, args.repeat))
    print(
        table(
            "1. A pool's nodes, one refresh (loopback, 20 ms a request)",
            ("pool", "requests", "bytes", "median", "range", "client CPU"),
            rows,
        )
    )
    print(
        table(
            "   ... applied to the nodes screen (120x40)",
            ("rows", "wall", "CPU"),
            [asyncio.run(nodes_apply(sim, snap, args.repeat))],
        )
    )

    big = Simulator(
        SimConfig(seed=7, jobs=12, tasks=args.tasks // 2, time_scale=0, latency_ms=args.latency_ms)
    )
    job_id = biggest_near(big, args.tasks)
    with BackgroundServer(big) as server:
        rows = asyncio.run(failures(big, server.url, job_id, max(3, args.repeat // 2)))
    print(
        table(
            "2. A job's failures, one refresh",
            ("job", "refresh", "requests", "bytes", "median", "client CPU", "summary"),
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
