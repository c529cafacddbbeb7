"""A simulator in its own process whose faults a benchmark can switch while it runs.

``batchtui sim`` takes its faults once, on the command line; the soak benchmark needs to turn
throttling, errors and outages on and off along the way, and to keep the simulator's memory
and CPU out of the dashboard's figures. This serves the same ``Simulator`` over loopback
(``batchtui.sim.server.BackgroundServer``) and reads one command per line on stdin:

    faults throttle_rate=0.5 error_rate=0 latency_ms=20
    outage SECONDS [503|refuse]
    clear                       (no faults; keeps the latency it was started with)
    stats                       (prints "stats requests=N served_log=N rss_kb=N")
    quit

Run as a child through :func:`sim_process`; it prints ``url=...`` once it listens.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class SimProcess:
    url: str
    account: str
    key: str
    process: subprocess.Popen[str]

    def send(self, command: str) -> str:
        """Send one command; return the simulator's one-line answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()


@contextmanager
def sim_process(
    *, jobs: int, time_scale: float, latency_ms: float = 20.0, seed: int = 1, tasks: int = 60
) -> Iterator[SimProcess]:
    cmd = [
        sys.executable,
        str(HERE / "simctl.py"),
        "--jobs",
        str(jobs),
        "--time-scale",
        str(time_scale),
        "--latency-ms",
        str(latency_ms),
        "--seed",
        str(seed),
        "--tasks",
        str(tasks),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("url="):
            raise RuntimeError(f"simulator did not start: {line!r}")
        fields = dict(part.split("=", 1) for part in line.split())
        yield SimProcess(fields["url"], fields["account"], fields["key"], proc)
    finally:
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
            proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()


def make_client(url: str, account: str, key: str, **kw: object):  # type: ignore[no-untyped-def]
    """A BatchClient signed for the simulator, as the dashboard builds it for a real account."""
    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient

    return BatchClient(url, SharedKeyAuth(account, key), account=account, **kw)  # type: ignore[arg-type]


def _serve(args: argparse.Namespace) -> int:
    from batchtui.sim import SimConfig, Simulator
    from batchtui.sim.server import BackgroundServer

    sim = Simulator(
        SimConfig(
            jobs=args.jobs,
            time_scale=args.time_scale,
            latency_ms=args.latency_ms,
            seed=args.seed,
            tasks=args.tasks,
        )
    )
    base_latency = args.latency_ms
    served = 0
    server = BackgroundServer(sim).start()
    print(f"url={server.url} account={sim.config.account} key={sim.config.key}", flush=True)
    lock = threading.Lock()
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        verb = words[0]
        with lock:
            if verb == "quit":
                break
            if verb == "faults":
                for word in words[1:]:
                    name, value = word.split("=", 1)
                    setattr(sim.faults, name, float(value))
                print("ok", flush=True)
            elif verb == "outage":
                sim.faults.outage(float(words[1]), words[2] if len(words) > 2 else "503")
                print("ok", flush=True)
            elif verb == "clear":
                sim.faults.clear()
                sim.faults.latency_ms = base_latency
                print("ok", flush=True)
            elif verb == "stats":
                # The request log is bounded but large; count and drop it so the simulator's own
                # memory does not creep during a long soak.
                log = sim.requests
                n = len(log)
                served += n
                del log[:n]
                print(f"stats requests={served} rss_kb={rss_kb()}", flush=True)
            else:
                print(f"error unknown command {verb!r}", flush=True)
    server.stop()
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--time-scale", type=float, default=60.0)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    return _serve(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
