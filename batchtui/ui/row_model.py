"""The rows a live table shows, kept by key: what is held, what is shown, in which order.

No Textual here: :class:`RowModel` is plain data that a widget draws (``ui/widgets/keyed_table.py``)
and that tests drive directly. It holds every row it was given (``apply``) and shows the subset
that passes the text filter and the trouble-only switch, ordered by the current sort (forwards
or reversed). A refresh is diffed by key: a row that went away is dropped (with its mark), a
changed cell bumps its row's revision (what the widget re-renders) and is remembered as
"flashed" until the next refresh, and the cursor stays on the same key. An identical refresh
changes nothing at all, which is what lets the widget skip all work for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.text import Text

from batchtui.ui.text import literal

#: what the title says after a sort's name: natural order, reversed
ARROWS = ("↓", "↑")


@dataclass(frozen=True)
class Row:
    """One row of a table; compared cell by cell to find what changed."""

    key: str
    cells: tuple[object, ...]
    sort_values: Mapping[str, object] = field(default_factory=dict)
    trouble: bool = False
    search: str = ""


@dataclass(frozen=True)
class Sync:
    """What one change to the model did, so the widget does only the work it calls for."""

    view: bool = False  # which rows are shown, or their order, changed (titles recount)
    cells: bool = False  # some row's cells changed (its lines render anew)
    widths: bool = False  # a column's width changed (every line renders anew)
    cursor: bool = False  # the selected key or the cursor's row changed

    def __bool__(self) -> bool:
        return self.view or self.cells or self.widths or self.cursor

    def __or__(self, other: Sync) -> Sync:
        return Sync(
            self.view or other.view,
            self.cells or other.cells,
            self.widths or other.widths,
            self.cursor or other.cursor,
        )


def as_text(value: object) -> Text:
    """A cell as the Text that is shown: plain strings are literal, never markup; one line."""
    if isinstance(value, Text):
        if "\n" in value.plain:  # a row is one line: a line break would break the table's
            return Text(" ").join(value.split("\n"))
        return value
    if value is None:
        return Text("")
    return literal(value)


def same_cell(a: object, b: object) -> bool:
    # Screens reuse the cells of a row that only partly changed: the same object needs no look.
    if a is b:
        return True
    # rich's Text.__eq__ ignores the base style, which is what state colours live in.
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.spans == b.spans and a.style == b.style
    return a == b


def cell_width(value: object) -> int:
    """Terminal cells the cell needs, as shown."""
    if isinstance(value, Text):
        plain = value.plain  # read once: a refresh measures every changed cell twice
        if "\n" not in plain:
            return cell_len(plain)
    return as_text(value).cell_len


def column_widths(rows: Iterable[Row], columns: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Cells each column needs for ``rows``: its widest cell or its label, and a cell of
    padding either side (what a screen fits its visible columns to)."""
    widths = {k: len(label) for k, label in columns}
    keys = [k for k, _ in columns]
    for row in rows:
        for k, cell in zip(keys, row.cells, strict=False):
            n = cell_width(cell)
            if n > widths[k]:
                widths[k] = n
    return {k: w + 2 for k, w in widths.items()}


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else ("" if cell is None else str(cell))


class RowModel:
    """Rows by key, the filter, trouble-only, the sort, marks, the cursor and column widths."""

    def __init__(self) -> None:
        self.columns: tuple[str, ...] = ()
        self.labels: dict[str, str] = {}
        self.quiet: frozenset[int] = frozenset()  # column indexes whose changes do not flash
        self.sorts: tuple[str, ...] = ()
        self.sort_name = ""
        self.sort_reversed = False
        self._filter = ""
        self._trouble_only = False
        self.rows: dict[str, Row] = {}  # everything applied, shown or not
        self._search: dict[str, str] = {}  # key -> lower-cased filter text
        self._revision: dict[str, int] = {}  # key -> revision of its cells
        self._next_revision = 0
        self.order: list[str] = []  # keys shown, in display order
        self._pos: dict[str, int] = {}
        self.cursor = 0
        self._marks: dict[str, None] = {}  # ordered as marked
        self.flashed: dict[str, frozenset[int]] = {}  # key -> column indexes changed last refresh
        self._widths: list[Counter[int]] = []  # per column: cell width -> rows that have it
        self.widths: list[int] = []  # per column: widest cell or label
        self._label_widths: list[int] = []

    # ------------------------------------------------------------------ columns and sorts

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> Sync:
        """Declare the columns as (key, label); Row.cells follow this order."""
        self.columns = tuple(key for key, _ in columns)
        self.labels = dict(columns)
        self._widths = [Counter() for _ in self.columns]
        self._label_widths = [Text(label).cell_len for _, label in columns]
        for row in self.rows.values():
            self._count(row.cells, +1)
        return Sync(widths=self._measure(), view=True)

    def set_quiet(self, keys: Iterable[str]) -> None:
        wanted = set(keys)
        self.quiet = frozenset(i for i, k in enumerate(self.columns) if k in wanted)

    def set_sorts(self, sorts: Sequence[str]) -> Sync:
        """The sorts ``cycle_sort`` visits; the first one, forwards, is the default."""
        self.sorts = tuple(sorts)
        if self.sort_name not in self.sorts:
            self.sort_name = self.sorts[0] if self.sorts else ""
            self.sort_reversed = False
        return self._resync(resort=True)

    def sort_by(self, name: str, *, reversed: bool = False) -> Sync:
        if name not in self.sorts:
            raise ValueError(f"unknown sort {name!r}")
        self.sort_name, self.sort_reversed = name, reversed
        return self._resync(resort=True)

    def cycle_sort(self) -> Sync:
        """Each sort forwards, then the same sort reversed, then the next sort (as in k9s)."""
        if not self.sorts:
            return Sync()
        if not self.sort_reversed and self.sort_name in self.sorts:
            return self.sort_by(self.sort_name, reversed=True)
        i = self.sorts.index(self.sort_name) if self.sort_name in self.sorts else -1
        return self.sort_by(self.sorts[(i + 1) % len(self.sorts)])

    @property
    def sort_label(self) -> str:
        """The sort as the title says it: its name and an arrow, ↓ as named, ↑ reversed."""
        if not self.sort_name:
            return ""
        return f"{self.sort_name} {ARROWS[self.sort_reversed]}"

    # ------------------------------------------------------------------ filter

    @property
    def filter_text(self) -> str:
        return self._filter

    def set_filter(self, text: str) -> Sync:
        if text == self._filter:
            return Sync()
        self._filter = text
        return self._resync(resort=True)

    @property
    def trouble_only(self) -> bool:
        return self._trouble_only

    def set_trouble_only(self, on: bool) -> Sync:
        if on == self._trouble_only:
            return Sync()
        self._trouble_only = on
        return self._resync(resort=True)

    # ------------------------------------------------------------------ data

    def apply(self, rows: Iterable[Row], *, flash: bool) -> Sync:
        """Hold exactly ``rows``; with ``flash``, remember the cells that changed (see module doc)."""
        new: dict[str, Row] = {row.key: row for row in rows}
        old = self.rows
        flashed: dict[str, frozenset[int]] = {}
        quiet, ncols = self.quiet, len(self.columns)
        cells_changed = sort_changed = touched = False
        gone = [k for k in old if k not in new]
        for key in gone:
            self._count(old[key].cells, -1)
            del self._search[key], self._revision[key]
            self._marks.pop(key, None)
        for key, row in new.items():
            before = old.get(key)
            if before is row:
                continue  # `is` first: most rows of a refresh are the very same objects
            touched = True
            if before is None or not row.search or row.search != before.search:
                self._search[key] = (row.search or " ".join(_plain(c) for c in row.cells)).lower()
            if before is None:
                self._count(row.cells, +1)
                self._bump(key)
                cells_changed = sort_changed = True
                if flash:
                    flashed[key] = frozenset(range(ncols))
                continue
            if before.sort_values != row.sort_values or before.trouble != row.trouble:
                sort_changed = True
            a_cells, b_cells = before.cells, row.cells
            if a_cells is b_cells:
                continue  # a Row rebuilt around the same cells: only a sort value moved
            changed = [
                i
                for i in range(ncols)
                if a_cells[i] is not b_cells[i] and not same_cell(a_cells[i], b_cells[i])
            ]
            if not changed:
                continue
            for i in changed:
                self._recount(i, a_cells[i], b_cells[i])
            self._bump(key)
            cells_changed = True
            loud = [i for i in changed if i not in quiet]
            if flash and loud:
                flashed[key] = frozenset(loud)
        self.rows = new
        if self.flashed or flashed:
            cells_changed = True  # cells that stop being highlighted render anew too
        self.flashed = flashed
        widths = self._measure() if cells_changed or gone else False
        # Which rows pass the filter can only change for rows that changed (or came or went).
        narrowed = touched and bool(self._filter.strip() or self._trouble_only)
        sync = self._resync(resort=bool(gone) or sort_changed or narrowed)
        return sync | Sync(cells=cells_changed, widths=widths)

    def end_flash(self) -> Sync:
        """The change highlight is over: every cell shows as it is."""
        if not self.flashed:
            return Sync()
        self.flashed = {}
        return Sync(cells=True)

    def revision(self, key: str) -> int:
        """Goes up each time the row's cells change (what the widget's line cache keys on)."""
        return self._revision[key]

    def _bump(self, key: str) -> None:
        self._next_revision += 1
        self._revision[key] = self._next_revision

    # ------------------------------------------------------------------ what is shown

    def _visible(self, row: Row, needle: str) -> bool:
        if self._trouble_only and not row.trouble:
            return False
        return not needle or needle in self._search[row.key]

    def _resync(self, *, resort: bool) -> Sync:
        """Recompute what is shown (when asked to, or when rows came or went) and keep the cursor."""
        selected, cursor = self.selected_key, self.cursor
        view = False
        if resort:
            needle = self._filter.strip().lower()
            if needle or self._trouble_only:
                keys = [k for k, r in self.rows.items() if self._visible(r, needle)]
            else:
                keys = list(self.rows)
            order = self._sorted(keys)
            if order != self.order:
                self.order = order
                self._pos = {k: i for i, k in enumerate(order)}
                view = True
        if selected is not None and selected in self._pos:
            self.cursor = self._pos[selected]
        else:
            self.cursor = max(min(cursor, len(self.order) - 1), 0)
        moved = self.cursor != cursor or self.selected_key != selected
        return Sync(view=view, cursor=moved)

    def _sorted(self, keys: list[str]) -> list[str]:
        name, rows = self.sort_name, self.rows
        if not name:
            return keys
        if self.sort_reversed:
            # Reversed as a whole, except that rows without a value stay last.
            def backwards(k: str) -> tuple[bool, object, str]:
                v = rows[k].sort_values.get(name)
                return (v is not None, v if v is not None else 0, k)

            return sorted(keys, key=backwards, reverse=True)

        def forwards(k: str) -> tuple[bool, object, str]:
            v = rows[k].sort_values.get(name)
            return (v is None, v if v is not None else 0, k)

        return sorted(keys, key=forwards)

    @property
    def selected_key(self) -> str | None:
        return self.order[self.cursor] if 0 <= self.cursor < len(self.order) else None

    def position(self, key: str) -> int | None:
        """Where ``key`` is shown (None: filtered out or not held)."""
        return self._pos.get(key)

    def window(self, top: int, height: int, margin: int) -> tuple[str, ...]:
        """Keys of shown rows ``top`` to ``top + height`` and ``margin`` either side, and the cursor's."""
        keys = self.order[max(top - margin, 0) : top + height + margin]
        selected = self.selected_key
        if selected is not None and selected not in keys:
            keys.append(selected)
        return tuple(keys)

    def move_cursor(self, row: int) -> Sync:
        """Put the cursor on shown row ``row`` (clamped)."""
        target = max(min(row, len(self.order) - 1), 0)
        if target == self.cursor:
            return Sync()
        self.cursor = target
        return Sync(cursor=True)

    # ------------------------------------------------------------------ marks

    def toggle_mark(self, key: str) -> bool:
        """Mark ``key`` (or unmark it); True if it is marked now."""
        if key in self._marks:
            del self._marks[key]
            return False
        if key not in self.rows:
            return False
        self._marks[key] = None
        return True

    def clear_marks(self) -> bool:
        """Drop every mark; True if there were any."""
        had = bool(self._marks)
        self._marks.clear()
        return had

    def is_marked(self, key: str) -> bool:
        return key in self._marks

    @property
    def marked_keys(self) -> tuple[str, ...]:
        """Marked rows in the order they were marked (shown or filtered out)."""
        return tuple(self._marks)

    # ------------------------------------------------------------------ column widths

    def _count(self, cells: Sequence[object], step: int) -> None:
        for i in range(min(len(cells), len(self._widths))):
            counter = self._widths[i]
            w = cell_width(cells[i])
            counter[w] += step
            if counter[w] <= 0:
                del counter[w]

    def _recount(self, i: int, old: object, new: object) -> None:
        counter = self._widths[i]
        w = cell_width(old)
        counter[w] -= 1
        if counter[w] <= 0:
            del counter[w]
        counter[cell_width(new)] += 1

    def _measure(self) -> bool:
        # Widths come from counts of each width, so a refresh never re-measures a column: a
        # column grows to fit a wider cell and shrinks back once its widest cells are gone.
        widths = [
            max(max(counter, default=0), label)
            for label, counter in zip(self._label_widths, self._widths, strict=True)
        ]
        if widths == self.widths:
            return False
        self.widths = widths
        return True
