"""KeyedTable: columns fit their cells after in-place updates, without re-measuring per cell.

bench/apply_cost.py measured DataTable's update_cell(update_width=True) re-measuring a whole
column for each changed cell (15 s for 50 changed rows of 5,000); the table now measures a
column at most once per refresh. These tests hold the behaviour: columns grow to fit a wider
value, shrink back when the widest value narrows, and stay put otherwise.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets.data_table import ColumnKey
from ui_support import TableApp

from batchtui.ui.widgets.keyed_table import KeyedTable, Row


def row(key: str, state: str) -> Row:
    return Row(key, (key, Text(state)), {"id": key})


def width(t: KeyedTable, column: str) -> int:
    return t.columns[ColumnKey(column)].content_width


def measured(t: KeyedTable, column: str) -> int:
    """What DataTable itself would compute from scratch: the widest cell or the label."""
    key = ColumnKey(column)
    return max([t.columns[key].label.cell_len, *(cells[key].cell_len for cells in t._data.values())])


async def test_columns_grow_and_shrink_with_their_widest_cell() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row(f"k{i}", "active") for i in range(50)])
        await pilot.pause()
        assert width(t, "state") == len("active")
        # One cell gets wider: the column grows to fit it.
        t.apply_rows([row(f"k{i}", "a much longer state" if i == 7 else "active") for i in range(50)])
        await pilot.pause()
        assert width(t, "state") == len("a much longer state") == measured(t, "state")
        # Another cell changes, narrower than the column: the column stays as wide as its widest cell.
        t.apply_rows(
            [
                row(f"k{i}", "a much longer state" if i == 7 else "run" if i == 3 else "active")
                for i in range(50)
            ]
        )
        await pilot.pause()
        assert width(t, "state") == len("a much longer state") == measured(t, "state")
        # The widest cell narrows: the column shrinks back to the widest remaining cell.
        t.apply_rows([row(f"k{i}", "run" if i == 3 else "active") for i in range(50)])
        await pilot.pause()
        assert width(t, "state") == len("active") == measured(t, "state")
        # All cells narrower than the label: the label's width holds.
        t.apply_rows([row(f"k{i}", "x") for i in range(50)])
        await pilot.pause()
        assert width(t, "state") == len("State") == measured(t, "state")
        assert t.get_row("k3")[1].plain == "x"


async def test_a_refresh_measures_each_column_at_most_once() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        n = 2000
        t.apply_rows([row(f"k{i:04}", "a long state value") for i in range(n)])
        await pilot.pause()
        calls = 0
        # Every way a cell's width gets measured: Text.cell_len, and rich's measure protocol
        # (what DataTable's own column sizing uses).
        descriptor = Text.__dict__["cell_len"]
        rich_measure = Text.__rich_measure__

        def counting_len(self: Text) -> int:
            nonlocal calls
            calls += 1
            return descriptor.fget(self)

        def counting_measure(self: Text, console, options):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            return rich_measure(self, console, options)

        Text.cell_len = property(counting_len)  # type: ignore[assignment,method-assign]
        Text.__rich_measure__ = counting_measure  # type: ignore[method-assign]
        try:
            # 1% of the rows narrow, including the widest: one pass over the column, not one per cell.
            t.apply_rows(
                [row(f"k{i:04}", "short" if i % 100 == 0 else "a long state value") for i in range(n)]
            )
            await t._on_idle(None)  # the deferred work DataTable would do on the next idle
        finally:
            Text.cell_len = descriptor  # type: ignore[method-assign]
            Text.__rich_measure__ = rich_measure  # type: ignore[method-assign]
        assert calls < 3 * n  # per-cell re-measuring would be ~20 x n
        assert width(t, "state") == len("a long state value") == measured(t, "state")


async def test_new_rows_size_their_columns_as_datatable_would() -> None:
    app = TableApp((("id", "Id"), ("state", "State")), sorts=("id",))
    async with app.run_test(size=(80, 20)) as pilot:
        t = app.query_one(KeyedTable)
        t.apply_rows([row("a", "active"), row("wide-日本語-key", "x"), row("b", "a state of 25 cells")])
        await pilot.pause()
        assert width(t, "id") == len("wide-") + 6 + len("-key") == measured(t, "id")  # CJK: 2 cells each
        assert width(t, "state") == 19 == measured(t, "state")
        total = sum(c.get_render_width(t) for c in t.columns.values())
        assert t.virtual_size.width == total
        assert t.virtual_size.height == 3 + 1  # rows + header
        # Rows added later widen their columns too.
        t.apply_rows(
            [row("a", "active"), row("b", "a state of 25 cells"), row("c", "an even longer state here")]
        )
        await pilot.pause()
        assert width(t, "state") == len("an even longer state here") == measured(t, "state")
