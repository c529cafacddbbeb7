"""A DataTable that is diffed by key, so a live refresh never loses the operator's place.

The table holds every row it was given (``apply_rows``) and shows the subset that passes the
text filter and the trouble-only switch, ordered by the current sort. A refresh touches only
what changed: rows that went away are removed, changed cells are updated (and briefly
highlighted with ``$row-changed``), new rows are added, and the cursor stays on the same key.
An identical refresh does no widget work at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, Column, ColumnKey, RowKey

from batchtui.ui.text import literal

#: how long a changed cell keeps the $row-changed background
FLASH_SECONDS = 2.0

#: render caches hold this many screens of lines (cursor moves between refreshes re-key lines)
CACHED_SCREENS = 2


@dataclass(frozen=True)
class Row:
    """One row of a :class:`KeyedTable`; compared cell by cell to find what changed."""

    key: str
    cells: tuple[object, ...]
    sort_values: Mapping[str, object] = field(default_factory=dict)
    trouble: bool = False
    search: str = ""


def _cell(value: object) -> Text:
    # DataTable parses a plain str cell as markup; everything goes in as literal Text.
    if isinstance(value, Text):
        return value
    if value is None:
        return Text("")
    return literal(value)


def _same(a: object, b: object) -> bool:
    # Screens reuse the cells of a row that only partly changed: the same object needs no look.
    if a is b:
        return True
    # rich's Text.__eq__ ignores the base style, which is what state colours live in.
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and a.spans == b.spans and a.style == b.style
    return a == b


def _sort_key(value: object) -> tuple[bool, object]:
    # Missing values sort last and never meet a real value in a comparison.
    return (value is None, value if value is not None else 0)


class KeyedTable(DataTable[Text]):
    """Row-cursor DataTable with a keyed diff, a text filter, trouble-only and a sort cycle."""

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        /* A tinted cursor row: the cells keep their own colours (states, bars) on it. */
        & > .datatable--cursor { background: $primary 20%; color: $foreground; text-style: bold; }
        &:focus > .datatable--cursor { background: $primary 35%; color: $foreground; text-style: bold; }
        & > .keyed-table--changed { background: $row-changed; }
        & > .keyed-table--dim { color: $foreground-muted; }
        & > .keyed-table--active { color: $state-active; }
        & > .keyed-table--running { color: $state-running; }
        & > .keyed-table--succeeded { color: $state-succeeded; }
        & > .keyed-table--failed { color: $state-failed; text-style: bold; }
        & > .keyed-table--completed { color: $state-completed; }
        & > .keyed-table--disabled { color: $state-disabled; }
        & > .keyed-table--warning { color: $warning; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {
        "keyed-table--changed",
        "keyed-table--dim",
        "keyed-table--active",
        "keyed-table--running",
        "keyed-table--succeeded",
        "keyed-table--failed",
        "keyed-table--completed",
        "keyed-table--disabled",
        "keyed-table--warning",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="Open the selected row"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
        Binding("ctrl+d", "page_down", "Page down", show=False),
        Binding("ctrl+u", "page_up", "Page up", show=False),
    ]

    filter_text: reactive[str] = reactive("", init=False)
    trouble_only: reactive[bool] = reactive(False, init=False)

    class Chosen(Message):
        """Enter was pressed on a row."""

        def __init__(self, table: KeyedTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    class ViewChanged(Message):
        """What the table shows changed (rows, filter, trouble-only or sort): titles recount."""

        def __init__(self, table: KeyedTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id,
            classes=classes,
            cursor_type="row",
            zebra_stripes=False,
            show_row_labels=False,
            # State colours and bars stay visible on the cursor row.
            cursor_foreground_priority="renderable",
        )
        self._state_styles: dict[str, Style] = {}
        self._columns: list[str] = []
        self._labels: dict[str, str] = {}
        self._quiet: set[int] = set()
        self._col_idx: list[int] = []  # indexes (into Row.cells) of the columns shown
        self._sorts: list[str] = []
        self.sort_name: str = ""
        self._rows: dict[str, Row] = {}  # everything applied, filtered or not
        self._shown: dict[str, Row] = {}  # what the DataTable holds, as applied
        self._order: list[str] = []  # keys in display order (mirror of the DataTable)
        self._pos: dict[str, int] = {}
        self._search: dict[str, str] = {}  # key -> lower-cased filter text
        self._flashed: dict[str, set[int]] = {}  # key -> indexes of highlighted cells
        self._flash_timer: Timer | None = None
        self._filled = False
        self._need_sort = False
        self._flash_style: Style | None = None
        self._render_epoch = -1  # DataTable._update_count the render caches hold renders of
        self._render_shape = (-1, -1)  # (height, columns) the render caches are sized for

    # ------------------------------------------------------------------ set-up

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Declare the columns as (key, label); labels are plain text. Row.cells follow this order."""
        self._columns = [key for key, _ in columns]
        self._labels = {key: label for key, label in columns}
        self._col_idx = list(range(len(self._columns)))
        self._rebuild()

    def set_quiet_columns(self, keys: Sequence[str]) -> None:
        """Columns whose changes are not highlighted (ages, runtimes: they move with the clock)."""
        self._quiet = {i for i, k in enumerate(self._columns) if k in keys}

    def set_visible_columns(self, keys: Sequence[str] | None) -> None:
        """Show only these columns (None: all), e.g. to fit a narrow terminal; rows keep all cells."""
        idx = [i for i, k in enumerate(self._columns) if keys is None or k in keys]
        if idx != self._col_idx:
            self._col_idx = idx
            self._rebuild()

    @property
    def visible_columns(self) -> tuple[str, ...]:
        return tuple(self._columns[i] for i in self._col_idx)

    def _rebuild(self) -> None:
        keep = self.selected_key
        self.clear(columns=True)
        for i in self._col_idx:
            key = self._columns[i]
            self.add_column(Text(self._labels[key]), key=key)
        self._shown.clear()
        self._order.clear()
        self._pos.clear()
        self._flashed.clear()
        self._sync(flash=False, keep=keep)

    def set_sorts(self, sorts: Sequence[str]) -> None:
        """The sort names ``s`` cycles through; the first one is the default."""
        self._sorts = list(sorts)
        if self.sort_name not in self._sorts:
            self.sort_name = self._sorts[0] if self._sorts else ""
        self._need_sort = True
        self._sync(flash=False)

    @property
    def sorts(self) -> tuple[str, ...]:
        return tuple(self._sorts)

    def cycle_sort(self) -> None:
        if not self._sorts:
            return
        i = self._sorts.index(self.sort_name) if self.sort_name in self._sorts else -1
        self.sort_by(self._sorts[(i + 1) % len(self._sorts)])

    def sort_by(self, name: str) -> None:
        if name not in self._sorts:
            raise ValueError(f"unknown sort {name!r}")
        self.sort_name = name
        self._need_sort = True
        self._sync(flash=False)

    # ------------------------------------------------------------------ data

    def apply_rows(self, rows: Sequence[Row], *, flash: bool = True) -> None:
        """Make the table hold exactly ``rows`` (diffed by key; see module docstring).

        ``flash=False`` skips the change highlight (used when only styles changed, e.g.
        after a theme switch). The first fill is never highlighted.
        """
        new: dict[str, Row] = {}
        for row in rows:
            new[row.key] = row
        old = self._rows
        self._rows = new
        for key in old.keys() - new.keys():
            self._search.pop(key, None)
        for key, row in new.items():
            if old.get(key) is not row:
                self._search[key] = (row.search or " ".join(_plain(c) for c in row.cells)).lower()
        self._sync(flash=flash and self._filled)
        self._filled = True

    def restyle(self) -> None:
        """Re-show every row (e.g. after a theme switch) without highlighting."""
        self._sync(flash=False)

    @property
    def rows_by_key(self) -> Mapping[str, Row]:
        return self._rows

    @property
    def visible_keys(self) -> tuple[str, ...]:
        return tuple(self._order)

    @property
    def selected_key(self) -> str | None:
        if not self._order:
            return None
        row = self.cursor_coordinate.row
        return self._order[row] if 0 <= row < len(self._order) else None

    @property
    def visible_count(self) -> int:
        return len(self._order)

    @property
    def total_count(self) -> int:
        return len(self._rows)

    def select_key(self, key: str) -> bool:
        """Put the cursor on ``key`` if it is shown."""
        pos = self._pos.get(key)
        if pos is None:
            return False
        if pos != self.cursor_coordinate.row:
            self.move_cursor(row=pos)
        return True

    def key_window(self, margin: int = 5) -> tuple[str, ...]:
        """Keys of the rows on screen plus ``margin`` rows either side (what to fetch for)."""
        if not self._order:
            return ()
        height = max(self.scrollable_content_region.height - (1 if self.show_header else 0), 1)
        top = int(self.scroll_y)
        lo = max(top - margin, 0)
        hi = min(top + height + margin, len(self._order))
        keys = self._order[lo:hi]
        sel = self.selected_key
        if sel is not None and sel not in keys:
            keys = [*keys, sel]
        return tuple(keys)

    def state_style(self, name: str) -> Style:
        """Rich style of a state colour (``active``, ``failed``, ...) from the current theme.

        Looked up once per theme: rebuilding rows asks for the same few styles thousands of times.
        """
        style = self._state_styles.get(name)
        if style is None:
            style = self._state_styles[name] = self.get_component_rich_style(
                f"keyed-table--{name}", partial=True, default=Style()
            )
        return style

    def notify_style_update(self) -> None:
        # Textual calls this when the stylesheet is re-applied (a theme switch) before it tells
        # the screens to rebuild their rows, so they rebuild with the new colours.
        self._state_styles.clear()
        super().notify_style_update()

    # ------------------------------------------------------------------ filter / sort reactives

    def watch_filter_text(self) -> None:
        self._sync(flash=False)

    def watch_trouble_only(self) -> None:
        self._sync(flash=False)

    def _visible(self, row: Row, needle: str) -> bool:
        if self.trouble_only and not row.trouble:
            return False
        return not needle or needle in self._search.get(row.key, "")

    # ------------------------------------------------------------------ the diff

    def _sync(self, *, flash: bool, keep: str | None = None) -> None:
        if not self._columns:
            return
        selected = keep if keep is not None else self.selected_key
        cursor_row = self.cursor_coordinate.row
        self._flash_style = None  # the theme may have changed since the last sync
        needle = self.filter_text.strip().lower()
        if needle or self.trouble_only:
            want = {k: r for k, r in self._rows.items() if self._visible(r, needle)}
        else:
            want = self._rows  # read only below; saves a per-row test on every refresh
        with self.app.batch_update():
            structure_changed = self._remove_gone(want)
            sort_changed = self._update_changed(want, flash)
            added = [k for k in want if k not in self._shown]
            for key in added:
                row = want[key]
                cells = [_cell(row.cells[i]) for i in self._col_idx]
                if flash:
                    cells = [self._flash_cell(c) for c in cells]
                    self._flashed[key] = set(self._col_idx)
                self.add_row(*cells, key=key)
                self._shown[key] = row
                self._pos[key] = len(self._order)
                self._order.append(key)
            structure_changed = structure_changed or bool(added)
            resort = structure_changed or sort_changed or self._need_sort
            self._need_sort = False
            if resort:
                order = self._sorted_order(list(want))
                if order != self._order:
                    self._set_order(order)
            self._restore_cursor(selected, cursor_row)
            if self._flashed and flash:
                self._arm_flash_timer()
        if structure_changed or resort:
            self.post_message(self.ViewChanged(self))

    def _remove_gone(self, want: Mapping[str, Row]) -> bool:
        gone = [k for k in self._shown if k not in want]
        if not gone:
            return False
        if len(gone) == 1:
            self.remove_row(gone[0])
        else:
            self._remove_rows(gone)
        gone_set = set(gone)
        for key in gone:
            del self._shown[key]
            self._flashed.pop(key, None)
        self._order = [k for k in self._order if k not in gone_set]
        self._pos = {k: i for i, k in enumerate(self._order)}
        return True

    def _remove_rows(self, keys: list[str]) -> None:
        # DataTable.remove_row() rebuilds the key->index map on every call (O(rows) each, so
        # O(rows x removed) in all); remove the rows' data the same way, then rebuild it once.
        gone = set(keys)
        for key in keys:
            row_key = RowKey(key)
            for column_key in self._data.get(row_key, {}):
                self._updated_cells.discard(CellKey(row_key, column_key))
            self._new_rows.discard(row_key)
            del self.rows[row_key]
            del self._data[row_key]
        self._row_locations = TwoWayDict(
            {RowKey(k): i for i, k in enumerate(k for k in self._order if k not in gone)}
        )
        self._require_update_dimensions = True
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # clamp it, as remove_row() does
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)

    def _update_changed(self, want: Mapping[str, Row], flash: bool) -> bool:
        """Update changed cells of rows already shown; True if a sort value changed."""
        sort_changed = False
        previous_flash = self._flashed
        self._flashed = {}
        widths = _WidthTracker(self)
        data = self._data
        put = 0
        for key, row in want.items():
            old = self._shown.get(key)
            if old is None:
                continue
            if old is not row:
                # A Row rebuilt around the same cells (only a sort value moved) needs no look.
                old_cells, new_cells = old.cells, row.cells
                for i in self._col_idx if old_cells is not new_cells else ():
                    a, b = old_cells[i], new_cells[i]
                    if a is not b and not _same(a, b):  # `is` inline: 9,000 cells a pass
                        cell = _cell(b)
                        widths.changed(self._columns[i], a, cell)
                        if flash and i not in self._quiet:
                            cell = self._flash_cell(cell)
                            self._flashed.setdefault(key, set()).add(i)
                        # What update_cell() does, less its per-cell refresh() (~35 us each: a
                        # third of a refresh that moves every runtime of 1,000 ranks): one below.
                        data[RowKey(key)][ColumnKey(self._columns[i])] = cell
                        put += 1
                if old.sort_values != row.sort_values:
                    sort_changed = True
                self._shown[key] = row
        if put:
            self._update_count += 1
            self.refresh()
        widths.apply()
        # Cells highlighted by an earlier refresh and not changed again go back to normal.
        for key, idxs in previous_flash.items():
            row = self._shown.get(key)
            if row is None:
                continue
            for i in idxs - self._flashed.get(key, set()):
                self.update_cell(key, self._columns[i], _cell(row.cells[i]))
        return sort_changed

    def _sorted_order(self, keys: list[str]) -> list[str]:
        name = self.sort_name
        rows = self._rows
        if not name:
            return keys
        return sorted(keys, key=lambda k: (_sort_key(rows[k].sort_values.get(name)), k))

    def _set_order(self, order: list[str]) -> None:
        # DataTable.sort() hands its key function cell values only, never the row key, and our
        # order comes from Row.sort_values; so set the key->index map exactly as sort() does.
        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(order)})
        self._update_count += 1
        self.refresh()
        self._order = order
        self._pos = {k: i for i, k in enumerate(order)}

    def _restore_cursor(self, selected: str | None, cursor_row: int) -> None:
        if not self._order:
            return
        if selected is not None and selected in self._pos:
            target = self._pos[selected]
        else:
            target = min(cursor_row, len(self._order) - 1)
        if target != self.cursor_coordinate.row:
            self.move_cursor(row=target)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures each new cell through rich's measure protocol (console options,
        # a terminal-size syscall): 0.16 s for the 1,000 x 11 cells of the first screen
        # (bench/startup.py). Our cells are one-line Text, so their cell length is the width.
        rows = [k for k in new_rows if k in self.rows]
        if any(self.rows[k].label is not None or self.rows[k].auto_height for k in rows):
            super()._update_dimensions(rows)
            return
        for column in self.ordered_columns:
            key = column.key
            widest = max((_width(self._data[k][key]) for k in rows if key in self._data[k]), default=0)
            column.content_width = max(column.content_width, widest)
        super()._update_dimensions(())  # the virtual size from the column widths

    # ------------------------------------------------------------------ render caches

    def render_lines(self, crop: Region) -> list[Strip]:
        self._trim_render_caches()
        return super().render_lines(crop)

    def _trim_render_caches(self) -> None:
        # DataTable keys its line, row, row-renderable and cell render caches on _update_count,
        # which goes up with every update_cell/add_row/sort, and sizes them for any table (1,000
        # lines and rows, 10,000 cells). With a moving clock every refresh changes cells (ages,
        # runtimes), so what a frame rendered is dead once the next refresh lands, yet it stayed
        # until the caches were full: ~8 MB of RSS grown over the first few hundred refreshes of
        # a 1,000-job dashboard (bench/memory.py). A render keyed on an old count can never be
        # hit again, so dropping it costs no re-render. These are private fields because textual
        # has no API for them; pyproject pins textual < 9, whose DataTable this was checked on.
        if self._update_count != self._render_epoch:
            self._render_epoch = self._update_count
            self._clear_render_caches()
        # Between refreshes the cursor and hover positions key lines and rows too, so walking the
        # cursor would fill the caches all the same: they hold a couple of screens at most.
        height = max(self.size.height, 1)
        shape = (height, len(self.columns))
        if shape != self._render_shape:
            self._render_shape = shape
            lines = CACHED_SCREENS * height
            self._line_cache.maxsize = lines
            self._row_render_cache.maxsize = lines
            self._row_renderable_cache.maxsize = lines
            self._cell_render_cache.maxsize = lines * (len(self.columns) + 1)  # + the row label
            # A full LRUCache evicts one entry per insertion, so it only shrinks when emptied.
            self._clear_render_caches()

    def _clear_render_caches(self) -> None:
        self._line_cache.clear()
        self._row_render_cache.clear()
        self._row_renderable_cache.clear()
        self._cell_render_cache.clear()

    # ------------------------------------------------------------------ highlight

    def _flash_cell(self, cell: Text) -> Text:
        # Looked up once per sync: resolving a component style costs ~0.1 ms, per changed cell.
        if self._flash_style is None:
            style = self.get_component_rich_style("keyed-table--changed", partial=True, default=Style())
            self._flash_style = Style(bgcolor=style.bgcolor)
        flashed = cell.copy()
        flashed.stylize(self._flash_style)
        return flashed

    def _arm_flash_timer(self) -> None:
        if self._flash_timer is not None:
            self._flash_timer.stop()
        self._flash_timer = self.set_timer(FLASH_SECONDS, self._end_flash)

    def _end_flash(self) -> None:
        self._flash_timer = None
        flashed, self._flashed = self._flashed, {}
        with self.app.batch_update():
            for key, idxs in flashed.items():
                row = self._shown.get(key)
                if row is None:
                    continue
                for i in idxs:
                    self.update_cell(key, self._columns[i], _cell(row.cells[i]))

    @property
    def flashed_keys(self) -> frozenset[str]:
        return frozenset(self._flashed)

    # ------------------------------------------------------------------ events

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self and event.row_key.value is not None:
            event.stop()
            self.post_message(self.Chosen(self, event.row_key.value))


class _WidthTracker:
    """Column widths after in-place cell updates, at one pass per column at most.

    DataTable's ``update_cell(update_width=True)`` re-measures the whole column whenever the
    new value is narrower than the column (nearly always): O(rows) per changed cell, so
    ~15 s for 50 changed rows of a 5,000-row table. Here a column grows to fit a wider value
    at once and is re-measured once, after the refresh, only if its widest cell got narrower.
    """

    def __init__(self, table: KeyedTable) -> None:
        self.table = table
        self.grow: dict[str, int] = {}
        self.shrink: set[str] = set()
        self.cols: dict[str, Column | None] = {}  # looked up once a pass, not per changed cell

    def changed(self, column: str, old: object, new: Text) -> None:
        if column in self.cols:
            col = self.cols[column]
        else:
            col = self.cols[column] = self.table.columns.get(ColumnKey(column))
        if col is None:
            return
        width = _width(new)
        if width > max(col.content_width, self.grow.get(column, 0)):
            self.grow[column] = width
        elif width < col.content_width and _width(_cell(old)) >= col.content_width:
            self.shrink.add(column)

    def apply(self) -> None:
        if not (self.grow or self.shrink):
            return
        table = self.table
        for name in self.grow.keys() | self.shrink:
            col = table.columns[ColumnKey(name)]
            if name in self.shrink:
                widest = max(
                    (_width(cells[col.key]) for cells in table._data.values() if col.key in cells), default=0
                )
            else:
                widest = self.grow[name]
            col.content_width = max(widest, _width(col.label))
        table._require_update_dimensions = True
        table.refresh()


def _width(cell: object) -> int:
    # What DataTable measures a one-line cell as: its widest line, in terminal cells.
    text = cell if isinstance(cell, Text) else _cell(cell)
    if "\n" in text.plain:
        return max(cell_len(line) for line in text.plain.splitlines())
    return text.cell_len


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else ("" if cell is None else str(cell))
