"""What skipping httpx's command-line client saves at start-up (batchtui/__init__.py).

Fresh interpreters import what ``batchtui --once`` imports before its first request
(``batchtui.cli`` and the client), interleaved, with the skip in place and without it
(httpx imported first, which is what the skip cannot act on). Reports the median wall
time and CPU of each, and the difference: the share of a 200-job ``--once`` it is.

    python bench/httpx_cli_import.py [--repeat 21]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import compile_package  # noqa: E402

CASES = {
    "with the skip (as shipped)": "import batchtui.cli, batchtui.batch.client, batchtui.once",
    "without it (httpx first)": "import httpx; import batchtui.cli, batchtui.batch.client, batchtui.once",
}


def run(code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    compile_package()
    for code in CASES.values():  # warm the page cache
        run(code)
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, code in CASES.items():
            wall, cpu = run(code)
            walls[name].append(wall)
            cpus[name].append(cpu)
    print(f"\nhttpx's command line at start-up: fresh interpreters, median of {args.repeat}")
    print(f"| {'case':<28} | wall (ms) | CPU (ms) |")
    print(f"|{'-' * 30}|-----------|----------|")
    for name in CASES:
        wall, cpu = statistics.median(walls[name]) * 1000, statistics.median(cpus[name]) * 1000
        print(f"| {name:<28} | {wall:>9.1f} | {cpu:>8.1f} |")
    saved = statistics.median(cpus["without it (httpx first)"]) - statistics.median(
        cpus["with the skip (as shipped)"]
    )
    print(f"saved: {saved * 1000:.1f} ms of CPU per start")


if __name__ == "__main__":
    main()
