"""Could textual-fastdatatable replace KeyedTable? One keyed refresh of a 5,000-row table, timed.

Issue 10 offered it as the alternative to a widget of our own. It has no row keys (rows are
indexes into its Arrow backend), so the caller keeps key -> index and turns a refresh into
``update_cell`` calls; its cells are Arrow values, not Rich Text (state colours would have
to become markup strings, and service text escaped for them). This probe measures the part
that would be left to it: a 5,000 x 11 table of strings, headless at 120x40; each run
updates 4 cells of 49 rows (the 1% of jobs whose counts moved, as bench/apply_cost.py does)
and renders one screen of lines. Not a project dependency (it brings pyarrow); to run:

    pip install textual-fastdatatable && python bench/fastdatatable_probe.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

ROWS, COLUMNS, CHANGED, CELLS = 5000, 11, 49, 4


def records(tick: int) -> list[list[str]]:
    return [
        [f"job-{i:05}", f"Display name {i}", "active", "pool-a", "100", "5m12s"]
        + [str((i + tick) % 97) if i % (ROWS // CHANGED) == 0 else str(i % 97) for _ in range(CELLS)]
        + ["████████"]
        for i in range(ROWS)
    ]


async def probe(runs: int) -> list[list[Any]]:
    from textual.app import App, ComposeResult
    from textual.geometry import Region
    from textual_fastdatatable import ArrowBackend, DataTable

    labels = ["Job", "Display name", "State", "Pool", "Prio", "Age", "Act", "Run", "OK", "Fail", "Progress"]

    class Probe(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(backend=ArrowBackend.from_records([labels, *records(0)], has_header=True))

    app = Probe()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DataTable)
        await pilot.pause(0.5)
        changed = [i for i in range(ROWS) if i % (ROWS // CHANGED) == 0][:CHANGED]
        applies, paints = [], []
        for run in range(1, runs + 1):
            t0 = time.perf_counter()
            for row in changed:
                for col in range(6, 6 + CELLS):
                    table.update_cell(row, col, str((row + run) % 97))
            t1 = time.perf_counter()
            table.render_lines(Region(0, 0, table.size.width, table.size.height))
            t2 = time.perf_counter()
            applies.append((t1 - t0) * 1000)
            paints.append((t2 - t1) * 1000)
            await pilot.pause()
        return [
            [
                f"fastdatatable 0.19: {ROWS:,} rows, {CHANGED} x {CELLS} cells updated",
                statistics.median(applies),
                statistics.median(paints),
                statistics.median([a + p for a, p in zip(applies, paints, strict=True)]),
            ]
        ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    try:
        import textual_fastdatatable  # noqa: F401
    except ImportError:
        print("textual-fastdatatable is not installed: pip install textual-fastdatatable", file=sys.stderr)
        return 2
    # Runs in an environment of its own (it needs pyarrow, not batchtui): plain output.
    for label, apply, paint, total in asyncio.run(probe(args.runs)):
        print(
            f"{label}: apply {apply:.2f} ms, paint {paint:.2f} ms, total {total:.2f} ms (median of {args.runs})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
