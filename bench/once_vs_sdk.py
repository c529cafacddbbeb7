"""Benchmark 1: `batchtui --once` against the official azure-batch SDK doing the same work.

Both run as fresh processes (what an operator or a cron job pays), against one
`batchtui sim` on loopback with 20 ms of latency per request, in the same run.
Each figure is the median wall time of --repeat runs; both outputs are checked to hold
every job with its task counts, so a fast wrong answer cannot win.

    python bench/once_vs_sdk.py [--sizes 50,200,1000] [--repeat 3] [--latency-ms 20] [--concurrency 16,32,64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import compile_package  # noqa: E402
from simserver import sim_server  # noqa: E402

from batchtui.batch.client import DEFAULT_CONCURRENCY  # noqa: E402

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600).stdout
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,200,1000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument(
        "--concurrency",
        default=str(DEFAULT_CONCURRENCY),
        help=f"comma-separated --concurrency values for --once (default {DEFAULT_CONCURRENCY})",
    )
    args = ap.parse_args()
    compile_package()
    levels = [int(c) for c in args.concurrency.split(",")]

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with sim_server("--jobs", str(n), "--latency-ms", str(args.latency_ms), "--time-scale", "0") as sim:
            env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_BATCH_")}
            env.update(sim.env)
            once = [sys.executable, "-m", "batchtui", "--once", "-o", "json", "--concurrency"]
            ours: dict[int, list[float]] = {c: [] for c in levels}
            sdk: list[float] = []
            # One untimed pass: the simulator builds each job's tasks lazily on first use, and
            # whichever tool ran first would otherwise pay for it.
            timed([*once, str(levels[0])], env)
            listed = 0
            for _ in range(args.repeat):
                for c in levels:  # interleaved, so drifting machine load hits every column alike
                    t, out = timed([*once, str(c)], env)
                    doc = json.loads(out)
                    listed = len(doc["jobs"])  # deleted jobs are not listed, so a few under n
                    assert all(j["taskCounts"] is not None for j in doc["jobs"]), "--once missed counts"
                    ours[c].append(t)
                t, out = timed([sys.executable, str(HERE / "sdk_task_counts.py")], env)
                assert out.split() == [str(listed), str(listed)], f"SDK saw {out!r}, --once {listed}"
                sdk.append(t)
            b = statistics.median(sdk)
            rows.append((listed, b, [statistics.median(ours[c]) for c in levels]))

    print(
        f"\nBenchmark 1: jobs + task counts, sim on loopback, {args.latency_ms:g} ms latency, "
        f"median of {args.repeat}"
    )
    head = "".join(f"  {'--once (' + str(c) + ' in flight)':>22}  {'speed-up':>8}" for c in levels)
    print(f"{'jobs':>6}  {'azure-batch SDK':>16}{head}")
    for n, b, times in rows:
        cells = "".join(f"  {a:>21.2f}s  {b / a:>7.1f}x" for a in times)
        print(f"{n:>6}  {b:>15.2f}s{cells}")


if __name__ == "__main__":
    main()
