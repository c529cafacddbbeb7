"""KeyedTable: the keyed diff keeps the operator's place and touches only what changed."""

from __future__ import annotations

from rich.text import Text
from ui_support import TableApp

from batchtui.ui.widgets.keyed_table import KeyedTable, Row


def row(key: str, state: str = "active", n: int = 0, trouble: bool = False) -> Row:
    return Row(key, (key, state, Text(str(n))), {"id": key, "n": -n}, trouble=trouble)


def cells(t: KeyedTable) -> list[list[str]]:
    """What each shown line says, top to bottom, read from the rendered lines."""
    lines = [t.render_line(y).text for y in range(1, t.size.height)]
    return [line.split() for line in lines[: t.visible_count - int(t.scroll_y)]]


async def test_diff_updates_in_place_and_keeps_the_cursor_on_the_key() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row("b"), row("a"), row("c")])
        assert t.visible_keys == ("a", "b", "c")
        t.move_cursor(row=1)
        assert t.selected_key == "b"
        # "0" sorts before "a": the selected row moves down, the cursor follows it.
        t.apply_rows([row("b", "running", 3), row("a"), row("c"), row("0")])
        await pilot.pause()
        assert t.visible_keys == ("0", "a", "b", "c")
        assert t.selected_key == "b"
        assert cells(t)[2] == ["b", "running", "3"]
        assert t.flashed_keys == {"b", "0"}  # changed and new rows are highlighted
        # Gone rows disappear; the cursor stays on its key.
        t.apply_rows([row("b", "running", 3), row("c")])
        assert t.visible_keys == ("b", "c")
        assert t.selected_key == "b"
        # Sorting by n (descending via -n) keeps the cursor on b too.
        t.apply_rows([row("b", "running", 3), row("c", n=9)])
        t.cycle_sort()  # id reversed
        assert (t.sort_name, t.sort_reversed, t.visible_keys) == ("id", True, ("c", "b"))
        t.cycle_sort()
        assert (t.sort_name, t.sort_reversed) == ("n", False)
        assert t.visible_keys == ("c", "b")
        assert t.selected_key == "b"


async def test_an_identical_refresh_touches_no_cell() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.query_one(KeyedTable)
        rows = [row(f"k{i:03}", n=i) for i in range(200)]
        t.apply_rows(rows)
        await pilot.pause()
        revisions = {k: t.revision(k) for k in t.rows_by_key}
        rendered = t.lines_rendered
        t.apply_rows([row(f"k{i:03}", n=i) for i in range(200)])  # equal values, new objects
        await pilot.pause()
        assert {k: t.revision(k) for k in t.rows_by_key} == revisions
        assert t.lines_rendered == rendered  # nothing was drawn again


async def test_filter_and_trouble_only_narrow_the_rows_and_markup_stays_literal() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)):
        t = app.query_one(KeyedTable)
        t.apply_rows([row("[red]x[/red]"), row("job-2", trouble=True), row("job-3")])
        assert "[red]x[/red]" in [c[0] for c in cells(t)]
        t.filter_text = "JOB"
        assert t.visible_keys == ("job-2", "job-3")
        assert (t.visible_count, t.total_count) == (2, 3)
        t.trouble_only = True
        assert t.visible_keys == ("job-2",)
        t.filter_text = ""
        t.trouble_only = False
        assert t.visible_count == 3


async def test_quiet_columns_change_without_highlight() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)):
        t = app.query_one(KeyedTable)
        t.set_quiet_columns(["n"])
        t.apply_rows([row("a", n=1), row("b", n=1)])
        t.apply_rows([row("a", n=2), row("b", "running", 1)])
        assert cells(t)[0][2] == "2"  # updated...
        assert t.flashed_keys == {"b"}  # ...but only the state change is highlighted


async def test_many_rows_gone_at_once_leave_a_consistent_table() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row(f"k{i:03}", n=i) for i in range(100)])
        t.select_key("k050")
        keep = [row(f"k{i:03}", n=i) for i in range(100) if i % 3] + [row("new", n=7)]
        t.apply_rows(keep)
        await pilot.pause()
        assert t.visible_keys == tuple(sorted(r.key for r in keep))
        top = int(t.scroll_y)  # scrolled to show the cursor's row
        drawn = [c[0] for c in cells(t)]
        assert drawn == list(t.visible_keys)[top : top + len(drawn)]  # what is drawn agrees
        assert "k050" in drawn
        assert t.selected_key == "k050"
        t.select_key("k098")
        await pilot.press("down", "up")
        assert t.selected_key == "k098"


async def test_a_cell_with_a_line_break_stays_on_its_line() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([Row("a", (Text("a"), Text("two\nlines"), "1"), {"id": "a"}), row("b")])
        await pilot.pause()
        assert t.render_line(1).text.split() == ["a", "two", "lines", "1"]
        assert t.render_line(2).text.split() == ["b", "active", "0"]
        assert all(t.render_line(y).cell_length == t.size.width for y in range(t.size.height))
