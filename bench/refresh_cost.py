"""Benchmark 2: requests and bytes per refresh cycle of the dashboard with 1,000 jobs.

The real dashboard (BatchApp, headless, 120x40) against the simulator; every request is
counted where it crosses the wire: the simulator's request log (method, path, status) and
the bytes of each response body as the client received it (a counting transport, checked
against the client's own ClientStats). Cycles are timer ticks: the screen's poll loop is woken
with reason "timer", exactly what its refresh timer does, so each cycle's requests can be told
apart. Two cases: at rest (time_scale=0: nothing changes) and with the selected job running
on a fast clock (time_scale=60: its counts move, jobs start and finish).

Goal (issue 5): one list page plus the counts of the jobs that can change, no more. "Can
change" is counted independently of the monitor: jobs in the screen's window (rows on screen
plus a margin, and the selected job) that the list says are not completed.

    python bench/refresh_cost.py [--jobs 1000] [--cycles 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import jobs_screen, table, wait_until  # noqa: E402

ENDPOINT = "http://127.0.0.1:8765"


def call_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if parts == ["jobs"]:
        return "job list"
    if len(parts) == 3 and parts[0] == "jobs" and parts[2] == "taskcounts":
        return "task counts"
    return "other"


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests through and tallies the response bytes per call."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bytes: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.bytes[call_of(request.url.path)] += len(body)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


async def run_case(jobs: int, time_scale: float, cycles: int, running: bool) -> dict[str, Any]:
    from batchtui.batch.auth import SharedKeyAuth
    from batchtui.batch.client import BatchClient
    from batchtui.batch.retry import RetryPolicy
    from batchtui.sim import SimConfig, Simulator
    from batchtui.ui.app import make_app

    sim = Simulator(SimConfig(jobs=jobs, time_scale=time_scale, seed=1))
    transport = CountingTransport(httpx.ASGITransport(app=sim))
    client = BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=transport,
        retry=RetryPolicy(max_attempts=1),
    )
    app = make_app(client, refresh=3600.0, now=sim.clock.now)
    records: list[dict[str, Any]] = []
    recording = False
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(lambda: (s := jobs_screen(app)) is not None and s.snapshot is not None, within=60)
        screen = jobs_screen(app)
        table_ = screen.table
        monitor = screen.monitor
        real_tick = monitor.tick

        async def recorded_tick(kind: str = "timer") -> Any:
            # Every tick, whoever asked for it (the timer, or the screen when rows without
            # counts scroll into view), with what crossed the wire while it ran.
            focus = monitor._focus  # what the screen said it shows: the input, not the decision
            window = set(focus.window) | ({focus.selected} if focus.selected else set())
            final_before = {k for k, e in monitor._counts.items() if e.final}
            had_counts = set(monitor._counts)
            mark, bytes_before = len(sim.requests), Counter(transport.bytes)
            wire_before = client.stats.bytes_received
            snap = await real_tick(kind)  # type: ignore[arg-type]
            if not recording:
                return snap
            served = sim.requests[mark:]
            by_id = {j.id: j for j in monitor.jobs}

            def can_change(k: str) -> bool:
                # Not completed, or completed since its counts were last read (one last read).
                job = by_id.get(k)
                return job is not None and (job.state != "completed" or k not in final_before)

            if snap.listed:
                kind_name, expected = "list tick", 1 + sum(can_change(k) for k in window)
            else:
                wanted = {k for k in window if k not in had_counts}
                if kind == "timer" and focus.selected:
                    wanted.add(focus.selected)
                kind_name = "counts-only tick" if kind == "timer" else f"{kind} tick"
                expected = sum(can_change(k) for k in wanted)
            records.append(
                {
                    "kind": kind_name,
                    "requests": len(served),
                    "calls": Counter(call_of(r.path) for r in served),
                    "bytes": transport.bytes - bytes_before,
                    "wire_bytes": client.stats.bytes_received - wire_before,
                    "expected": expected,
                    "window": len(window),
                    "changeable": sum(can_change(k) for k in window),
                    "snap_requests": snap.requests,
                    "selected_read": any(r.path == f"/jobs/{focus.selected}/taskcounts" for r in served),
                }
            )
            return snap

        monitor.tick = recorded_tick  # type: ignore[method-assign]
        await pilot.pause(0.2)
        if running:
            # Select the job on screen with tasks running and the most work still queued, as an
            # operator watching a run would (so it is still running when the ticks are counted).
            busy = []
            for key in table_.visible_keys[:20]:
                entry = screen.snapshot.counts.get(key)
                if entry and entry.result and entry.result.task_counts.running:
                    busy.append((entry.result.task_counts.active, key))
            if busy:
                table_.select_key(max(busy)[1])
            await pilot.pause(0.1)
        selected = table_.selected_key
        # Warm-up: the first ticks fill in the counts of rows that had none.
        for _ in range(3):
            await tick(screen, pilot)
        recording = True
        for _ in range(cycles):
            await tick(screen, pilot)
        await pilot.pause(0.2)
        recording = False
        last_selected = table_.selected_key
    reads = sum(1 for t in records if t["selected_read"])
    return {"ticks": records, "selected": selected, "last_selected": last_selected, "selected_reads": reads}


async def tick(screen: Any, pilot: Any) -> Any:
    before = screen.fetches
    screen.refresh_now("timer")
    await wait_until(lambda: screen.fetches > before, within=60, step=0.005)
    await pilot.pause(0.05)  # let the JobsUpdated message land
    return screen.snapshot


def summarize(name: str, result: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    ticks = result["ticks"]
    kinds = sorted({t["kind"] for t in ticks}, key=lambda k: (k != "list tick", k))
    for kind in kinds:
        group = [t for t in ticks if t["kind"] == kind]
        if not group:
            continue
        med = statistics.median
        names = ("job list", "task counts", "other")
        calls = {c: med([t["calls"].get(c, 0) for t in group]) for c in names}
        kb = {c: med([t["bytes"].get(c, 0) for t in group]) / 1024 for c in names}
        over = sum(1 for t in group if t["requests"] > t["expected"])
        rows.append(
            [
                name,
                kind,
                len(group),
                med([t["requests"] for t in group]),
                f"{calls['job list']:g} / {calls['task counts']:g} / {calls['other']:g}",
                f"{kb['job list']:.1f} / {kb['task counts']:.1f} / {kb['other']:.1f}",
                med([t["wire_bytes"] for t in group]) / 1024,
                med([t["expected"] for t in group]),
                f"{med([t['window'] for t in group]):g} / {med([t['changeable'] for t in group]):g}",
                "ok" if over == 0 else f"OVER in {over}",
            ]
        )
    n = len(ticks)
    over = sum(1 for t in ticks if t["requests"] > t["expected"])
    rows.append(
        [
            name,
            "all ticks: mean",
            n,
            sum(t["requests"] for t in ticks) / n,
            "",
            "",
            sum(t["wire_bytes"] for t in ticks) / n / 1024,
            sum(t["expected"] for t in ticks) / n,
            "",
            "ok" if over == 0 else f"OVER in {over}",
        ]
    )
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=30)
    args = ap.parse_args()
    rows: list[list[object]] = []
    rest = asyncio.run(run_case(args.jobs, 0.0, args.cycles, running=False))
    rows += summarize("at rest", rest)
    moving = asyncio.run(run_case(args.jobs, 60.0, args.cycles, running=True))
    rows += summarize("selected job running", moving)
    print(
        table(
            f"Benchmark 2: requests and bytes per refresh cycle, {args.jobs:,} jobs, 120x40, list every 3rd tick "
            f"(medians over {args.cycles} ticks per case)",
            [
                "case",
                "tick",
                "n",
                "requests",
                "list / counts / other",
                "KiB list / counts / other",
                "KiB on wire",
                "goal (requests)",
                "window / can change",
                "verdict",
            ],
            rows,
        )
    )
    for name, result in (("at rest", rest), ("selected job running", moving)):
        ticks = result["ticks"]
        per_tick = sum(t["requests"] for t in ticks) / len(ticks)
        kib = sum(t["wire_bytes"] for t in ticks) / len(ticks) / 1024
        print(
            f"{name}: at the default 5 s refresh that is {per_tick * 12:.0f} requests and "
            f"{kib * 12:,.0f} KiB per minute"
        )
    print(
        f"\nselected job: at rest {rest['selected']}; running {moving['selected']} "
        f"(still selected at the end: {moving['last_selected'] == moving['selected']}; "
        f"counts read on {moving['selected_reads']} of {len(moving['ticks'])} ticks)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
