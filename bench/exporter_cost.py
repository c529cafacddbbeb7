"""Benchmark: what ``batchtui exporter`` costs the account with 0, 1 and 10 Prometheus scrapers.

The real exporter in its own process (``batchtui exporter --refresh 15``) reads a simulated
account (in this process, on loopback, 20 ms of latency; a frozen world by default, or
``--time-scale 10`` for one where counts move);
every request is counted where it arrives, in the simulator's request log. Three runs of equal
length, each a fresh exporter against a fresh copy of the same world (the counts cadence reads
quiet jobs in bursts, so phases of one run would not compare): no scraper, one scraper every
15 s (Prometheus's default), ten scrapers each once a second. The claim to check: scrapes never
call the account, so the requests a minute are the same in all three.

    python bench/exporter_cost.py [--minutes 3] [--jobs 200] [--refresh 15] [--time-scale 0]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from batchtui.sim import SimConfig, Simulator  # noqa: E402
from batchtui.sim.server import BackgroundServer  # noqa: E402


def call_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if parts == ["jobs"]:
        return "job list"
    if len(parts) == 3 and parts[2] == "taskcounts":
        return "task counts"
    if parts == ["nodecounts"]:
        return "node counts"
    return "other"


class Scrapers:
    """``n`` threads, each GETting /metrics every ``every`` seconds."""

    def __init__(self, url: str, n: int, every: float) -> None:
        self.url = url
        self.every = every
        self.stop = threading.Event()
        self.times: list[float] = []
        self.sizes: list[int] = []
        self.errors = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:  # noqa: S310 - loopback
                    size = len(r.read())
                with self._lock:
                    self.times.append(time.perf_counter() - started)
                    self.sizes.append(size)
            except OSError:
                with self._lock:
                    self.errors += 1
            self.stop.wait(self.every)

    def __enter__(self) -> Scrapers:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=15)


def run(args: argparse.Namespace, scrapers: int, every: float) -> dict[str, object]:
    """One exporter, from start, for ``--minutes``, against a fresh copy of the same world."""
    key = SimConfig().key
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=SimConfig().warmup)
    sim = Simulator(SimConfig(jobs=args.jobs, time_scale=args.time_scale, latency_ms=20, start=start, seed=4))
    with BackgroundServer(sim) as server:
        env = {
            **os.environ,
            "AZURE_BATCH_ENDPOINT": server.url,
            "AZURE_BATCH_ACCOUNT": sim.config.account,
            "AZURE_BATCH_ACCESS_KEY": key,
            "PYTHONUNBUFFERED": "1",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "batchtui", "exporter", "--listen", "127.0.0.1:0"]
            + ["--refresh", str(args.refresh)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert proc.stderr is not None
            m = re.search(r"serving (http://\S+/metrics)", proc.stderr.readline())
            assert m, "the exporter did not start"
            seconds = args.minutes * 60
            with Scrapers(m.group(1), scrapers, every) as scraping:
                time.sleep(seconds)
            served = list(sim.requests)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    per_min = 60.0 / seconds
    first = next((i for i, r in enumerate(served) if call_of(r.path) == "job list" and i > 0), len(served))
    calls = Counter(call_of(r.path) for r in served)
    return {
        "total": len(served) * per_min,
        "first read": first,
        "after": (len(served) - first) * 60.0 / max(seconds - args.refresh, 1.0),
        "calls": {c: v * per_min for c, v in calls.items()},
        "scrapes": len(scraping.times),
        "p50": statistics.median(scraping.times) * 1000 if scraping.times else None,
        "bytes": statistics.median(scraping.sizes) if scraping.sizes else None,
        "errors": scraping.errors,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=3.0, help="how long each exporter runs")
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--refresh", type=float, default=15.0)
    p.add_argument(
        "--time-scale",
        type=float,
        default=0.0,
        help="0 (default): a frozen world, so the runs compare exactly",
    )
    args = p.parse_args()
    rows = []
    for label, n, every in (
        ("no scraper", 0, 0.0),
        ("1 scraper, every 15 s", 1, 15.0),
        ("10 scrapers, every 1 s", 10, 1.0),
    ):
        rows.append((label, run(args, n, every)))

    print(
        f"exporter --refresh {args.refresh:g}, {args.jobs} jobs at {args.time_scale:g}x, 20 ms latency, "
        f"each run {args.minutes:g} min from start (a fresh copy of the same world each)"
    )
    print(
        f"{'scrapers':<24} {'req/min':>8} {'1st read':>8} {'then/min':>8}  {'by call (per min)':<34} "
        f"{'scrapes':>7} {'p50 ms':>7} {'bytes':>8}"
    )
    for label, r in rows:
        calls = r["calls"]
        assert isinstance(calls, dict)
        by_call = ", ".join(f"{c} {v:.1f}" for c, v in sorted(calls.items()))
        p50 = f"{r['p50']:.1f}" if r["p50"] is not None else "-"
        size = f"{r['bytes']:,.0f}" if r["bytes"] is not None else "-"
        err = f" ({r['errors']} failed)" if r["errors"] else ""
        print(
            f"{label:<24} {r['total']:>8.1f} {r['first read']:>8} {r['after']:>8.1f}  {by_call:<34} "
            f"{r['scrapes']:>7} {p50:>7} {size:>8}{err}"
        )


if __name__ == "__main__":
    main()
