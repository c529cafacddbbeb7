"""Run every benchmark in turn and print their tables (the soak only with --soak: ~1 hour).

    python bench/run_all.py [--quick] [--soak]

--quick passes smaller settings to each (a smoke test of the benchmarks, not figures to quote).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL: list[list[str]] = [
    ["once_vs_sdk.py"],
    ["once_vs_sdk.py", "--sizes", "200", "--repeat", "5", "--tls"],
    ["httpx_cli_import.py"],
    ["handshakes.py", "--minutes", "10"],
    ["refresh_cost.py"],
    ["startup.py"],
    ["idle_cpu.py"],
    ["memory.py"],
    ["apply_cost.py"],
    ["ten_thousand.py"],
    ["log_tail.py"],
    ["log_view.py"],
    ["pools_nodes.py"],
    ["models_parse.py"],
    ["throttle_recovery.py"],
    ["tls_resume.py"],
]
QUICK: list[list[str]] = [
    ["once_vs_sdk.py", "--sizes", "50", "--repeat", "1"],
    ["once_vs_sdk.py", "--sizes", "50", "--repeat", "1", "--tls"],
    ["httpx_cli_import.py", "--repeat", "3"],
    ["handshakes.py", "--minutes", "1", "--jobs", "200", "--warmup", "20"],
    ["refresh_cost.py", "--cycles", "6"],
    ["startup.py", "--repeat", "1"],
    ["idle_cpu.py", "--seconds", "5", "--repeat", "1"],
    ["memory.py", "--cycles", "200", "--every", "100"],
    ["apply_cost.py", "--runs", "5", "--jobs", "1000", "--ranks", "200"],
    ["ten_thousand.py", "--jobs", "2000", "--repeat", "1", "--seconds", "5"],
    ["log_tail.py", "--ticks", "6", "--repeat", "1"],
    ["log_view.py", "--frames", "10", "--lines", "20000"],
    ["pools_nodes.py", "--nodes", "200", "--tasks", "10000", "--repeat", "2"],
    ["models_parse.py", "--repeat", "1"],
    ["throttle_recovery.py", "--jobs", "20", "--calm", "4", "--storm", "8"],
    ["tls_resume.py", "--rounds", "2"],
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--soak", action="store_true")
    args = ap.parse_args()
    plan = [list(p) for p in (QUICK if args.quick else FULL)]
    if args.soak:
        plan.append(
            [
                "soak.py",
                "--cycles",
                "300",
                "--every",
                "100",
                "--first-episode",
                "50",
                "--episode-gap",
                "50",
                "--episode-scale",
                "0.1",
            ]
            if args.quick
            else [
                "soak.py",
                "--hours",
                "24",
                "--every",
                "150",
                "--first-episode",
                "100",
                "--episode-gap",
                "150",
            ]
        )
    failed = 0
    for script, *rest in plan:
        print(f"\n=== {script} {' '.join(rest)}", flush=True)
        start = time.monotonic()
        rc = subprocess.call([sys.executable, str(HERE / script), *rest])
        print(f"=== {script}: exit {rc}, {time.monotonic() - start:.0f} s", flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
