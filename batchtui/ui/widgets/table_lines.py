"""The lines of a KeyedTable: each row of a RowModel rendered to a Strip, and cached.

A line is cached under its row's key and revision (which goes up only when a cell of the row
changes) and what else it shows: the cursor on it, its mark, its highlighted cells. So a
refresh re-renders only the rows whose cells changed and a cursor move the two rows it left
and reached; lines of an old revision are never hit again and fall out of the LRU cache,
which holds a couple of screens. Anything that changes every line (column widths, the columns
shown, the theme, focus) clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip
from textual.widget import Widget

from batchtui.ui.row_model import Row, RowModel, as_text

#: the cache holds this many screens of lines
CACHED_SCREENS = 2

#: drawn in the first column's left padding of a marked row
MARK_GLYPH = "✓"

_BOLD = Style(bold=True)


class LineStyles(NamedTuple):
    """The widget's component styles, resolved once per theme and focus state."""

    base: Style  # the table's own background and colour
    header: Style
    cursor: Style
    marked: Style
    changed: Style  # a changed cell's background

    @classmethod
    def of(cls, widget: Widget) -> LineStyles:
        """The styles of ``widget``'s ``keyed-table--*`` component classes, as they are now."""
        get = widget.get_component_rich_style
        changed = get("keyed-table--changed", partial=True, default=Style())
        return cls(
            base=widget.rich_style,
            header=get("keyed-table--header"),
            cursor=get("keyed-table--cursor"),
            marked=get("keyed-table--marked"),
            changed=Style(bgcolor=changed.bgcolor),
        )


class TableLines:
    """Renders the header and the shown rows of ``model`` (columns ``columns``) to Strips."""

    def __init__(self, model: RowModel) -> None:
        self.model = model
        self.columns: Sequence[int] = []  # indexes (into Row.cells) of the columns shown
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(maxsize=CACHED_SCREENS * 50)
        #: lines rendered from scratch (not served from the cache); tests and benches read it
        self.rendered = 0

    def __len__(self) -> int:
        return len(self._cache)

    def clear(self) -> None:
        self._cache.clear()

    def fit(self, height: int) -> None:
        """Size the cache for a table ``height`` lines high."""
        self._cache.maxsize = CACHED_SCREENS * max(height, 1)
        self._cache.clear()  # an LRU cache over its size only evicts as it adds: start small

    @property
    def width(self) -> int:
        """The table's width in cells: each shown column with a cell of padding either side."""
        widths = self.model.widths
        return sum(widths[i] + 2 for i in self.columns if i < len(widths))

    def line(self, index: int, styles: LineStyles, console: Console) -> tuple[Strip, Style]:
        """Row ``index`` of the rows shown (-1: the header), and the style to extend it with."""
        if index < 0:
            return self._cached(("header",), lambda: self._header(styles.header)), styles.header
        model = self.model
        key = model.order[index]
        on_cursor = index == model.cursor
        marked = model.is_marked(key)
        style = styles.base + styles.marked if marked else styles.base
        if on_cursor:
            style += styles.cursor
        flashed = model.flashed.get(key)
        strip = self._cached(
            (key, model.revision(key), on_cursor, marked, flashed),
            lambda: self._row(model.rows[key], style, marked, flashed, styles.changed, console),
        )
        return strip, style  # the cursor (and a mark) runs the whole width of the table

    def _cached(self, key: tuple[object, ...], render: Callable[[], Strip]) -> Strip:
        strip = self._cache.get(key)
        if strip is None:
            strip = render()
            self._cache.set(key, strip)
            self.rendered += 1
        return strip

    def _header(self, style: Style) -> Strip:
        model = self.model
        segments: list[Segment] = []
        for i in self.columns:
            label = Text(model.labels[model.columns[i]])
            pad = " " * (model.widths[i] - label.cell_len)
            segments.append(Segment(f" {label.plain}{pad} ", style + _column_meta(i)))
        return Strip(segments, self.width)

    def _row(
        self,
        row: Row,
        style: Style,
        marked: bool,
        flashed: frozenset[int] | None,
        changed: Style,
        console: Console,
    ) -> Strip:
        # Cells keep their own colours over the row's (cursor, mark), as DataTable's
        # "renderable" priority did. A changed cell's highlight is a background over all of it.
        widths = self.model.widths
        segments: list[Segment] = []
        for n, i in enumerate(self.columns):
            # Each cell's segments carry its column (as meta), so that they are never merged
            # with a neighbour's: an exported screenshot then places every cell on its column.
            cell_style = style + _column_meta(i)
            post = changed if flashed is not None and i in flashed else None
            lead = MARK_GLYPH if marked and n == 0 else " "
            segments.append(Segment(lead, cell_style + _BOLD if lead != " " else cell_style))
            segments.extend(_cell(as_text(row.cells[i]), widths[i], console, cell_style, post))
            segments.append(Segment(" ", cell_style))
        return Strip(segments, self.width)


@lru_cache(maxsize=64)
def _column_meta(i: int) -> Style:
    return Style.from_meta({"column": i})


def _cell(text: Text, width: int, console: Console, style: Style, post: Style | None) -> list[Segment]:
    """One cell's content, justified as its Text asks within ``width`` cells."""
    length = text.cell_len
    if length > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
        length = text.cell_len
    gap = width - length
    left = gap if text.justify == "right" else gap // 2 if text.justify == "center" else 0
    pad_style = style + post if post is not None else style
    out: list[Segment] = []
    if left:
        out.append(Segment(" " * left, pad_style))
    if text.spans:
        out.extend(Segment.apply_style(text.render(console), style, post))
    elif text.plain:
        # Text.render leaves out the Text's own style when it has no spans (rich applies it
        # around the call): a number's colour lives there.
        own = console.get_style(text.style, default=Style.null()) if text.style else Style.null()
        out.append(Segment(text.plain, style + own + post if post is not None else style + own))
    if gap - left:
        out.append(Segment(" " * (gap - left), pad_style))
    return out
