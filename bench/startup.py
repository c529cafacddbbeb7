"""Benchmark 3: time from process start until the job list and the selected job's counts show.

The parent starts ``batchtui sim`` (1,000 jobs, 20 ms latency, frozen) on loopback, then,
--repeat times, a fresh Python running the real dashboard headless at 120x40
(bench/startup_child.py), timestamping each line the child prints from the moment it spawned
it: interpreter start, imports, config, first requests, first paint are all included.
batchtui is byte-compiled first, as an installed copy is (harness.compile_package), and one
untimed run goes first (the simulator builds each job's tasks lazily on first use).
Goal (issue 5): under 1 s to the selected job's counts.

    python bench/startup.py [--jobs 1000] [--repeat 7] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import compile_package, table  # noqa: E402
from simserver import sim_server  # noqa: E402

HERE = Path(__file__).resolve().parent


def child_env(sim_env: dict[str, str], home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_BATCH_")}
    env.update(sim_env)
    # No config file or az CLI profile of the developer's may leak into the measurement.
    env.update(HOME=home, XDG_CONFIG_HOME=home, AZURE_CONFIG_DIR=home)
    return env


def run_child(
    env: dict[str, str], timeout: float = 300.0, state: str | None = None, tree: str | None = None
) -> dict[str, object]:
    """Spawn the dashboard; return {milestone: seconds since spawn} and its figures.

    ``tree``: another checkout's dashboard, run by its own bench/startup_child.py."""
    start = time.perf_counter()
    child = Path(tree) / "bench" / "startup_child.py" if tree else HERE / "startup_child.py"
    if tree:
        env = {**env, "PYTHONPATH": tree}
    cmd = [sys.executable, str(child), *([state] if state else [])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out: dict[str, object] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        t = time.perf_counter() - start
        word, _, rest = line.strip().partition(" ")
        out[word] = t
        if word == "list":
            out["rows"] = int(rest)
        elif word == "rss_kb":
            out["rss_mb"] = int(rest) / 1024
        elif word == "requests":
            parts = rest.split()
            out["n_requests"] = int(parts[0])
            out["n_bytes"] = int(parts[2])
    proc.wait(timeout)
    if "counts" not in out:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"the dashboard never showed counts: {err.strip()[-500:]}")
    return out


def bare_python(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--latency-ms", type=float, default=20)
    ap.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run the checkout at PATH, interleaved, as a column of its own (repeatable)",
    )
    args = ap.parse_args()
    trees: list[tuple[str, str | None]] = [("now", None)]
    for spec in args.tree:
        name, _, path = spec.partition("=")
        if not name or not (Path(path) / "bench" / "startup_child.py").is_file():
            ap.error(
                f"--tree {spec!r}: expected NAME=PATH of a batchtui checkout with bench/startup_child.py"
            )
        compileall.compile_dir(str(Path(path) / "batchtui"), quiet=1)
        trees.append((name, str(Path(path).resolve())))
    by_tree: dict[str, list[dict[str, object]]] = {name: [] for name, _ in trees}
    compile_package()
    with (
        tempfile.TemporaryDirectory() as home,
        sim_server(
            "--jobs", str(args.jobs), "--latency-ms", str(args.latency_ms), "--time-scale", "0"
        ) as sim,
    ):
        env = child_env(sim.env, home)
        run_child(env)  # untimed warm-up
        bare = statistics.median(bare_python(env) for _ in range(5))
        for _ in range(args.repeat):
            for name, path in trees:  # interleaved: drifting load weighs on every column alike
                by_tree[name].append(run_child(env, tree=path))

    def med(runs: list[dict[str, object]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

    def cells(fmt: str, key: str) -> list[str]:
        return [format(med(by_tree[name], key), fmt) for name, _ in trees]

    counts = med(by_tree["now"], "counts")
    rows = [
        ["bare `python -c pass`", "", f"{bare:.3f}", *([""] * (len(trees) - 1)), ""],
        ["imports done (textual, httpx, batchtui.ui)", "", *cells(".3f", "imported"), ""],
        [f"job list on screen ({int(med(by_tree['now'], 'rows')):,} rows)", "", *cells(".3f", "list"), ""],
        [
            "selected job's counts on screen",
            "< 1 s",
            *cells(".3f", "counts"),
            "ok" if counts < 1 else "MISSED",
        ],
        [
            "  worst of the runs",
            "",
            *(f"{max(float(r['counts']) for r in by_tree[name]):.3f}" for name, _ in trees),  # type: ignore[arg-type]
            "",
        ],
        ["requests until then", "", *cells(".0f", "n_requests"), ""],
        ["KiB received until then", "", *(f"{med(by_tree[n], 'n_bytes') / 1024:,.0f}" for n, _ in trees), ""],
        ["RSS then (MB)", "", *cells(".1f", "rss_mb"), ""],
    ]
    print(
        table(
            f"Benchmark 3: start-up to first screen, {args.jobs:,} jobs, sim on loopback with "
            f"{args.latency_ms:g} ms latency, seconds since spawn (median of {args.repeat})",
            [
                "milestone",
                "goal",
                *(name if name == "now" else f"{name}" for name, _ in trees),
                "verdict (now)",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
