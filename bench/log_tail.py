"""What a log tail costs (issue 11): following a growing log, and opening the tail of 1 GB.

    python bench/log_tail.py [--ticks 60] [--repeat 5] [--latency-ms 20]

1. Following: a simulated solver trace grows 100 KiB per (real) second; the LogTail polls every
   5 s. Counted on the wire (the simulator's request log) and in the client's byte counter:
   requests per tick by method, and bytes read against bytes the file grew. Then the same
   number of ticks with the task finished (the file stopped growing): HEADs only.
2. Opening: the last lines of a ~1 GB trace, over loopback HTTP with 20 ms latency per request,
   as the dashboard opens it (LogTail's first poll) and as ``batchtui logs --tail 100`` does:
   wall time to the lines, bytes read, requests.

Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from batchtui.batch.auth import SharedKeyAuth  # noqa: E402
from batchtui.batch.client import BatchClient, RetryPolicy  # noqa: E402
from batchtui.batch.files import TaskFileRef  # noqa: E402
from batchtui.logtext import LineDecoder  # noqa: E402
from batchtui.refresh.logs import LogTail  # noqa: E402
from batchtui.sim import SimConfig, Simulator  # noqa: E402
from batchtui.sim.file_tree import task_run  # noqa: E402
from batchtui.sim.files import TRACE_MAX, TRACE_RATE, Content, find, task_files  # noqa: E402
from batchtui.sim.server import BackgroundServer  # noqa: E402

KIB = 1024
GROWTH = 100 * KIB  # bytes per real second the followed log grows by
TICK = 5.0  # seconds between polls, the dashboard's default refresh


def client_for(sim: Simulator, endpoint: str | None = None) -> BatchClient:
    auth = SharedKeyAuth(sim.config.account, sim.config.key)
    if endpoint is None:
        return BatchClient(
            "http://127.0.0.1:8765",
            auth,
            transport=httpx.ASGITransport(app=sim),
            retry=RetryPolicy(max_attempts=1),
        )
    return BatchClient(endpoint, auth, retry=RetryPolicy(max_attempts=1))


def running_trace(sim: Simulator) -> tuple[TaskFileRef, float]:
    """A multi-instance primary still running, with room for its trace to grow for a while."""
    w, t = sim.world, sim.clock.seconds()
    for job_id in sim.job_ids():
        plan = w.find_job(job_id, t)
        if plan is None or not plan.id.startswith("mpi"):
            continue
        for spec in w.visible_tasks(plan, t):
            run = task_run(w, plan, spec, t)
            if run is not None and run.end > t + 900 and TRACE_RATE * (t - run.run) + (64 << 20) < TRACE_MAX:
                return TaskFileRef(plan.id, spec.id, "wd\\solver.trace"), run.end
    raise SystemExit("no running solver found in this world")


def sim_trace(sim: Simulator, ref: TaskFileRef) -> Content:
    w, t = sim.world, sim.clock.seconds()
    plan = w.find_job(ref.job_id, t)
    spec = w.find_task(plan, ref.task_id, t) if plan is not None else None
    run = task_run(w, plan, spec, t) if plan is not None and spec is not None else None
    f = find(task_files(run), ref.path) if run is not None else None
    assert f is not None and f.content is not None
    return f.content


def big_trace(sim: Simulator) -> TaskFileRef:
    """A solver's trace that has reached its ~1 GB."""
    w, t = sim.world, sim.clock.seconds()
    for job_id in sim.job_ids():
        plan = w.find_job(job_id, t)
        if plan is None or not plan.id.startswith("mpi"):
            continue
        for spec in w.visible_tasks(plan, t):
            run = task_run(w, plan, spec, t)
            if run is not None and TRACE_RATE * (min(t, run.end) - run.run) >= TRACE_MAX:
                return TaskFileRef(plan.id, spec.id, "wd\\solver.trace")
    raise SystemExit("no finished 1 GB trace in this world")


async def follow(ticks: int) -> None:
    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0))
    ref, _end = running_trace(sim)
    client = client_for(sim)
    tail = LogTail(client, ref, task_state="running")
    await tail.poll("open")
    sim_per_tick = TICK * GROWTH / TRACE_RATE  # sim seconds that grow the trace by 500 KiB
    rows = []
    for phase in ("growing", "finished"):
        if phase == "finished":
            tail.set_task_state("completed")
            await tail.poll("timer")  # the last growth, if any
            sim.clock.advance(0)
        sim.requests.clear()
        read_before = client.stats.bytes_received
        size_before = tail._decoder.end
        times = []
        lines = 0
        for _ in range(ticks):
            if phase == "growing":
                sim.clock.advance(sim_per_tick)
            started = time.perf_counter()
            snap = await tail.poll("timer")
            times.append(time.perf_counter() - started)
            lines += snap.appended
        methods = Counter(r.method for r in sim.requests)
        grew = tail._decoder.end - size_before
        read = client.stats.bytes_received - read_before
        rows.append(
            (
                phase,
                ticks,
                methods.get("HEAD", 0) / ticks,
                methods.get("GET", 0) / ticks,
                grew,
                read,
                lines,
                statistics.median(times),
            )
        )
    await client.aclose()
    # The client's own share of a growing tick: 500 KiB of the trace decoded into lines.
    content = sim_trace(sim, ref)
    t = sim.clock.seconds()
    data = content.read(0, int(TICK * GROWTH), t)
    started = time.perf_counter()
    LineDecoder().feed_at(data)
    decode_ms = (time.perf_counter() - started) * 1000
    print(f"1. Following {ref.label} (grows {GROWTH // KIB} KiB/s, a poll every {TICK:g} s)")
    print(
        f"{'phase':<10}{'ticks':>6}{'HEAD/tick':>11}{'GET/tick':>10}{'grew (B)':>12}{'read (B)':>12}{'read/grew':>10}{'lines':>8}{'ms/poll':>9}"
    )
    for phase, n, heads, gets, grew, read, lines, med in rows:
        ratio = f"{read / grew:.3f}" if grew else "-"
        print(
            f"{phase:<10}{n:>6}{heads:>11.2f}{gets:>10.2f}{grew:>12,}{read:>12,}{ratio:>10}{lines:>8}{med * 1000:>9.2f}"
        )
    print(
        f"(of a growing poll, {decode_ms:.1f} ms is the client decoding {int(TICK * GROWTH) // KIB} KiB "
        "into lines; the rest is the simulator making them)"
    )


async def open_tail(repeat: int, latency_ms: float) -> None:
    from batchtui.logs_cli import read_tail

    sim = Simulator(SimConfig(seed=1, jobs=40, time_scale=0, latency_ms=latency_ms))
    sim.clock.advance(3 * 3600)  # every solver of the first hours has filled its trace
    ref = big_trace(sim)
    rows = []
    with BackgroundServer(sim) as server:
        for how in ("LogTail (dashboard)", "logs --tail 100"):
            times, reads, reqs = [], [], []
            for _ in range(repeat):
                client = client_for(sim, server.url)
                sim.requests.clear()
                started = time.perf_counter()
                if how.startswith("LogTail"):
                    snap = await LogTail(client, ref).poll("open")
                    assert snap.lines and snap.size is not None and snap.size >= 900_000_000
                    size = snap.size
                else:
                    size = (await client.get_file_properties(ref)).content_length
                    _, tail = await read_tail(client, ref, size, 100, sys.stderr)
                    assert tail.count(b"\n") == 100
                times.append(time.perf_counter() - started)
                reads.append(client.stats.bytes_received)
                reqs.append(len(sim.requests))
                await client.aclose()
            rows.append(
                (how, size, statistics.median(times), max(times), max(reads), statistics.median(reqs))
            )
    print(
        f"\n2. Opening the tail of {ref.label} over loopback, {latency_ms:g} ms latency per request, {repeat} runs"
    )
    print(f"{'how':<22}{'file (B)':>15}{'median ms':>11}{'max ms':>9}{'read (B)':>11}{'requests':>10}")
    for how, size, med, most, read, n in rows:
        print(f"{how:<22}{size:>15,}{med * 1000:>11.0f}{most * 1000:>9.0f}{read:>11,}{n:>10.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    asyncio.run(follow(args.ticks))
    asyncio.run(open_tail(args.repeat, args.latency_ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
