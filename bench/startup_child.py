"""The dashboard process of bench/startup.py and bench/ten_thousand.py: start, show, report, exit.

Runs the real app headless (``App.run_test(size=(120, 40))``) against the account in the
AZURE_BATCH_* environment, the way ``batchtui`` builds it, and prints one line per milestone
(on stdout, flushed, so the parent timestamps them):

    imported          the app's modules are loaded
    list N            the job table holds N rows
    counts JOB        the selected job's task counts are in the count bar (after a paint)
    rss_kb N          resident memory then
    ...               then exits
"""

from __future__ import annotations

import asyncio
import sys


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def main(state: str | None) -> int:
    # The collector as the command line sets it for a process of its own (batchtui/cli.py).
    from batchtui.cli import settle_gc, start_gc

    start_gc()
    from batchtui.batch.client import BatchClient
    from batchtui.config import resolve_settings
    from batchtui.ui.app import make_app
    from batchtui.ui.screens.jobs import JobsScreen
    from batchtui.ui.widgets.count_bar import CountBar

    print("imported", flush=True)
    settings = resolve_settings()
    client = BatchClient.from_settings(settings)
    app = make_app(client, refresh=5.0, account_label=settings.account, state=state)
    settle_gc(short_lived=False)
    listed = False
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200_000):
            screen = app.screen
            if isinstance(screen, JobsScreen):
                table = screen.table
                if not listed and table.total_count:
                    listed = True
                    print(f"list {table.total_count}", flush=True)
                key = table.selected_key
                bar = screen.query_one(CountBar).data
                if key is not None and bar.job_id == key and bar.counts is not None:
                    await pilot.pause()  # one more turn of the loop: the frame is painted
                    print(f"counts {key}", flush=True)
                    break
            await asyncio.sleep(0.002)
        print(f"rss_kb {rss_kb()}", flush=True)
        print(f"requests {client.stats.requests} bytes {client.stats.bytes_received}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None)))  # [STATE filter]
