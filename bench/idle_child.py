"""The dashboard process of bench/idle_cpu.py and bench/memory.py: runs until told to quit.

Runs the real app headless (``App.run_test(size=(120, 40))``) against the account in the
AZURE_BATCH_* environment with ``--refresh`` seconds between refreshes, prints ``ready`` once
the first screen (job list and the selected job's counts) is up, then obeys stdin, one
command a line, answering one line each:

    press KEY     press a key (e.g. ``p`` pauses the refresh)
    stats [trim]  "stats fetches=N requests=N rss_kb=N tasks=N timers=N objects=N blocks=N trimmed_kb=N"
    wait N        wait until N more refreshes have completed, then answer "ok"
    quit
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import sys


def trimmed_rss_kb() -> int:
    """RSS after asking glibc to give freed heap pages back: what is really in use.

    A diagnostic only (the app never does this): if RSS grows but this does not, the growth
    is memory the allocator keeps after it was freed (fragmentation), not a leak.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return -1
    return rss_kb()


def trim(words: list[str]) -> int:
    return trimmed_rss_kb() if words[1:] == ["trim"] else -1


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def main(args: argparse.Namespace) -> int:
    # The collector as the command line sets it for a process of its own (batchtui/cli.py).
    from batchtui.cli import settle_gc, start_gc

    start_gc()
    from batchtui.batch.client import BatchClient
    from batchtui.config import resolve_settings
    from batchtui.ui.app import make_app
    from batchtui.ui.screens.jobs import JobsScreen
    from batchtui.ui.widgets.count_bar import CountBar

    settings = resolve_settings()
    client = BatchClient.from_settings(settings)
    kw: dict[str, object] = {}
    if args.time_scale is not None:
        from batchtui.sim import SimClock, SimConfig

        cfg = SimConfig()
        kw["now"] = SimClock(cfg.start, cfg.warmup, args.time_scale).now
    app = make_app(client, refresh=args.refresh, account_label=settings.account, **kw)
    settle_gc(short_lived=False)
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = None
        for _ in range(100_000):
            screen = app.screen
            if isinstance(screen, JobsScreen) and screen.table.total_count:
                key = screen.table.selected_key
                bar = screen.query_one(CountBar).data
                if key is not None and bar.job_id == key and bar.counts is not None:
                    break
            await asyncio.sleep(0.01)
        assert isinstance(screen, JobsScreen)
        await pilot.pause(0.5)
        print("ready", flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "press":
                await pilot.press(words[1])
                print("ok", flush=True)
            elif words[0] == "wait":
                target = screen.fetches + int(words[1])
                while screen.fetches < target:  # noqa: ASYNC110 - the screen's counter, no event to wait on
                    await asyncio.sleep(0.05)
                print("ok", flush=True)
            elif words[0] == "stats":
                gc.collect()
                timers = sum(len(getattr(n, "_timers", ())) for n in [app, *list(app._registry)])
                rss = rss_kb()
                print(
                    f"stats fetches={screen.fetches} requests={client.stats.requests} rss_kb={rss} "
                    f"tasks={len(asyncio.all_tasks())} timers={timers} objects={len(gc.get_objects())} "
                    f"blocks={sys.getallocatedblocks()} trimmed_kb={trim(words)}",
                    flush=True,
                )
            else:
                print(f"error {words[0]!r}", flush=True)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--refresh", type=float, default=5.0)
    ap.add_argument("--time-scale", type=float, default=None, help="the simulator's, for the data clock")
    sys.exit(asyncio.run(main(ap.parse_args())))
