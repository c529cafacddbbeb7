"""Soak (issue 6): the dashboard for thousands of refresh cycles through faults; memory must stay flat.

The dashboard runs headless in this process (the real BatchApp via ``App.run_test``) with a
0.2 s refresh, against the simulator in another process (bench/simctl.py) on loopback with
20 ms latency and a fast clock (60 sim seconds per second: jobs start, finish, are submitted
and cleaned up). Every 2,000 cycles, from cycle 1,000 on, one fault episode is switched on for
a while of wall time and then off again: throttling, server errors, a 503 outage, a refused-
connection outage, a mix. At cycle 0 and every ``--every`` cycles it prints this process's
RSS, asyncio tasks, Textual timers, widgets and Python objects (after a gc), requests and what
the status line says. Goal: flat (RSS end - start < 5 MB; tasks, timers, widgets unchanged).

Beside the jobs screen (and the counts history its monitor records into, per account), the
pollers the later issues added run on the same engine the whole time (issue 14's last
paragraph): a log tail following a running task's stdout (moved to another running task every
``--tail-every`` cycles, so tails are opened and closed along the way), the pools list, and
one pool's nodes. ``--no-extras`` runs the jobs screen alone, as the soak did before.

    python bench/soak.py [--cycles 10000] [--hours H] [--refresh 0.2] [--jobs 200] [--every 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import jobs_screen, rss_mb, settle_gc, sim_clock, table, task_count, timer_count, widget_count  # noqa: E402,I001
from simctl import make_client, sim_process  # noqa: E402

# (name, simctl command, wall seconds it stays on); episode i starts at cycle 1000 + 2000*i
EPISODES: tuple[tuple[str, str, float], ...] = (
    ("throttle 50%", "faults throttle_rate=0.5", 60.0),
    ("errors 30%", "faults error_rate=0.3", 60.0),
    ("outage 503", "outage 45 503", 45.0),
    ("outage refused", "outage 45 refuse", 45.0),
    ("throttle 30% + errors 10%", "faults throttle_rate=0.3 error_rate=0.1", 60.0),
)


class Extras:
    """The pollers beside the jobs screen: a followed log tail, the pools, one pool's nodes."""

    def __init__(self, app: Any, client: Any, now: Any) -> None:
        self.app, self.client, self.now = app, client, now
        self.handles: list[Any] = []
        self.tail: Any = None
        self.tail_handle: Any = None
        self.tails_opened = 0
        self.polls_done = 0  # polls of the handles already closed
        self.failed = 0  # errors the extra pollers were told of

    def _open(self, poller: Any) -> Any:
        return self.app.engine.open(poller, lambda _snap: None, self._failed)

    def _failed(self, _error: BaseException, _at: object) -> None:
        self.failed += 1

    async def start(self, screen: Any) -> None:
        from batchtui.refresh.pools import NodesPoller, PoolsPoller

        self.handles.append(self._open(PoolsPoller(self.client, self.now)))
        pools = await self.client.list_pools(select=["id"])
        if pools and pools[0].id:
            self.handles.append(self._open(NodesPoller(self.client, pools[0].id, self.now)))
        await self.move_tail(screen)

    async def move_tail(self, screen: Any) -> bool:
        """Follow the stdout of a task running now (the last tail is closed); False: none found.

        The job is one the jobs screen's counts say has tasks running (no request to find it)."""
        from batchtui.batch.errors import BatchClientError
        from batchtui.batch.files import TaskFileRef
        from batchtui.refresh.logs import LogTail

        snap = screen.snapshot
        counts = snap.counts if snap is not None else {}
        # The counts read last first: a quiet job's were read long ago and its tasks may be done.
        fresh = sorted(counts.items(), key=lambda kv: kv[1].fetched_at, reverse=True)
        running = [k for k, e in fresh if e.result is not None and e.result.task_counts.running > 0]
        try:
            for job_id in running[:10]:
                tasks = await self.client.list_tasks(
                    job_id, filter="state eq 'running'", select=["id"], limit=1
                )
                if tasks and tasks[0].id:
                    break
            else:
                return False
        except BatchClientError:
            return False  # a fault episode: keep the tail there is
        if self.tail_handle is not None:
            self.polls_done += self.tail_handle.polls
            self.tail_handle.close()
        self.tail = LogTail(self.client, TaskFileRef(job_id, tasks[0].id, "stdout.txt"), task_state="running")
        self.tail_handle = self._open(self.tail)
        self.tails_opened += 1
        return True

    @property
    def polls(self) -> int:
        live = [*self.handles, *([self.tail_handle] if self.tail_handle is not None else [])]
        return self.polls_done + sum(h.polls for h in live)

    def close(self) -> None:
        for handle in [*self.handles, self.tail_handle]:
            if handle is not None:
                handle.close()


def history_samples(app: Any) -> int:
    """Samples the account's counts history holds (each job's bounded: 60 + 144)."""
    return sum(len(h.samples) for h in app.account.history.jobs.values())


def _status_text(app: Any) -> str:
    screen = jobs_screen(app)
    if screen is None:
        return "(no jobs screen)"
    try:
        text = screen.status.plain
    except Exception as exc:  # noqa: BLE001 - a probe must not end the soak
        return f"({type(exc).__name__})"
    return " ".join(text.split())[:70]


async def soak(args: argparse.Namespace) -> int:
    from batchtui.ui.app import make_app

    rows: list[list[object]] = []
    with sim_process(jobs=args.jobs, time_scale=args.time_scale, latency_ms=args.latency_ms) as sim:
        client = make_client(sim.url, sim.account, sim.key)
        app = make_app(client, refresh=args.refresh, now=sim_clock(args.time_scale))
        started = time.monotonic()
        extras = Extras(app, client, app.now) if args.extras else None
        episode_end: float | None = None
        phase = "clean"

        async with app.run_test(size=(120, 40)) as pilot:
            screen = None
            for _ in range(3000):
                screen = jobs_screen(app)
                if screen is not None and screen.fetches >= 1:
                    break
                await pilot.pause(0.02)
            if screen is None:
                print("soak: the jobs screen never appeared", file=sys.stderr)
                return 1
            if extras is not None:
                await extras.start(screen)
            next_tail = args.tail_every

            def measure(note: str) -> None:
                settle_gc()
                sim_stats = dict(w.split("=", 1) for w in sim.send("stats").split()[1:])
                rows.append(
                    [
                        screen.fetches,
                        round(time.monotonic() - started),
                        note,
                        round(rss_mb(), 1),
                        task_count(),
                        timer_count(app),
                        widget_count(app),
                        len(gc.get_objects()),
                        client.stats.requests,
                        int(sim_stats["requests"]),
                        client.stats.errors,
                        *(
                            [
                                extras.polls,
                                extras.tails_opened,
                                history_samples(app),
                                app.engine.throttle.probes,
                            ]
                            if extras is not None
                            else []
                        ),
                        _status_text(app),
                    ]
                )
                print(" | ".join(str(c) for c in rows[-1]), flush=True)

            measure("start")
            next_mark = args.every
            next_episode = 0
            last_progress = (screen.fetches, time.monotonic())
            # The world's clock runs time_scale times faster than the wall's: --hours of it.
            until = started + args.hours * 3600.0 / args.time_scale if args.hours else None
            while screen.fetches < args.cycles and (until is None or time.monotonic() < until):
                await asyncio.sleep(0.1)
                now = time.monotonic()
                if episode_end is not None and now >= episode_end:
                    sim.send("clear")
                    episode_end = None
                    phase = "clean"
                if (
                    episode_end is None
                    and next_episode < len(EPISODES)
                    and screen.fetches >= args.first_episode + next_episode * args.episode_gap
                ):
                    name, command, seconds = EPISODES[next_episode]
                    sim.send(command)
                    episode_end = now + seconds * args.episode_scale
                    phase = name
                    print(
                        f"# cycle {screen.fetches}: {name} on for {seconds * args.episode_scale:g}s",
                        flush=True,
                    )
                    next_episode += 1
                if extras is not None and screen.fetches >= next_tail:
                    await extras.move_tail(screen)
                    next_tail += args.tail_every
                if screen.fetches >= next_mark:
                    measure(phase)
                    next_mark += args.every
                if screen.fetches != last_progress[0]:
                    last_progress = (screen.fetches, now)
                elif now - last_progress[1] > 180:
                    print(f"soak: no refresh for 180 s at cycle {screen.fetches}", file=sys.stderr)
                    measure("STALLED")
                    break
                if not app.is_running:  # the app died
                    print("soak: the app stopped", file=sys.stderr)
                    break
            if episode_end is not None:
                sim.send("clear")
            measure("end")
            if extras is not None:
                extras.close()

    first, last = rows[0], rows[-1]
    # The baseline is the first mark after warm-up (first full list, caches, the highlight timer).
    base = rows[1] if len(rows) > 2 else first
    header = [
        "cycle",
        "s",
        "phase",
        "RSS MB",
        "tasks",
        "timers",
        "widgets",
        "py objects",
        "requests",
        "served",
        "errors",
        *(["extra polls", "tails", "history samples", "probes"] if extras is not None else []),
        "status line",
    ]
    print()
    print(
        table(
            f"Soak: {args.jobs} jobs, refresh {args.refresh:g} s, time scale {args.time_scale:g}, "
            f"latency {args.latency_ms:g} ms"
            + (", with a log tail, the pools and a pool's nodes" if extras is not None else ""),
            header,
            rows,
        )
    )
    growth = float(last[3]) - float(first[3])
    steady = float(last[3]) - float(base[3])

    def flat(i: int) -> str:
        return "ok" if int(last[i]) <= int(base[i]) else "GREW"

    print()
    print(
        table(
            "Soak verdict",
            ["figure", "goal", "measured", "verdict"],
            [
                [
                    "cycles",
                    f">= {args.cycles:,}",
                    f"{last[0]:,}",
                    "ok" if int(last[0]) >= args.cycles else "SHORT",
                ]
                if not args.hours
                else [
                    "simulated hours",
                    f">= {args.hours:g}",
                    f"{float(last[1]) * args.time_scale / 3600:.1f} ({last[0]:,} cycles)",
                    "ok" if float(last[1]) * args.time_scale / 3600 >= args.hours * 0.999 else "SHORT",
                ],
                [
                    f"RSS growth cycle {base[0]} -> end",
                    "< 5 MB",
                    f"{steady:+.1f} MB",
                    "ok" if steady < 5 else "MISSED",
                ],
                ["RSS growth cycle 1 -> end (incl. warm-up)", "(info)", f"{growth:+.1f} MB", ""],
                [f"asyncio tasks cycle {base[0]} -> end", "flat", f"{base[4]} -> {last[4]}", flat(4)],
                [f"timers cycle {base[0]} -> end", "flat", f"{base[5]} -> {last[5]}", flat(5)],
                [f"widgets cycle {base[0]} -> end", "flat", f"{base[6]} -> {last[6]}", flat(6)],
                [f"python objects cycle {base[0]} -> end", "(info)", f"{base[7]:,} -> {last[7]:,}", ""],
            ],
        )
    )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=10_000)
    ap.add_argument("--refresh", type=float, default=0.2)
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--time-scale", type=float, default=60.0)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--every", type=int, default=1000, help="measure every N cycles")
    ap.add_argument("--first-episode", type=int, default=1000, help="cycle of the first fault episode")
    ap.add_argument("--episode-gap", type=int, default=2000, help="cycles between fault episodes")
    ap.add_argument("--episode-scale", type=float, default=1.0, help="scale each episode's duration")
    ap.add_argument("--hours", type=float, default=None, help="end after this many simulated hours")
    ap.add_argument("--no-extras", dest="extras", action="store_false", help="the jobs screen alone")
    ap.add_argument("--tail-every", type=int, default=500, help="cycles between moves of the log tail")
    args = ap.parse_args()
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
