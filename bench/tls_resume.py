"""TLS handshakes, full against resumed: the client's CPU for a burst of new connections.

Starts ``batchtui sim --tls`` on loopback, then, --rounds times, opens --burst connections
the way ``--once`` does after its job list, through the direct transport's own context
(batch/transport.py ``trust_store``, a ResumingContext): once with nothing remembered (full
handshakes) and once after one answer was read on a first connection (resumed), interleaved.
Each figure is the median CPU of this process per handshake, and how many resumed.

    python bench/tls_resume.py [--burst 32] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx  # noqa: E402
from harness import table  # noqa: E402
from simserver import sim_server  # noqa: E402

from batchtui.batch.network import DirectTransport  # noqa: E402
from batchtui.batch.transport import connection_limits, trust_store  # noqa: E402


async def burst(url: str, n: int, resume: bool, env: dict[str, str]) -> tuple[float, int]:
    transport = DirectTransport(limits=connection_limits(n + 1), ssl_context=trust_store(env))
    try:
        if resume:  # one answer read on a first connection gives the context its session
            response = await transport.handle_async_request(httpx.Request("GET", url + "/jobs"))
            await response.aread()
            await response.aclose()
            transport.pool.close()  # so that every connection of the burst is a new one
        cpu = time.process_time()
        conns = await asyncio.gather(*(transport.pool.take(httpx.Request("GET", url), {}) for _ in range(n)))
        spent = time.process_time() - cpu
        resumed = sum(c.resumed for c in conns)
        for c in conns:
            transport.pool.give_back(c)
        return spent / n * 1000, resumed
    finally:
        await transport.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--burst", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    with sim_server("--jobs", "10", "--time-scale", "0", "--tls") as sim:
        env = {"SSL_CERT_FILE": sim.env["SSL_CERT_FILE"]}
        got: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
        for _ in range(args.rounds):
            for resume in (False, True):
                got[resume].append(asyncio.run(burst(sim.endpoint, args.burst, resume, env)))
    rows = [
        (
            "resumed" if resume else "full",
            f"{statistics.median(ms for ms, _ in got[resume]):.2f}",
            f"{min(r for _, r in got[resume])}-{max(r for _, r in got[resume])} of {args.burst}",
        )
        for resume in (False, True)
    ]
    print(
        table(
            f"TLS handshakes to batchtui sim --tls, {args.burst} at once, median of {args.rounds} (interleaved)",
            ["handshakes", "client CPU ms each", "resumed"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
