"""Benchmark 9 (issue 15): what the dashboard costs the account per minute, at rest.

The real dashboard (BatchApp, headless, 120x40) against an in-process simulator whose world is
frozen (time_scale=0: at rest, nothing changes), refreshing every 5 s. Its poll loop is woken
with reason "timer" 12 times per simulated minute, exactly what its refresh timer does, and
every request and response byte is counted where it crosses the wire (a counting transport).
The first ``--warmup`` minutes are not counted (the first read, counts settling), then
``--minutes`` minutes are. It drives the screen's own refresh_now, so it runs against the code
before the refresh engine too (for side-by-side figures: run it in a checkout of that commit).

    python bench/account_cost.py [--jobs 1000,10000] [--warmup 5] [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import jobs_screen, wait_until  # noqa: E402

ENDPOINT = "http://127.0.0.1:8765"
TICKS_PER_MINUTE = 12  # a 5 s refresh


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0
        self.bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.requests += 1
        self.bytes += len(body)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )


async def one_tick(screen: Any, pilot: Any) -> None:
    before = screen.fetches
    screen.refresh_now("timer")
    await wait_until(lambda: screen.fetches > before, within=120)
    await pilot.pause()


async def run(jobs: int, warmup: int, minutes: int) -> dict[str, Any]:
    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient
    from batchtui.batch.retry import RetryPolicy
    from batchtui.sim import SimConfig, Simulator
    from batchtui.ui.app import make_app

    sim = Simulator(SimConfig(jobs=jobs, time_scale=0, seed=1))
    wire = Counting(httpx.ASGITransport(app=sim))
    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=wire,
        retry=RetryPolicy(max_attempts=1),
    )
    # Only the ticks this benchmark wakes count. With the refresh engine the app runs at its
    # real 5 s interval on a clock that never moves by itself (its pollers pace themselves by
    # the interval); the code before it gets an hour between refreshes of its own.
    try:
        from batchtui.refresh.timer import ManualTimer
    except ImportError:
        app = make_app(client, refresh=3600.0, now=sim.clock.now)
    else:
        app = make_app(client, refresh=5.0, now=sim.clock.now, timer=ManualTimer())
    per_minute: list[tuple[int, int]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: (s := jobs_screen(app)) is not None and s.snapshot is not None, within=300)
        screen = jobs_screen(app)
        for minute in range(warmup + minutes):
            r0, b0 = wire.requests, wire.bytes
            for _ in range(TICKS_PER_MINUTE):
                await one_tick(screen, pilot)
            if minute >= warmup:
                per_minute.append((wire.requests - r0, wire.bytes - b0))
    return {
        "jobs": jobs,
        "requests": statistics.mean(r for r, _ in per_minute),
        "kib": statistics.mean(b for _, b in per_minute) / 1024,
        "worst_kib": max(b for _, b in per_minute) / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="1000,10000")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--minutes", type=int, default=10)
    args = ap.parse_args()
    print(f"{'jobs':>7} {'requests/min':>13} {'KiB/min':>9} {'worst KiB/min':>14}")
    for n in (int(x) for x in args.jobs.split(",")):
        row = asyncio.run(run(n, args.warmup, args.minutes))
        print(
            f"{row['jobs']:>7,} {row['requests']:>13.1f} {row['kib']:>9.1f} {row['worst_kib']:>14.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
