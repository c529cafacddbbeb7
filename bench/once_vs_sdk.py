"""Benchmark 1: `batchtui --once` against the official azure-batch SDK doing the same work.

Both run as fresh processes (what an operator or a cron job pays), against one
`batchtui sim` on loopback with 20 ms of latency per request, in the same run.
Each figure is the median wall time of --repeat runs; both outputs are checked to hold
every job with its task counts, so a fast wrong answer cannot win.

``--tls``: the simulator serves HTTPS (``batchtui sim --tls``); both tools trust its
certificate through the variables it prints (SSL_CERT_FILE for batchtui, REQUESTS_CA_BUNDLE
for the SDK's requests). ``--over http,https``: both, one simulator each, every repeat running
every column over both, so the load of the moment weighs on http and HTTPS alike. ``--tree NAME=PATH`` (repeatable) adds --once columns run from
another checkout of batchtui (put first on PYTHONPATH, byte-compiled like this one), for A/B
comparisons of two versions in one interleaved run, e.g. a `git archive` of main.

    python bench/once_vs_sdk.py [--sizes 50,200,1000] [--repeat 3] [--latency-ms 20]
        [--concurrency 16,32,64] [--tls | --over http,https] [--tree main=/tmp/main-checkout ...]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import compile_package  # noqa: E402
from simserver import sim_server  # noqa: E402

from batchtui.batch.client import DEFAULT_CONCURRENCY  # noqa: E402

HERE = Path(__file__).resolve().parent


#: CPU seconds (user + system) of each finished child, by the command's column
CPU: dict[int, list[float]] = {}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children waited for: the one just run
    return usage.ru_utime + usage.ru_stime


#: where every child runs: no checkout here, so `python -m batchtui` imports the tree its
#: PYTHONPATH names (run from a checkout, ``-m`` would put that checkout first for every column)
NEUTRAL = tempfile.mkdtemp(prefix="bench-once-")


def imported_from(env: dict[str, str]) -> str:
    """The batchtui package a child with ``env`` imports."""
    code = "import batchtui, os; print(os.path.dirname(os.path.dirname(os.path.realpath(batchtui.__file__))))"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=NEUTRAL, capture_output=True, text=True, check=True
    ).stdout.strip()


def timed(cmd: list[str], env: dict[str, str], column: int = -1) -> tuple[float, str]:
    cpu = children_cpu()
    start = time.perf_counter()
    out = subprocess.run(
        cmd, env=env, cwd=NEUTRAL, capture_output=True, text=True, check=True, timeout=600
    ).stdout
    elapsed = time.perf_counter() - start
    CPU.setdefault(column, []).append(children_cpu() - cpu)
    return elapsed, out


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
    ap.add_argument("--tls", action="store_true", help="serve and measure over HTTPS")
    ap.add_argument("--over", help="http, https or both (comma-separated), interleaved; overrides --tls")
    ap.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run --once from the batchtui checkout at PATH (repeatable)",
    )
    args = ap.parse_args()
    compile_package()
    levels = [int(c) for c in args.concurrency.split(",")]
    trees: list[tuple[str, str | None]] = [("", None)]
    for spec in args.tree:
        name, _, path = spec.partition("=")
        if not name or not (Path(path) / "batchtui" / "__init__.py").is_file():
            ap.error(f"--tree {spec!r}: expected NAME=PATH of a batchtui checkout")
        compileall.compile_dir(str(Path(path) / "batchtui"), quiet=1)
        trees.append((name, str(Path(path).resolve())))
    for name, path in trees:  # each column runs the code it is named for
        env = dict(os.environ) if path is None else {**os.environ, "PYTHONPATH": path}
        got = imported_from(env)
        want = path or str(HERE.parent.resolve())
        if Path(got).resolve() != Path(want).resolve():
            ap.error(f"column {name or 'this checkout'!r} would import batchtui from {got}, not {want}")
    columns = [(name, path, c) for name, path in trees for c in levels]

    overs = [o.strip() for o in (args.over or ("https" if args.tls else "http")).split(",") if o.strip()]
    if not overs or any(o not in ("http", "https") for o in overs):
        ap.error(f"--over {args.over!r}: expected http, https or http,https")

    rows: dict[str, list[tuple[int, float, list[float], list[float]]]] = {o: [] for o in overs}
    for n in (int(s) for s in args.sizes.split(",")):
        sim_args = ["--jobs", str(n), "--latency-ms", str(args.latency_ms), "--time-scale", "0"]
        with contextlib.ExitStack() as stack:
            sims = {
                o: stack.enter_context(sim_server(*sim_args, *(["--tls"] if o == "https" else [])))
                for o in overs
            }
            envs: dict[str, dict[str, str]] = {}
            for o, sim in sims.items():
                env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_BATCH_")}
                env.update(sim.env)
                envs[o] = env
            once = [sys.executable, "-m", "batchtui", "--once", "-o", "json", "--concurrency"]
            ours: dict[str, dict[int, list[float]]] = {o: {i: [] for i in range(len(columns))} for o in overs}
            sdk: dict[str, list[float]] = {o: [] for o in overs}
            cpu_of: dict[str, dict[int, list[float]]] = {o: {} for o in overs}

            def run_once(
                o: str,
                column: int,
                envs: dict[str, dict[str, str]] = envs,
                once: list[str] = once,
                cpu_of: dict[str, dict[int, list[float]]] = cpu_of,
            ) -> tuple[float, str]:
                _name, path, c = columns[column]
                env = envs[o] if path is None else {**envs[o], "PYTHONPATH": path}
                t, out = timed([*once, str(c)], env, column)
                cpu_of[o].setdefault(column, []).append(CPU[column][-1])
                return t, out

            # One untimed pass each: the simulator builds each job's tasks lazily on first use,
            # and whichever tool ran first would otherwise pay for it.
            for o in overs:
                for i in range(len(columns)):
                    run_once(o, i)
                cpu_of[o].clear()
            listed = {o: 0 for o in overs}
            for _ in range(args.repeat):
                for o in overs:  # interleaved, so drifting load hits every column and protocol alike
                    for i in range(len(columns)):
                        t, out = run_once(o, i)
                        doc = json.loads(out)
                        listed[o] = len(doc["jobs"])  # deleted jobs are not listed, so a few under n
                        assert all(j["taskCounts"] is not None for j in doc["jobs"]), "--once missed counts"
                        ours[o][i].append(t)
                    t, out = timed([sys.executable, str(HERE / "sdk_task_counts.py")], envs[o])
                    assert out.split() == [str(listed[o]), str(listed[o])], (
                        f"SDK saw {out!r}, --once {listed[o]}"
                    )
                    sdk[o].append(t)
            for o in overs:
                b = statistics.median(sdk[o])
                cpu = [statistics.median(cpu_of[o][i]) for i in range(len(columns))]
                times = [statistics.median(ours[o][i]) for i in range(len(columns))]
                rows[o].append((listed[o], b, times, cpu))

    for o in overs:
        over = "HTTPS (batchtui sim --tls)" if o == "https" else "plain http"
        print(
            f"\nBenchmark 1: jobs + task counts, sim on loopback over {over}, {args.latency_ms:g} ms latency, "
            f"median of {args.repeat}"
            + (
                " (interleaved with " + " and ".join(x for x in overs if x != o) + ")"
                if len(overs) > 1
                else ""
            )
        )
        heads = [f"--once{' ' + name if name else ''} ({c} in flight)" for name, _path, c in columns]
        width = max(22, *(len(h) for h in heads))
        head = "".join(f"  {h:>{width}}  {'speed-up':>8}" for h in heads)
        print(f"{'jobs':>6}  {'azure-batch SDK':>16}{head}")
        for n, b, times, _cpu in rows[o]:
            cells = "".join(f"  {a:>{width - 1}.2f}s  {b / a:>7.1f}x" for a in times)
            print(f"{n:>6}  {b:>15.2f}s{cells}")
        # --once is CPU-bound where the SDK waits on latency: its CPU time, which other load on the
        # machine inflates much less than wall time, is the steadier figure for an A/B.
        print("CPU of each --once process (user + system, median):")
        for n, _b, _times, cpu in rows[o]:
            print(f"{n:>6}  {'':>16}" + "".join(f"  {c:>{width - 1}.3f}s  {'':>8}" for c in cpu))


if __name__ == "__main__":
    main()
