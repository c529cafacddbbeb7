"""The dashboard process of bench/startup.py and bench/ten_thousand.py: start, show, report, exit.

Runs the real dashboard headless at 120x40 against the account in the AZURE_BATCH_*
environment, through the CLI's own start (``batchtui.cli.run_dashboard``: the first job list
is read while the UI is imported), and prints one line per milestone (on stdout, flushed, so
the parent timestamps them):

    imported          the UI is imported and the app is running
    list N            the job table holds N rows
    counts JOB        the selected job's task counts are in the count bar (after a paint)
    rss_kb N          resident memory then
    ...               then exits
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def main(state: str | None) -> int:
    from batchtui.cli import build_parser, make_client, run_dashboard

    args = build_parser().parse_args(["--refresh", "5", *(["--state", state] if state else [])])
    client, label, _warnings, extra = make_client(args, False)

    async def watch(pilot: Any) -> None:
        from batchtui.ui.screens.jobs import JobsScreen
        from batchtui.ui.widgets.count_bar import CountBar

        app = pilot.app
        print("imported", flush=True)  # the UI is imported and the app is running
        listed = False
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
        app.exit()

    # The CLI's own start: the first job list is read while the UI is imported.
    return await run_dashboard(args, client, label, extra, headless=True, size=(120, 40), auto_pilot=watch)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None)))  # [STATE filter]
