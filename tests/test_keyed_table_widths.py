"""KeyedTable: columns fit their cells after in-place updates, without re-measuring per cell.

bench/apply_cost.py once measured DataTable's update_cell(update_width=True) re-measuring a
whole column for each changed cell (15 s for 50 changed rows of 5,000). The row model counts
the rows of each width per column instead, so a refresh measures only the cells it changed.
These tests hold the behaviour: columns grow to fit a wider value, shrink back when the widest
value narrows, and stay put otherwise; the drawn lines follow.
"""

from __future__ import annotations

from rich.text import Text
from ui_support import TableApp

from batchtui.ui import row_model
from batchtui.ui.widgets.keyed_table import KeyedTable, Row


def row(key: str, state: str) -> Row:
    return Row(key, (key, Text(state)), {"id": key})


def measured(t: KeyedTable, column: str) -> int:
    """The width from scratch: the widest cell of the column, or its label."""
    i = t.visible_columns.index(column)
    label = {"id": "Id", "state": "State"}[column]
    return max([len(label), *(t.get_row(k)[i].cell_len for k in t.rows_by_key)])


async def test_columns_grow_and_shrink_with_their_widest_cell() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row(f"k{i}", "active") for i in range(50)])
        await pilot.pause()
        assert t.column_width("state") == len("active")
        # One cell gets wider: the column grows to fit it.
        t.apply_rows([row(f"k{i}", "a much longer state" if i == 7 else "active") for i in range(50)])
        await pilot.pause()
        assert t.column_width("state") == len("a much longer state") == measured(t, "state")
        # Another cell changes, narrower than the column: the column stays as wide as its widest cell.
        t.apply_rows(
            [
                row(f"k{i}", "a much longer state" if i == 7 else "run" if i == 3 else "active")
                for i in range(50)
            ]
        )
        await pilot.pause()
        assert t.column_width("state") == len("a much longer state") == measured(t, "state")
        # The widest cell narrows: the column shrinks back to the widest remaining cell.
        t.apply_rows([row(f"k{i}", "run" if i == 3 else "active") for i in range(50)])
        await pilot.pause()
        assert t.column_width("state") == len("active") == measured(t, "state")
        # All cells narrower than the label: the label's width holds.
        t.apply_rows([row(f"k{i}", "x") for i in range(50)])
        await pilot.pause()
        assert t.column_width("state") == len("State") == measured(t, "state")
        assert t.get_row("k3")[1].plain == "x"
        # The widest row leaving the table narrows its column too.
        t.apply_rows([row(f"k{i}", "x") for i in range(49)] + [row("a-much-longer-key", "x")])
        assert t.column_width("id") == len("a-much-longer-key")
        t.apply_rows([row(f"k{i}", "x") for i in range(49)])
        assert t.column_width("id") == len("k10") == measured(t, "id")


async def test_a_refresh_measures_only_the_cells_it_changed() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        n = 2000
        t.apply_rows([row(f"k{i:04}", "a long state value") for i in range(n)])
        await pilot.pause()
        calls = 0
        measure = row_model.cell_width

        def counting(value: object) -> int:
            nonlocal calls
            calls += 1
            return measure(value)

        row_model.cell_width = counting  # type: ignore[assignment]
        try:
            # 1% of the rows narrow, including the widest: the changed cells, not the column.
            t.apply_rows(
                [row(f"k{i:04}", "short" if i % 100 == 0 else "a long state value") for i in range(n)]
            )
        finally:
            row_model.cell_width = measure  # type: ignore[assignment]
        assert 0 < calls <= 2 * (n // 100)  # old and new width of each changed cell; per row: >= n
        assert t.column_width("state") == len("a long state value") == measured(t, "state")


async def test_lines_are_laid_out_at_the_column_widths() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row("a", "active"), row("wide-日本語-key", "x"), row("b", "a state of 25 cells")])
        await pilot.pause()
        assert (
            t.column_width("id") == len("wide-") + 6 + len("-key") == measured(t, "id")
        )  # CJK: 2 cells each
        assert t.column_width("state") == 19 == measured(t, "state")
        assert t.virtual_size.width == (15 + 2) + (19 + 2)  # a cell of padding either side
        assert t.virtual_size.height == 3 + 1  # rows + header
        assert t.render_line(0).text.startswith(" Id" + " " * 14 + " State")
        assert t.render_line(2).text.startswith(" b" + " " * 15 + " a state of 25 cells")
        # Rows added later widen their columns too.
        t.apply_rows(
            [row("a", "active"), row("b", "a state of 25 cells"), row("c", "an even longer state here")]
        )
        await pilot.pause()
        assert t.column_width("state") == len("an even longer state here") == measured(t, "state")
