"""Benchmark 5: resident memory of the dashboard after 100 and after 2,000 refresh cycles.

``batchtui sim`` (1,000 jobs, 20 ms latency, fast clock: 60 sim seconds per second, so jobs
run, finish, arrive and are cleaned up) in one process; the real dashboard headless at 120x40
in another (bench/idle_child.py) with a short refresh. RSS (after a gc), asyncio tasks,
Textual timers, Python objects and pymalloc blocks in use are read at cycle 100, every
--every cycles, and at the end. With --trim (a diagnostic) RSS is also read after glibc's
malloc_trim, which gives back memory that was freed but kept by the allocator; if RSS grows
and that does not, the growth is fragmentation, not a leak (trimming lowers later RSS too).
Goal (issue 5): under 5 MB of growth from cycle 100 to cycle 2,000.

    python bench/memory.py [--cycles 2000] [--refresh 0.1] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import table  # noqa: E402
from idle_cpu import Dashboard  # noqa: E402
from simserver import sim_server  # noqa: E402
from startup import child_env  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=2000)
    ap.add_argument("--first", type=int, default=100)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--refresh", type=float, default=0.1)
    ap.add_argument("--time-scale", type=float, default=60.0)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument("--trim", action="store_true", help="also read RSS after malloc_trim (diagnostic)")
    args = ap.parse_args()
    rows: list[list[object]] = []
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as home,
        sim_server(
            "--jobs",
            str(args.jobs),
            "--latency-ms",
            str(args.latency_ms),
            "--time-scale",
            str(args.time_scale),
        ) as sim,
    ):
        dash = Dashboard(child_env(sim.env, home), args.refresh, "--time-scale", str(args.time_scale))
        try:
            marks = [args.first, *range(args.every, args.cycles, args.every), args.cycles]
            for mark in sorted(set(marks)):
                now = dash.stats()["fetches"]
                if mark > now:
                    dash.send(f"wait {mark - now}")
                s = dash.stats(trim=args.trim)
                rows.append(
                    [
                        s["fetches"],
                        round(time.monotonic() - started),
                        s["rss_kb"] / 1024,
                        s["tasks"],
                        s["timers"],
                        s["objects"],
                        s["blocks"],
                        s["trimmed_kb"] / 1024 if args.trim else "",
                        s["requests"],
                    ]
                )
                print(" | ".join(str(c) for c in rows[-1]), flush=True)
        finally:
            dash.close()
    print()
    print(
        table(
            f"Benchmark 5: dashboard memory over refresh cycles, {args.jobs:,} jobs, refresh "
            f"{args.refresh:g} s, time scale {args.time_scale:g}",
            [
                "cycle",
                "s",
                "RSS MB",
                "tasks",
                "timers",
                "py objects",
                "pymalloc blocks",
                "RSS after trim",
                "requests",
            ],
            rows,
        )
    )
    growth = float(rows[-1][2]) - float(rows[0][2])

    def flat(i: int) -> str:
        return "ok" if int(rows[-1][i]) <= int(rows[0][i]) else "GREW"

    print()
    print(
        table(
            "Verdict",
            ["figure", "goal", "measured", "verdict"],
            [
                [
                    f"RSS cycle {rows[0][0]} -> {rows[-1][0]}",
                    "< 5 MB growth",
                    f"{rows[0][2]:.1f} -> {rows[-1][2]:.1f} MB ({growth:+.1f})",
                    "ok" if growth < 5 else "MISSED",
                ],
                ["asyncio tasks", "flat", f"{rows[0][3]} -> {rows[-1][3]}", flat(3)],
                ["timers", "flat", f"{rows[0][4]} -> {rows[-1][4]}", flat(4)],
                [
                    f"RSS cycle {rows[1][0]} -> {rows[-1][0]} (after warm-up)",
                    "(info)",
                    f"{rows[1][2]:.1f} -> {rows[-1][2]:.1f} MB ({float(rows[-1][2]) - float(rows[1][2]):+.1f})",
                    "",
                ],
                ["pymalloc blocks in use", "(info)", f"{rows[0][6]:,} -> {rows[-1][6]:,}", ""],
                *(
                    []
                    if not args.trim
                    else [
                        [
                            "RSS after malloc_trim (diagnostic)",
                            "(info)",
                            f"{rows[0][7]:.1f} -> {rows[-1][7]:.1f} MB ({float(rows[-1][7]) - float(rows[0][7]):+.1f})",
                            "",
                        ]
                    ]
                ),
            ],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
