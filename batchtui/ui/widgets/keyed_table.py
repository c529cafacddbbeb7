"""The live table every screen shows: a :class:`RowModel` drawn on Textual's Line API.

A ScrollView that renders one line at a time (``render_line``) from the row model
(``ui/row_model.py``: rows by key, filter, trouble-only, sort, marks, cursor, widths), with a
small LRU cache of rendered lines keyed on each row's revision, so a refresh re-renders only
the rows it changed and a cursor move only the two rows it crossed. Only Textual's public API
is used (tests/test_table_public_api.py holds it to that): no second data model to keep in
step with, nothing that a Textual release can change underneath.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, TypeAlias

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from batchtui.ui.row_model import Row, RowModel, Sync, as_text
from batchtui.ui.widgets import table_messages as messages
from batchtui.ui.widgets.table_lines import LineStyles, TableLines

__all__ = ["FLASH_SECONDS", "KeyedTable", "Row"]

#: how long a changed cell keeps the $row-changed background
FLASH_SECONDS = 2.0

#: the colours ``state_style`` gives rows (component classes ``keyed-table--NAME``)
STATE_COLOURS = ("active", "running", "succeeded", "failed", "completed", "disabled", "warning")


class KeyedTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Row-cursor table with a keyed diff, a text filter, trouble-only, sorts and marks."""

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        &:focus { background-tint: $foreground 5%; }
        & > .keyed-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:focus > .keyed-table--header { background-tint: $foreground 5%; }
        &:ansi > .keyed-table--header { background: ansi_bright_blue; color: ansi_default; }
        /* A tinted cursor row: the cells keep their own colours (states, bars) on it. */
        & > .keyed-table--cursor { background: $primary 20%; color: $foreground; text-style: bold; }
        &:focus > .keyed-table--cursor { background: $primary 35%; color: $foreground; text-style: bold; }
        & > .keyed-table--marked { background: $accent 20%; color: $text-accent; }
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

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        f"keyed-table--{name}" for name in ("header", "cursor", "marked", "changed", "dim", *STATE_COLOURS)
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Cursor up", show=False),
        Binding("down,j", "cursor_down", "Cursor down", show=False),
        Binding("pageup,ctrl+u", "page_up", "Page up", show=False),
        Binding("pagedown,ctrl+d", "page_down", "Page down", show=False),
        Binding("enter", "choose", "Open", tooltip="Open the selected row"),
        Binding("ctrl+home,g", "first", "Top", show=False),
        Binding("ctrl+end,G", "last", "Bottom", show=False),
        Binding("space", "toggle_mark", "Mark", show=False, tooltip="Mark or unmark the selected row"),
        # Sideways scrolling of a table wider than the terminal: no description, not in the help.
        Binding("left", "scroll_left", show=False),
        Binding("right", "scroll_right", show=False),
        Binding("home", "scroll_home", show=False),
        Binding("end", "scroll_end", show=False),
    ]

    # Posted as KeyedTable.Chosen etc., handled as on_keyed_table_chosen etc.
    Chosen: TypeAlias = messages.Chosen
    Highlighted: TypeAlias = messages.Highlighted
    ViewChanged: TypeAlias = messages.ViewChanged

    def __init__(self, *, id: str | None = None, classes: str | None = None, marks: bool = False) -> None:
        """``marks``: ``space`` marks rows on this table (for actions on several at once)."""
        super().__init__(id=id, classes=classes)
        self.marks = marks
        self.model = RowModel()
        self._lines = TableLines(self.model)
        self._styles: LineStyles | None = None
        self._state_styles: dict[str, Style] = {}
        self._flash_timer: Timer | None = None
        self._filled = False

    # ------------------------------------------------------------------ set-up

    def set_columns(self, columns: Sequence[tuple[str, str]]) -> None:
        """Declare the columns as (key, label); labels are plain text. Row.cells follow this order."""
        sync = self.model.set_columns(columns)
        self._lines.columns = list(range(len(self.model.columns)))
        self._after(sync | Sync(widths=True))

    def set_quiet_columns(self, keys: Sequence[str]) -> None:
        """Columns whose changes are not highlighted (ages, runtimes: they move with the clock)."""
        self.model.set_quiet(keys)

    def set_visible_columns(self, keys: Sequence[str] | None) -> None:
        """Show only these columns (None: all), e.g. to fit a narrow terminal; rows keep all cells."""
        idx = [i for i, k in enumerate(self.model.columns) if keys is None or k in keys]
        if idx != self._lines.columns:
            self._lines.columns = idx
            self._after(Sync(widths=True))

    @property
    def visible_columns(self) -> tuple[str, ...]:
        return tuple(self.model.columns[i] for i in self._lines.columns)

    def column_width(self, key: str) -> int:
        """Cells the column's content takes (its widest cell or its label), padding excluded."""
        return self.model.widths[self.model.columns.index(key)]

    def set_sorts(self, sorts: Sequence[str]) -> None:
        """The sort names ``s`` cycles through; the first one, forwards, is the default."""
        self._after(self.model.set_sorts(sorts), view=True)

    @property
    def sorts(self) -> tuple[str, ...]:
        return self.model.sorts

    @property
    def sort_name(self) -> str:
        return self.model.sort_name

    @property
    def sort_reversed(self) -> bool:
        return self.model.sort_reversed

    @property
    def sort_label(self) -> str:
        """The current sort and its direction, e.g. ``newest ↓`` (↑: reversed)."""
        return self.model.sort_label

    def cycle_sort(self) -> None:
        """Next sort state: each sort forwards, then reversed, then the next sort."""
        self._after(self.model.cycle_sort(), view=True)

    # ------------------------------------------------------------------ data

    def apply_rows(self, rows: Sequence[Row], *, flash: bool = True) -> None:
        """Make the table hold exactly ``rows``, diffed by key (see ui/row_model.py).

        ``flash=False`` skips the change highlight (used when only styles changed, e.g.
        after a theme switch). The first fill is never highlighted.
        """
        total = len(self.model.rows)
        sync = self.model.apply(rows, flash=flash and self._filled)
        self._filled = True
        self._after(sync, view=len(self.model.rows) != total)  # a row came or went out of view
        if self.model.flashed:
            if self._flash_timer is not None:
                self._flash_timer.stop()
            self._flash_timer = self.set_timer(FLASH_SECONDS, self._end_flash)

    def restyle(self) -> None:
        """Draw every row anew (e.g. after a theme switch), without highlighting."""
        self._styles = None
        self._lines.clear()
        self.refresh()

    @property
    def rows_by_key(self) -> dict[str, Row]:
        return self.model.rows

    @property
    def visible_keys(self) -> tuple[str, ...]:
        return tuple(self.model.order)

    @property
    def visible_count(self) -> int:
        return len(self.model.order)

    @property
    def total_count(self) -> int:
        return len(self.model.rows)

    def get_row(self, key: str) -> list[Text]:
        """The cells of row ``key`` in the columns shown, as they are drawn."""
        cells = self.model.rows[key].cells
        return [as_text(cells[i]) for i in self._lines.columns]

    def revision(self, key: str) -> int:
        """Goes up each time a cell of row ``key`` changes (and only then)."""
        return self.model.revision(key)

    @property
    def flashed_keys(self) -> frozenset[str]:
        """Rows with a cell still highlighted as changed."""
        return frozenset(self.model.flashed)

    @property
    def lines_cached(self) -> int:
        """Rendered lines held for the next frames (about two screens at most)."""
        return len(self._lines)

    @property
    def lines_rendered(self) -> int:
        """Lines rendered from scratch so far (a repaint of unchanged rows renders none)."""
        return self._lines.rendered

    # ------------------------------------------------------------------ filter and trouble-only

    @property
    def filter_text(self) -> str:
        return self.model.filter_text

    @filter_text.setter
    def filter_text(self, text: str) -> None:
        self._after(self.model.set_filter(text))

    @property
    def trouble_only(self) -> bool:
        return self.model.trouble_only

    @trouble_only.setter
    def trouble_only(self, on: bool) -> None:
        self._after(self.model.set_trouble_only(on))

    # ------------------------------------------------------------------ cursor

    @property
    def selected_key(self) -> str | None:
        return self.model.selected_key

    @property
    def cursor_row(self) -> int:
        return self.model.cursor

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on shown row ``row`` (clamped), scrolled into view unless told not to."""
        self._after(self.model.move_cursor(row), scroll=scroll)

    def select_key(self, key: str) -> bool:
        """Put the cursor on ``key`` if it is shown."""
        pos = self.model.position(key)
        if pos is None:
            return False
        self.move_cursor(row=pos)
        return True

    @property
    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)  # rows below the header

    def key_window(self, margin: int = 5) -> tuple[str, ...]:
        """Keys of the rows on screen plus ``margin`` rows either side (what to fetch for)."""
        return self.model.window(int(self.scroll_y), self._page, margin)

    # ------------------------------------------------------------------ marks

    @property
    def marked_keys(self) -> tuple[str, ...]:
        """Marked rows in the order they were marked (filtered out or not)."""
        return self.model.marked_keys

    def is_marked(self, key: str) -> bool:
        return self.model.is_marked(key)

    def toggle_mark(self, key: str | None = None) -> bool:
        """Mark (or unmark) ``key``, by default the selected row; True if it is marked now."""
        key = key if key is not None else self.selected_key
        if key is None or not self.marks:
            return False
        marked = self.model.toggle_mark(key)
        self.refresh()
        self.post_message(self.ViewChanged(self))
        return marked

    def clear_marks(self) -> bool:
        """Drop every mark; True if there were any."""
        if not self.model.clear_marks():
            return False
        self.refresh()
        self.post_message(self.ViewChanged(self))
        return True

    # ------------------------------------------------------------------ after each change

    def _after(self, sync: Sync, *, view: bool = False, scroll: bool = True) -> None:
        """Do what a model change calls for, and nothing when it changed nothing."""
        if sync.widths or sync.view or view:
            self._update_virtual_size()
        if sync.widths:
            self._lines.clear()  # every line is laid out anew: what the cache holds is dead
        if sync:
            self.refresh()
        if sync.cursor:
            if scroll:
                self._scroll_to_cursor()
            key = self.selected_key
            if key is not None:
                self.post_message(self.Highlighted(self, key, self.model.cursor))
        if sync.view or view:
            self.post_message(self.ViewChanged(self))

    def _update_virtual_size(self) -> None:
        size = Size(self._lines.width, len(self.model.order) + 1)  # + the header
        if size != self.virtual_size:
            self.virtual_size = size

    def _scroll_to_cursor(self) -> None:
        cursor, top = self.model.cursor, int(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, force=True)
        elif cursor >= top + self._page:
            self.scroll_to(y=cursor - self._page + 1, animate=False, force=True)

    def _end_flash(self) -> None:
        self._flash_timer = None
        self._after(self.model.end_flash())

    # ------------------------------------------------------------------ styles

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
        # Textual calls this when the stylesheet is re-applied (a theme switch, focus) before it
        # tells the screens to rebuild their rows, so they rebuild with the new colours.
        self._state_styles.clear()
        self.restyle()
        super().notify_style_update()

    def on_focus(self) -> None:
        self.restyle()  # the cursor's colours change with focus

    def on_blur(self) -> None:
        self.restyle()

    def _line_styles(self) -> LineStyles:
        if self._styles is None:
            self._styles = LineStyles.of(self)
        return self._styles

    # ------------------------------------------------------------------ drawing

    def on_resize(self) -> None:
        self._lines.fit(self.size.height)
        self._scroll_to_cursor()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        styles = self._line_styles()
        index = int(self.scroll_y) + y - 1 if y else -1  # line 0 is the header, always shown
        if index >= len(self.model.order):
            return Strip.blank(width, styles.base)
        strip, extend = self._lines.line(index, styles, self.app.console)
        scroll_x = int(self.scroll_x)
        return strip.crop_extend(scroll_x, scroll_x + width, extend)

    # ------------------------------------------------------------------ keys and mouse

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_mark":
            return self.marks  # not offered (nor shown in the help) on tables without marks
        return True

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.model.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.model.cursor + 1)

    def action_page_up(self) -> None:
        self.scroll_relative(y=-self._page, animate=False, force=True)
        self.move_cursor(row=self.model.cursor - self._page)

    def action_page_down(self) -> None:
        self.scroll_relative(y=self._page, animate=False, force=True)
        self.move_cursor(row=self.model.cursor + self._page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.model.order) - 1)

    def action_choose(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.Chosen(self, key))

    def action_toggle_mark(self) -> None:
        self.toggle_mark()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_y) + offset.y - 1
        if row >= len(self.model.order):
            return
        if row == self.model.cursor:
            self.action_choose()
        else:
            self.move_cursor(row=row)
