"""KeyedTable: a table refreshed forever holds about a screen's worth of rendered lines.

DataTable keys its line, row and cell render caches on a counter that goes up with every
changed cell, and sizes them for any table (10,000 cells, 1,000 rows and lines). With a moving
clock every refresh changes cells (ages, runtimes), so what one frame rendered can never be
used again once the next refresh lands, yet it stayed until the caches were full: ~8 MB of
resident memory grown over the first few hundred refreshes of a 1,000-job dashboard
(bench/memory.py). These tests hold the table to what it shows.
"""

from __future__ import annotations

from rich.text import Text
from ui_support import TableApp

from batchtui.ui.widgets.keyed_table import KeyedTable, Row

COLUMNS = (("id", "Id"), ("state", "State"), ("age", "Age"))
HEIGHT = 20  # terminal rows; the table shows the header and HEIGHT - 1 rows at most


def rows(tick: int, n: int = 200) -> list[Row]:
    # Every row's age moves each tick, as on a dashboard with a running clock.
    return [
        Row(f"k{i:03}", (f"k{i:03}", Text("running"), f"{tick + i}s"), {"id": f"k{i:03}"}) for i in range(n)
    ]


def cached(t: KeyedTable) -> dict[str, int]:
    return {
        "lines": len(t._line_cache),
        "rows": len(t._row_render_cache),
        "row renderables": len(t._row_renderable_cache),
        "cells": len(t._cell_render_cache),
    }


async def test_render_caches_hold_about_a_screen_after_many_refreshes() -> None:
    app = TableApp(COLUMNS, sorts=("id",), quiet=("age",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        for tick in range(40):
            t.apply_rows(rows(tick))
            await pilot.pause()  # let each refresh paint, as the dashboard does between ticks
        # What is on screen is right: the last refresh's ages.
        assert t.get_row("k000")[2].plain == "39s"
        assert t._line_cache, "the table painted"
        # Lines and rows of one screen (plus the header), cells of those rows; a little slack
        # for a frame rendered while the cursor moved. Before the fix: 40 refreshes' worth.
        screen_lines = HEIGHT
        size = cached(t)
        assert size["lines"] <= 2 * screen_lines, size
        assert size["rows"] <= 2 * screen_lines, size
        assert size["row renderables"] <= 2 * screen_lines, size
        assert size["cells"] <= 2 * screen_lines * len(COLUMNS), size


async def test_cursor_walk_without_refresh_keeps_caches_bounded() -> None:
    # Within one refresh the cursor position is part of the line and row cache keys: walking
    # the cursor over the table must not grow them to their 1,000-entry default either.
    app = TableApp(COLUMNS, sorts=("id",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows(rows(0))
        t.focus()
        await pilot.pause()
        for _ in range(30):  # each move re-keys every line on screen: 600 entries before the fix
            await pilot.press("down")
        await pilot.pause()
        assert t.selected_key == "k030"
        size = cached(t)
        assert size["lines"] <= 4 * HEIGHT, size
        assert size["rows"] <= 4 * HEIGHT, size
        assert size["cells"] <= 4 * HEIGHT * (len(COLUMNS) + 1), size


async def test_frames_between_refreshes_are_still_served_from_the_cache() -> None:
    # Dropping stale renders must not turn off caching: a repaint with nothing changed renders
    # no cell again.
    app = TableApp(COLUMNS, sorts=("id",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows(rows(0))
        await pilot.pause()
        misses = t._cell_render_cache.misses
        line_misses = t._line_cache.misses
        t.refresh()
        await pilot.pause()
        assert t._line_cache.hits > 0
        assert t._line_cache.misses == line_misses
        assert t._cell_render_cache.misses == misses
