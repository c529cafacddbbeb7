"""RowModel: the keyed rows behind every table, driven without Textual."""

from __future__ import annotations

import pytest
from rich.text import Text

from batchtui.ui.row_model import Row, RowModel

COLUMNS = (("id", "Id"), ("state", "State"), ("n", "N"))


def row(key: str, state: str = "active", n: int | None = 0, trouble: bool = False) -> Row:
    sort = {"id": key} if n is None else {"id": key, "n": -n}
    return Row(key, (key, Text(state), Text(str(n))), sort, trouble=trouble)


def model(*rows: Row, sorts: tuple[str, ...] = ("id", "n")) -> RowModel:
    m = RowModel()
    m.set_columns(COLUMNS)
    m.set_sorts(sorts)
    m.apply(rows, flash=False)
    return m


def test_rows_are_shown_in_sort_order_and_the_cursor_keeps_its_key() -> None:
    m = model(row("b"), row("a"), row("c"))
    assert m.order == ["a", "b", "c"]
    assert m.selected_key == "a"
    assert m.move_cursor(1).cursor
    assert m.selected_key == "b"
    sync = m.apply([row("b"), row("a"), row("c"), row("0")], flash=True)
    assert m.order == ["0", "a", "b", "c"]
    assert (m.selected_key, m.cursor) == ("b", 2)  # moved down with its row
    assert sync.view and sync.cursor
    # The selected row goes away: the cursor stays at its place, on the next row.
    m.apply([row("a"), row("c"), row("0")], flash=True)
    assert (m.selected_key, m.cursor) == ("c", 2)
    m.apply([], flash=True)
    assert (m.selected_key, m.cursor) == (None, 0)


def test_an_identical_refresh_changes_nothing() -> None:
    m = model(*(row(f"k{i:03}", n=i) for i in range(100)))
    revisions = {k: m.revision(k) for k in m.rows}
    sync = m.apply([row(f"k{i:03}", n=i) for i in range(100)], flash=True)  # equal, new objects
    assert not sync
    assert {k: m.revision(k) for k in m.rows} == revisions
    assert not m.flashed


def test_changed_cells_bump_the_revision_and_flash_unless_quiet() -> None:
    m = model(row("a", n=1), row("b", n=1))
    m.set_quiet(["n"])
    a, b = m.revision("a"), m.revision("b")
    sync = m.apply([row("a", n=2), row("b", "running", 1), row("c")], flash=True)
    assert sync.cells
    assert m.revision("a") > a and m.revision("b") > b  # both redraw...
    assert m.flashed == {"b": frozenset({1}), "c": frozenset({0, 1, 2})}  # ...the quiet one unflashed
    # The next refresh with no change ends the highlight; end_flash does too.
    assert m.apply([row("a", n=2), row("b", "running", 1), row("c")], flash=True).cells
    assert m.flashed == {}
    m.apply([row("a", n=2), row("b", "failed", 1), row("c")], flash=True)
    assert m.end_flash().cells and m.flashed == {}
    assert not m.end_flash()


def test_a_row_rebuilt_around_the_same_cells_is_not_a_change() -> None:
    cells = (Text("a"), Text("running"), Text("5"))
    m = model(Row("a", cells, {"n": 5}), row("b", n=1))
    before = m.revision("a")
    m.apply([Row("a", cells, {"n": 6}), m.rows["b"]], flash=True)
    assert m.revision("a") == before and not m.flashed
    # An equal Text with another colour is a change: state colours live in the base style.
    m.apply([Row("a", (cells[0], Text("running", style="red"), cells[2]), {"n": 6}), m.rows["b"]], flash=True)
    assert m.revision("a") > before and m.flashed == {"a": frozenset({1})}


def test_filter_and_trouble_only_narrow_what_is_shown() -> None:
    m = model(row("[red]x[/red]"), row("job-2", trouble=True), row("job-3"))
    assert m.set_filter("JOB").view
    assert m.order == ["job-2", "job-3"]
    assert m.set_trouble_only(True).view
    assert m.order == ["job-2"]
    # A refresh under the filter: a row that starts to match appears, one that stops leaves.
    m.apply([row("[red]x[/red]"), row("job-2"), row("job-3", trouble=True)], flash=True)
    assert m.order == ["job-3"]
    m.set_filter("")
    m.set_trouble_only(False)
    assert len(m.order) == 3
    assert not m.set_filter("")  # no change, nothing to do


def test_s_visits_each_sort_forwards_then_reversed_then_the_next() -> None:
    m = model(row("a", n=1), row("b", n=3), row("c", n=2))
    seen = []
    for _ in range(5):
        seen.append((m.sort_label, "".join(m.order)))
        m.cycle_sort()
    assert seen == [
        ("id ↓", "abc"),
        ("id ↑", "cba"),
        ("n ↓", "bca"),  # n sorts by -n: biggest first
        ("n ↑", "acb"),
        ("id ↓", "abc"),
    ]


def test_reversed_sorts_keep_rows_without_a_value_last() -> None:
    m = model(row("a", n=1), row("b", n=None), row("c", n=2))
    m.sort_by("n")
    assert m.order == ["c", "a", "b"]
    m.sort_by("n", reversed=True)
    assert m.order == ["a", "c", "b"]
    with pytest.raises(ValueError):
        m.sort_by("nope")


def test_marks_are_keyed_survive_refreshes_filters_and_sorts_and_leave_with_their_row() -> None:
    m = model(row("a"), row("b"), row("c"))
    assert m.toggle_mark("c") and m.toggle_mark("a")
    assert m.marked_keys == ("c", "a")  # in the order they were marked
    m.apply([row("a", "running"), row("b"), row("c")], flash=True)
    m.cycle_sort()
    m.set_filter("b")
    assert m.order == ["b"]
    assert m.marked_keys == ("c", "a")  # filtered out, still marked
    m.set_filter("")
    m.apply([row("b"), row("c")], flash=True)  # a left the data: its mark goes with it
    assert m.marked_keys == ("c",)
    m.apply([row("a"), row("b"), row("c")], flash=True)  # and does not come back with it
    assert m.marked_keys == ("c",)
    assert not m.toggle_mark("c")
    assert not m.toggle_mark("zzz")  # not held: nothing to mark
    m.toggle_mark("b")
    assert m.clear_marks() and m.marked_keys == ()
    assert not m.clear_marks()


def test_column_widths_follow_the_widest_cell() -> None:
    m = model(row("a", "active"), row("b", "x"))
    assert m.widths == [2, 6, 1]  # the label "Id" is wider than the keys
    assert m.apply([row("a", "a long state"), row("b", "x")], flash=False).widths
    assert m.widths[1] == len("a long state")
    assert not m.apply([row("a", "a long state"), row("b", "y")], flash=False).widths
    m.apply([row("b", "y")], flash=False)  # the widest row left
    assert m.widths == [2, 5, 1]  # back to the label "State"
