"""Benchmark 4: CPU used by an idle dashboard (1,000 jobs, 5 s refresh), in % of one core.

``batchtui sim`` (1,000 jobs, 20 ms latency, frozen: nothing changes) in one process; the
real dashboard headless at 120x40 in another (bench/idle_child.py). After the first screen
and a settling pause, the dashboard's CPU time (user + system, from /proc/PID/stat) is read
over windows of --seconds each, --repeat times, in two states:

- refreshing every 5 s: what an idle dashboard costs in all (its refreshes included),
- paused (``p``): only what happens between refreshes (status line age, timers, the loop).

Goal (issue 5): under 2% of one core between refreshes.

    python bench/idle_cpu.py [--seconds 30] [--repeat 3] [--jobs 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import table  # noqa: E402
from simserver import sim_server  # noqa: E402
from startup import child_env  # noqa: E402

HERE = Path(__file__).resolve().parent
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class Dashboard:
    def __init__(self, env: dict[str, str], refresh: float, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "idle_child.py"), "--refresh", str(refresh), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.readline()
        if line != "ready":
            raise RuntimeError(f"dashboard did not start: {line!r}")

    def readline(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def send(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.readline()

    def stats(self, *, trim: bool = False) -> dict[str, int]:
        answer = self.send("stats trim" if trim else "stats")
        return {k: int(v) for k, v in (w.split("=") for w in answer.split()[1:])}

    def close(self) -> None:
        try:
            self.send("quit")
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def window(dash: Dashboard, seconds: float) -> tuple[float, int, int]:
    """% of one core over ``seconds``, and the refreshes and requests made meanwhile."""
    before = dash.stats()
    c0, t0 = cpu_of(dash.proc.pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_of(dash.proc.pid), time.monotonic()
    after = dash.stats()
    return (
        100.0 * (c1 - c0) / (t1 - t0),
        after["fetches"] - before["fetches"],
        after["requests"] - before["requests"],
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--refresh", type=float, default=5.0)
    ap.add_argument("--latency-ms", type=float, default=20)
    args = ap.parse_args()
    results: dict[str, list[tuple[float, int, int]]] = {"refreshing": [], "paused": []}
    with (
        tempfile.TemporaryDirectory() as home,
        sim_server(
            "--jobs", str(args.jobs), "--latency-ms", str(args.latency_ms), "--time-scale", "0"
        ) as sim,
    ):
        dash = Dashboard(child_env(sim.env, home), args.refresh)
        try:
            time.sleep(args.refresh * 2)  # past the first refreshes (counts of rows without any)
            for _ in range(args.repeat):
                results["refreshing"].append(window(dash, args.seconds))
            dash.send("press p")
            time.sleep(1.0)
            for _ in range(args.repeat):
                results["paused"].append(window(dash, args.seconds))
        finally:
            dash.close()
    rows = []
    for key, name, goal in (
        ("refreshing", f"refreshing every {args.refresh:g} s", "(info)"),
        ("paused", "paused: between refreshes", "< 2%"),
    ):
        runs = results[key]
        pct = statistics.median(r[0] for r in runs)
        rows.append(
            [
                name,
                goal,
                f"{pct:.2f}%",
                " / ".join(f"{r[0]:.2f}" for r in runs),
                statistics.median(r[1] for r in runs),
                statistics.median(r[2] for r in runs),
                "" if goal == "(info)" else ("ok" if pct < 2 else "MISSED"),
            ]
        )
    print(
        table(
            f"Benchmark 4: dashboard CPU, % of one core, {args.jobs:,} jobs, frozen world, "
            f"windows of {args.seconds:g} s (median of {args.repeat})",
            ["state", "goal", "median", "runs", "refreshes/window", "requests/window", "verdict"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
