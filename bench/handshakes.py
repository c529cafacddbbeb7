"""Benchmark: TLS handshakes while the dashboard refreshes (issue 15: connections that stay open).

The real dashboard (BatchApp, headless, 120x40, its own refresh timer, every 5 s) against the
simulator over HTTPS (the certificate of ``batchtui sim --tls``), both in this process, for
--minutes of real time: keep-alive is a matter of real seconds on both sides, so nothing here
is sped up except the simulator's world (--time-scale, so jobs start, run and finish). The
handshakes are counted at the server (one per ClientHello), after a warm-up, and put per hour.

Cases run side by side, each in its own process: **now** (the client keeps idle connections
batchtui.batch.transport.KEEPALIVE_SECONDS, the simulator batchtui.sim.server.KEEPALIVE_SECONDS)
and **5 s** (both set back to 5 s, what the client and uvicorn's default kept before issue 15;
the same code otherwise), for each --time-scales value (0: an account at rest; 60: an hour of
the world a minute, so jobs start and finish and bursts of counts reads come and go). For
"now", every second in which new handshakes happened after the warm-up is listed with the
requests served in that second and the seconds since the last request before it.
``--cases`` picks among them; ``--tree NAME=PATH`` (repeatable) adds a case running another
checkout of batchtui (put first on PYTHONPATH) with its own settings, for a before/after in one
run, e.g. a `git archive` of main.

    python bench/handshakes.py [--minutes 10] [--jobs 1000] [--refresh 5] [--warmup 60] [--time-scales 0,60]
        [--cases "now,5 s"] [--tree main=/tmp/main-checkout ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import table  # noqa: E402

CASES = {"now": None, "5 s": 5.0}


async def run_case(args: argparse.Namespace, keepalive: float | None) -> dict[str, Any]:
    import batchtui.batch.transport as transport
    import batchtui.sim.server as sim_server
    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient
    from batchtui.sim import SimConfig, Simulator
    from batchtui.sim.tls import make_server_certificate
    from batchtui.ui.app import make_app

    if keepalive is not None:  # both read at construction, below
        transport.KEEPALIVE_SECONDS = keepalive
        sim_server.KEEPALIVE_SECONDS = int(keepalive)
    sim = Simulator(SimConfig(jobs=args.jobs, time_scale=args.scale, seed=1))
    folder = Path(tempfile.mkdtemp(prefix="bench-handshakes-"))
    tls = make_server_certificate(folder, "127.0.0.1")
    os.environ["SSL_CERT_FILE"] = str(tls.ca_file)
    samples: list[dict[str, Any]] = []
    with sim_server.BackgroundServer(sim, tls=tls) as server:
        client = BatchClient(
            server.url, SharedKeyAuth(sim.config.account, sim.config.key), account=sim.config.account
        )
        app = make_app(client, refresh=args.refresh, now=sim.clock.now)
        start = time.monotonic()
        async with app.run_test(size=(120, 40)):
            while (elapsed := time.monotonic() - start) < args.minutes * 60:
                sample: dict[str, Any] = {
                    "s": elapsed,
                    "handshakes": server.server.tls_handshakes,
                    "requests": len(sim.requests),
                    "lists": sum(1 for r in sim.requests if r.path == "/jobs"),
                }
                if samples and sample["handshakes"] > samples[-1]["handshakes"]:
                    # what was asked in the second a connection was opened: which poller needed it
                    sample["paths"] = [r.path for r in sim.requests[samples[-1]["requests"] :]]
                samples.append(sample)
                await asyncio.sleep(1.0)
        samples.append(
            {
                "s": time.monotonic() - start,
                "handshakes": server.server.tls_handshakes,
                "requests": len(sim.requests),
                "lists": sum(1 for r in sim.requests if r.path == "/jobs"),
            }
        )
    return {
        "client_keepalive": transport.KEEPALIVE_SECONDS,
        "server_keepalive": sim_server.KEEPALIVE_SECONDS,
        "samples": samples,
    }


def bursts(result: dict[str, Any], warmup: float) -> list[str]:
    """The seconds after warm-up in which new handshakes happened, with what was asked then."""
    out = []
    samples = result["samples"]
    last_busy = 0.0
    for before, now in zip(samples, samples[1:], strict=False):
        asked = now["requests"] - before["requests"]
        new = now["handshakes"] - before["handshakes"]
        if new and now["s"] >= warmup:
            out.append(
                f"  t={now['s']:.0f}s: +{new} handshakes, {asked} requests that second, "
                f"{before['s'] - last_busy:.0f} s after the last request before it: "
                + ", ".join(now.get("paths", []))
            )
        if asked:
            last_busy = now["s"]
    return out


def summarize(name: str, result: dict[str, Any], warmup: float) -> list[object]:
    samples = result["samples"]
    warm = next((s for s in samples if s["s"] >= warmup), samples[-1])
    end = samples[-1]
    after = end["handshakes"] - warm["handshakes"]
    hours = max(end["s"] - warm["s"], 1e-9) / 3600
    requests = end["requests"] - warm["requests"]
    return [
        name,
        f"{result['client_keepalive']:g} / {result['server_keepalive']:g}",
        f"{end['s'] / 60:.1f}",
        warm["handshakes"],
        after,
        requests,
        end["lists"] - warm["lists"],
        round(after / hours),
        f"{100 * after / max(requests, 1):.1f}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--refresh", type=float, default=5.0)
    ap.add_argument("--time-scales", default="0,60", help="the simulator's clock speeds, one run each")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds before handshakes are counted")
    ap.add_argument("--cases", default=",".join(CASES), help=f"which of {', '.join(CASES)} to run")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH", help="also run this checkout")
    ap.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)  # a child's one case
    ap.add_argument("--scale", type=float, default=0.0, help=argparse.SUPPRESS)  # ... at this clock
    args = ap.parse_args()
    if args.case:
        print(json.dumps(asyncio.run(run_case(args, CASES[args.case]))))
        return
    argv = list(sys.argv[1:])
    trees: dict[str, str | None] = {name: None for name in args.cases.split(",") if name}
    for spec in args.tree:
        name, _, path = spec.partition("=")
        if not name or name in CASES or not (Path(path) / "batchtui" / "__init__.py").is_file():
            ap.error(f"--tree {spec!r}: expected NAME=PATH of a batchtui checkout")
        trees[name] = str(Path(path).resolve())
    runs = [(name, float(scale)) for scale in args.time_scales.split(",") for name in trees]

    def child(name: str, scale: float) -> subprocess.Popen[str]:
        path = trees[name]
        env = dict(os.environ) if path is None else {**os.environ, "PYTHONPATH": path}
        case = name if path is None else "now"  # another tree runs with its own settings
        return subprocess.Popen(
            [sys.executable, __file__, *argv, "--case", case, "--scale", str(scale)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    children = {(name, scale): child(name, scale) for name, scale in runs}
    results = {key: json.loads(child.communicate()[0]) for key, child in children.items()}
    print()
    print(
        table(
            f"Benchmark: TLS handshakes while refreshing, {args.jobs:,} jobs, 120x40, refresh every "
            f"{args.refresh:g} s, {args.minutes:g} min of real time (warm-up {args.warmup:g} s)",
            [
                "case",
                "keep-alive client / server (s)",
                "minutes",
                "handshakes in warm-up",
                "handshakes after",
                "requests after",
                "list reads after",
                "handshakes per hour after warm-up",
                "per 100 requests",
            ],
            [
                summarize(f"{name}, time scale {scale:g}", results[name, scale], args.warmup)
                for name, scale in runs
            ],
        )
    )
    for name, scale in runs:
        if name == "5 s":
            continue
        lines = bursts(results[name, scale], args.warmup)
        print(f"{name}, time scale {scale:g}: new handshakes after warm-up" + (":" if lines else ": none"))
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
