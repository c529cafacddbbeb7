"""What the dashboard benchmarks share: run the real app headless, wait on it, measure it."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from simctl import rss_kb


def compile_package() -> None:
    """Byte-compile batchtui, as ``pip install`` does for an operator's install.

    Benchmarks that spawn batchtui time what an installed copy costs. From an editable
    checkout on a machine that sets PYTHONDONTWRITEBYTECODE (this one does), every start would
    otherwise recompile each batchtui module from source, ~30 ms that no installed copy pays,
    while the SDK it is compared with comes byte-compiled from site-packages.
    """
    import compileall
    from pathlib import Path

    import batchtui

    compileall.compile_dir(str(Path(batchtui.__file__).parent), quiet=1)


def rss_mb() -> float:
    return rss_kb() / 1024.0


def cpu_seconds() -> float:
    """CPU (user + system) this process has used, all threads."""
    t = os.times()
    return t.user + t.system


def timer_count(app: Any) -> int:
    """Live Textual timers: those registered on the app and on every node it knows."""
    nodes = [app, *list(app._registry)]
    return sum(len(getattr(n, "_timers", ())) for n in nodes)


def widget_count(app: Any) -> int:
    return len(app._registry)


def task_count() -> int:
    return len(asyncio.all_tasks())


def settle_gc() -> None:
    gc.collect()


def sim_clock(time_scale: float) -> Callable[[], datetime]:
    """The simulator's clock as seen from another process (same start, warm-up and scale).

    The child starts its clock a moment before it says it listens, so this lags by that
    moment times the scale: ages on screen may be a few sim seconds off, which no benchmark reads.
    """
    from batchtui.sim import SimClock, SimConfig

    cfg = SimConfig()
    return SimClock(cfg.start, cfg.warmup, time_scale).now


async def wait_until(condition: Callable[[], object], *, within: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return bool(condition())


def jobs_screen(app: Any) -> Any:
    from batchtui.ui.screens.jobs import JobsScreen

    for screen in app.screen_stack:
        if isinstance(screen, JobsScreen):
            return screen
    return None


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, right-aligned numbers, for stdout and for bench/README.md."""
    cells = [[str(h) for h in header], *[[_fmt(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = [
        title,
        "| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in cells[1:]:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(out)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
