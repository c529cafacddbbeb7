"""Issue 14.3: what a throttled account is sent, and how soon the screen is fresh once it ends.

The real dashboard (BatchApp, headless) against an in-process simulator at rest, on a
ManualTimer moved one 5 s interval at a time (counts, not rates). Three phases, each counted
on the simulator's request log: calm (``--calm`` intervals), a throttle (every request
answered 429 with the simulator's Retry-After of 1 to 3 s, and a partial storm, ``--rate 0.5``) for ``--storm``
intervals, then the intervals until the jobs screen is fresh again (a read that went through
in that interval, and no error on its status line). Only public pieces both before and after issue 14.3's gate
use, so it runs in a checkout of main too (``PYTHONPATH=that/checkout``) for side-by-side
figures.

    python bench/throttle_recovery.py [--jobs 50] [--calm 12] [--storm 24] [--rate 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import jobs_screen, table, wait_until  # noqa: E402

REFRESH = 5.0


async def run(args: argparse.Namespace, rate: float) -> list[object]:
    import httpx

    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient
    from batchtui.batch.retry import RetryPolicy
    from batchtui.refresh.timer import ManualTimer
    from batchtui.sim import SimConfig, Simulator
    from batchtui.ui.app import make_app

    sim = Simulator(SimConfig(jobs=args.jobs, time_scale=0, seed=1))

    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    client = BatchClient(
        "http://127.0.0.1:8765",
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        sleep=no_sleep,
    )
    timer = ManualTimer()
    app = make_app(client, refresh=REFRESH, now=sim.clock.now, timer=timer)

    async def settle() -> None:
        assert await wait_until(lambda: timer.sleeping >= app.engine.open_handles > 0, within=60)

    async def intervals(n: int) -> int:
        start = len(sim.requests)
        for _ in range(n):
            await settle()
            timer.advance(REFRESH)
        await settle()
        return len(sim.requests) - start

    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_until(
            lambda: jobs_screen(app) is not None and jobs_screen(app).fetches > 0, within=60
        )
        screen: Any = jobs_screen(app)
        calm = await intervals(args.calm)
        sim.faults.throttle_rate = rate
        throttled = await intervals(args.storm)
        polls_before = screen.fetches
        sim.faults.clear()
        waited = 0
        fresh = False
        while waited < 20:
            waited += 1
            await intervals(1)
            await pilot.pause(0.05)
            # Fresh: this interval's read went through (the line's own record of its last good
            # read, on the engine's clock) and no error stands.
            fresh = screen.status.error is None and screen.status._ok_at == timer.now
            if fresh:
                break
        await client.aclose()
    return [
        f"{rate:.0%}",
        f"{calm / args.calm:.2f}",
        f"{throttled / args.storm:.2f}",
        screen.fetches - polls_before,
        waited if fresh else f">{waited}",
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--calm", type=int, default=12)
    ap.add_argument("--storm", type=int, default=24)
    ap.add_argument("--rate", type=float, nargs="+", default=[1.0, 0.5])
    args = ap.parse_args()
    import batchtui

    where = Path(batchtui.__file__).resolve().parent.parent.name  # which checkout ran
    rows = [[where, *asyncio.run(run(args, rate))] for rate in args.rate]
    print(
        table(
            f"Throttling: {args.jobs} jobs, {REFRESH:g} s interval, {args.storm} intervals throttled",
            [
                "checkout",
                "429 rate",
                "calm req/interval",
                "throttled req/interval",
                "polls to fresh",
                "intervals to fresh",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
