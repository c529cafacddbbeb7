"""What scrolling a 100,000-line log costs in the log view (issue 11): time per frame.

    python bench/log_view.py [--frames 200] [--lines 100000]

The real LogView (batchtui/ui/widgets/log_view.py) in a headless Textual app of 120x40 with
the dashboard's theme. A frame is what Textual asks of the widget when it repaints: its
``render_lines`` of the whole screenful (37 rows x 118 cells here), after a scroll, so every
row on screen is rendered through ``render_line`` (from the Strip cache where it has one).
Wall and this thread's CPU time per frame, median / 95th percentile / worst.

Three logs of 100,000 lines each, all from the simulator:
  trace   the solver's wd\\solver.trace, read by a LogTail (its tail, then earlier parts by
          range up to the poller's 100,000-line cap); ~85 characters a line, no colours
  colour  ETL logs (an SGR colour on every line's level), repeated to 100,000 lines
  long    Blender render logs (~150-character lines: two rows each when wrapped), repeated

Scenarios: at the bottom while following (each frame: a poll's new lines applied, then the
frame; with the trace growing on the simulator's clock, at the cap so the oldest lines go),
scrolled a page a frame (every row new), a line a frame (one new row), back over pages
already drawn, jumps to random places (the scrollbar dragged), each with wrap off and on,
and with a search highlighted. Then one-off costs: taking a whole 100,000-line snapshot,
wrapping and unwrapping it, searching it; and what the view holds beyond the lines.

Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.geometry import Region  # noqa: E402

from batchtui.batch.auth import SharedKeyAuth  # noqa: E402
from batchtui.batch.client import BatchClient, RetryPolicy  # noqa: E402
from batchtui.batch.files import TaskFileRef  # noqa: E402
from batchtui.logtext import Line, LineDecoder  # noqa: E402
from batchtui.refresh.logs import LogSnapshot, LogTail  # noqa: E402
from batchtui.sim import SimConfig, Simulator  # noqa: E402
from batchtui.ui.themes import DEFAULT_THEME, load_themes, variable_defaults  # noqa: E402
from batchtui.ui.widgets.log_view import LogView  # noqa: E402

SIZE = (120, 40)
TRACE = TaskFileRef("mpi-cfd-0001", "solver-00", "wd\\solver.trace")


class ViewApp(App[None]):
    """One LogView filling a 120x40 screen, in the dashboard's theme."""

    def __init__(self) -> None:
        super().__init__()
        themes, _ = load_themes()
        for theme in themes.values():
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield LogView()


def client_of(sim: Simulator) -> BatchClient:
    return BatchClient(
        "http://127.0.0.1:8765",
        SharedKeyAuth(sim.config.account, sim.config.key),
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=1),
    )


def whole(lines: tuple[Line, ...], version: int = 1) -> LogSnapshot:
    return LogSnapshot(
        file=TRACE,
        size=None,
        last_modified=None,
        following=True,
        live=True,
        start=0,
        end=0,
        lines=lines,
        partial=(),
        appended=0,
        prepended=0,
        dropped_top=0,
        dropped_bottom=0,
        reset=True,
        binary=False,
        error=None,
        reason=None,
        version=version,
    )


async def repeated(client: BatchClient, refs: list[TaskFileRef], n: int) -> tuple[Line, ...]:
    """``n`` lines of the files' bytes, repeated, decoded as the tail decodes them."""
    raw = b""
    for ref in refs:
        size = (await client.get_file_properties(ref)).content_length
        if size:
            raw += (await client.read_file_range(ref, 0, size)).data
    decoder = LineDecoder()
    lines: list[Line] = []
    while len(lines) < n:
        lines.extend(decoder.feed(raw))
    return tuple(lines[:n])


async def trace_tail(client: BatchClient, n: int) -> tuple[LogTail, LogSnapshot]:
    tail = LogTail(client, TRACE, task_state="running", earlier_bytes=4 * 1024 * 1024, max_lines=n)
    snap = await tail.poll("open")
    while len(snap.lines) < n and not snap.at_top:
        tail.load_earlier()
        snap = await tail.poll("earlier")
    tail.follow(True)
    # Reading up to the cap dropped the newest lines: catch up with the end before measuring.
    while snap.end < (snap.size or 0) or snap.appended > 100:
        snap = await tail.poll("timer")
    return tail, snap


def stats(wall: list[float], cpu: list[float]) -> list[object]:
    def q(values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    return [
        round(statistics.median(wall) * 1000, 2),
        round(q(wall, 0.95), 2),
        round(max(wall) * 1000, 2),
        round(statistics.median(cpu) * 1000, 2),
    ]


def frames(view: LogView, moves: list[Callable[[], object]]) -> tuple[list[float], list[float]]:
    region = Region(0, 0, *view.size)
    wall: list[float] = []
    cpu: list[float] = []
    for move in moves:
        move()
        view.refresh()
        w0, c0 = time.perf_counter(), time.thread_time()
        view.render_lines(region)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.thread_time() - c0)
    return wall, cpu


def to(view: LogView, y: int) -> Callable[[], object]:
    return lambda: view.scroll_to(y=y, animate=False, immediate=True)


def scroll_moves(view: LogView, kind: str, n: int, rng: random.Random) -> list[Callable[[], object]]:
    height = view.scrollable_content_region.height
    middle = view.max_scroll_y // 2
    if kind == "page":
        return [to(view, middle + k * height) for k in range(n)]
    if kind == "line":
        return [to(view, middle + k) for k in range(n)]
    if kind == "back":
        pages = min(n, 40)  # 40 pages x 37 rows: within the Strip cache (2,000)
        ys = [middle + k * height for k in range(pages)]
        return [to(view, y) for y in (ys + ys[::-1] * (n // pages + 1))[pages : pages + n]]
    return [to(view, rng.randrange(0, max(1, view.max_scroll_y))) for _ in range(n)]


async def run(frames_n: int, lines_n: int) -> None:
    rng = random.Random(7)
    sim = Simulator(SimConfig(seed=7, jobs=20, time_scale=0))
    client = client_of(sim)
    tail, last = await trace_tail(client, lines_n)
    trace = last.lines
    etl = [TaskFileRef("etl-nightly-0003", f"shard-{k:04d}", "stdout.txt") for k in range(20)]
    colour = await repeated(client, etl, lines_n)
    render = [TaskFileRef("render-shot-0018", f"frame-{k:04d}", "stdout.txt") for k in range(10)]
    long = await repeated(client, render, lines_n)
    logs = {"trace": trace, "colour": colour, "long": long}
    widths = {name: statistics.mean(len(line.text) for line in lines) for name, lines in logs.items()}
    styled = {name: sum(1 for line in lines if line.styles) for name, lines in logs.items()}

    app = ViewApp()
    rows: list[list[object]] = []
    once: list[list[object]] = []
    memory: list[list[object]] = []
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(LogView)
        await pilot.pause()
        print(
            f"view: {view.size.width}x{view.size.height}, text {view.scrollable_content_region.width} cells"
        )

        # ---- following at the bottom: the real tail, the trace growing on the sim's clock
        for wrap in (False, True):
            view.wrap = wrap
            view.clear()
            view.show(replace(last, reset=True))
            await pilot.pause()
            region = Region(0, 0, *view.size)
            wall: list[float] = []
            cpu: list[float] = []
            apply: list[float] = []
            added = 0
            for _ in range(frames_n):
                sim.clock.advance(0.01)  # ~30 lines of trace
                snap = last = await tail.poll("timer")
                added += snap.appended
                a0 = time.perf_counter()
                view.show(snap)
                apply.append(time.perf_counter() - a0)
                w0, c0 = time.perf_counter(), time.thread_time()
                view.render_lines(region)
                wall.append(time.perf_counter() - w0)
                cpu.append(time.thread_time() - c0)
            assert view.following and view.scroll_y == view.max_scroll_y
            rows.append(
                [
                    "trace",
                    "bottom, following",
                    "on" if wrap else "off",
                    "",
                    *stats(wall, cpu),
                    f"{added / frames_n:.0f} lines/frame; apply {statistics.median(apply) * 1000:.2f} ms",
                ]
            )

        # ---- scrolling
        for name, lines in logs.items():
            for wrap in (False, True):
                for term in ("", "rank=1" if name == "trace" else "ERROR" if name == "colour" else "Fra:2"):
                    if term and wrap:
                        continue
                    view.clear()
                    view.wrap = wrap
                    view.show(whole(lines))
                    view.search(term)
                    await pilot.pause()
                    view.following = False
                    for kind in ("page", "line", "back", "jump"):
                        wall, cpu = frames(view, scroll_moves(view, kind, frames_n, rng))
                        rows.append(
                            [
                                name,
                                {"page": "a page a frame", "line": "a line a frame"}.get(
                                    kind, "back over pages drawn" if kind == "back" else "random jumps"
                                ),
                                "on" if wrap else "off",
                                f'"{term}"' if term else "",
                                *stats(wall, cpu),
                                f"{view.rows.row_count:,} rows",
                            ]
                        )

        # ---- one-off costs on 100,000 lines
        for name, lines in logs.items():
            view.clear()
            view.wrap = False
            t0 = time.perf_counter()
            view.show(whole(lines))
            take = time.perf_counter() - t0
            t0 = time.perf_counter()
            view.wrap = True
            wrap_on = time.perf_counter() - t0
            t0 = time.perf_counter()
            view.wrap = False
            wrap_off = time.perf_counter() - t0
            t0 = time.perf_counter()
            found = view.search("e")
            search = time.perf_counter() - t0
            view.search("")
            once.append(
                [name, f"{len(lines):,}", f"{widths[name]:.0f}", f"{styled[name]:,}"]
                + [round(x * 1000, 1) for x in (take, wrap_on, wrap_off, search)]
                + [f"{found:,}"]
            )

        # ---- what the view holds besides the lines (which the tail holds, capped)
        for name, lines in logs.items():
            view.clear()
            view.wrap = False
            tracemalloc.start()
            view.show(whole(lines))
            view.wrap = True
            height = view.scrollable_content_region.height
            for k in range(60):  # fill the Strip cache: 60 pages drawn
                view.scroll_to(y=k * height, animate=False, immediate=True)
                view.refresh()
                view.render_lines(Region(0, 0, *view.size))
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            memory.append([name, f"{len(lines):,}", round(held / 1e6, 1), f"{view.cached_strips:,}"])
    await client.aclose()

    head = ["log", "scenario", "wrap", "search", "median ms", "p95 ms", "max ms", "CPU ms", "note"]
    print(table("1. Time per frame (render_lines of the screenful), 120x40", head, rows))
    print()
    head = [
        "log",
        "lines",
        "chars/line",
        "coloured",
        "take ms",
        "wrap on ms",
        "wrap off ms",
        "search ms",
        "hits",
    ]
    print(table("2. One-off costs on the whole log", head, once))
    print()
    head = ["log", "lines", "view MB", "strips cached"]
    print(table("3. What the view holds besides the lines (rows index, search, Strip cache)", head, memory))


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    cells = [[str(h) for h in header], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = [title, "| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells[1:]]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--lines", type=int, default=100_000)
    args = ap.parse_args()
    asyncio.run(run(args.frames, args.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
