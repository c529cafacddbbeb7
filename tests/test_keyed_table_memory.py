"""KeyedTable: a table refreshed forever holds about a screen's worth of rendered lines.

The table caches each rendered line under its row's revision. With a moving clock every
refresh changes cells (ages, runtimes), so the lines of old revisions can never be used again;
the cache must drop them rather than grow with the number of refreshes (DataTable's caches
held 1,000 lines and 10,000 cells of them: ~8 MB of resident memory over the first few hundred
refreshes of a 1,000-job dashboard, bench/memory.py). These tests hold the table to what it shows.
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


async def test_line_cache_holds_about_a_screen_after_many_refreshes() -> None:
    app = TableApp(COLUMNS, sorts=("id",), quiet=("age",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        for tick in range(40):
            t.apply_rows(rows(tick))
            await pilot.pause()  # let each refresh paint, as the dashboard does between ticks
        # What is on screen is right: the last refresh's ages.
        assert t.get_row("k000")[2].plain == "39s"
        assert t.render_line(1).text.split() == ["k000", "running", "39s"]
        assert t.lines_cached, "the table painted"
        # Lines of one screen (plus the header), and a little slack: never 40 refreshes' worth.
        assert t.lines_cached <= 2 * HEIGHT
        assert t.lines_rendered >= 40 * (HEIGHT - 1)  # every refresh did redraw what it changed


async def test_cursor_walk_without_refresh_keeps_the_cache_bounded() -> None:
    # The cursor is part of a line's cache key: walking it over the table re-keys two lines
    # a step, which must not grow the cache past a couple of screens either.
    app = TableApp(COLUMNS, sorts=("id",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows(rows(0))
        t.focus()
        await pilot.pause()
        for _ in range(60):  # scrolls two screens on
            await pilot.press("down")
        await pilot.pause()
        assert t.selected_key == "k060"
        assert t.lines_cached <= 2 * HEIGHT


async def test_frames_between_refreshes_are_served_from_the_cache() -> None:
    # Dropping stale lines must not turn off caching: a repaint with nothing changed renders
    # no line again, and a cursor step renders the two lines it touched.
    app = TableApp(COLUMNS, sorts=("id",))
    async with app.run_test(size=(60, HEIGHT)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows(rows(0))
        t.focus()
        await pilot.pause()
        rendered = t.lines_rendered
        t.refresh()
        await pilot.pause()
        assert t.lines_rendered == rendered
        await pilot.press("down")
        await pilot.pause()
        assert t.lines_rendered == rendered + 2
