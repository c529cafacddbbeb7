"""Benchmark 7: an account with 10,000 jobs: time to first screen, memory, and what it costs to keep.

``batchtui sim`` with 10,000 jobs (20 ms latency, frozen) on loopback. First, --repeat fresh
dashboard processes (bench/startup_child.py) are timed from spawn to the job list and to the
selected job's counts on screen, with their RSS then and what they fetched. Then one
dashboard (bench/idle_child.py, 5 s refresh) is left running: its RSS, CPU and requests per
minute at steady state. Compare with bench/startup.py and bench/idle_cpu.py (1,000 jobs).

What the dashboard lists: every job the account has (or that --state lets through, filtered
by the service), all pages of the job list with $select, on the first tick and every third
tick after; task counts only for the rows on screen plus a margin (see bench/README.md).

    python bench/ten_thousand.py [--jobs 10000] [--repeat 3] [--seconds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import compile_package, table  # noqa: E402
from idle_cpu import Dashboard, cpu_of  # noqa: E402
from simserver import sim_server  # noqa: E402
from startup import child_env, run_child  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--latency-ms", type=float, default=20)
    args = ap.parse_args()
    compile_package()
    with (
        tempfile.TemporaryDirectory() as home,
        sim_server(
            "--jobs", str(args.jobs), "--latency-ms", str(args.latency_ms), "--time-scale", "0"
        ) as sim,
    ):
        env = child_env(sim.env, home)
        run_child(env)  # untimed: the simulator builds tasks lazily on first use
        runs = [run_child(env) for _ in range(args.repeat)]
        active = [run_child(env, state="active") for _ in range(args.repeat)]
        dash = Dashboard(env, 5.0)
        try:
            time.sleep(12)  # past the first list refresh after the initial one
            s0, c0, t0 = dash.stats(), cpu_of(dash.proc.pid), time.monotonic()
            time.sleep(args.seconds)
            s1, c1, t1 = dash.stats(), cpu_of(dash.proc.pid), time.monotonic()
        finally:
            dash.close()

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

    def med_active(key: str) -> float:
        return statistics.median(float(r[key]) for r in active)  # type: ignore[arg-type]

    minutes = (t1 - t0) / 60
    cpu = 100 * (c1 - c0) / (t1 - t0)
    counts = med("counts")
    rows = [
        [f"job list on screen ({int(med('rows')):,} rows)", "", f"{med('list'):.2f} s", ""],
        ["selected job's counts on screen", "(1,000 jobs: < 1 s)", f"{counts:.2f} s", ""],
        ["requests until then", "", f"{med('n_requests'):.0f}", ""],
        ["MiB received until then", "", f"{med('n_bytes') / 2**20:.1f}", ""],
        ["RSS at first screen", "", f"{med('rss_mb'):.1f} MB", ""],
        [f"RSS after 12 s + {args.seconds:g} s of 5 s refreshes", "", f"{s1['rss_kb'] / 1024:.1f} MB", ""],
        ["requests per minute at 5 s refresh", "", f"{(s1['requests'] - s0['requests']) / minutes:.0f}", ""],
        ["CPU while refreshing every 5 s", "(1,000 jobs: < 2% idle)", f"{cpu:.1f}% of one core", ""],
        [
            f"with --state active: counts on screen ({int(med_active('rows')):,} rows)",
            "",
            f"{med_active('counts'):.2f} s",
            "",
        ],
        ["with --state active: RSS at first screen", "", f"{med_active('rss_mb'):.1f} MB", ""],
    ]
    print(
        table(
            f"Benchmark 7: {args.jobs:,} jobs, sim on loopback with {args.latency_ms:g} ms latency "
            f"(first screen: median of {args.repeat} fresh processes)",
            ["figure", "reference", "measured", ""],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
