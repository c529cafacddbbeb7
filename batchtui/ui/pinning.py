"""Pinned jobs in the jobs table: a mark before the id, and first in every sort.

Kept apart from the jobs screen so the row it builds stays the screen's own: a pinned row is
that row with a mark and with every sort value led by "pinned first".
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text

from batchtui.ui.widgets.keyed_table import Row

PIN_MARK = "★ "


def pin_row(row: Row, pinned: bool, *, style: Callable[[str], Style]) -> Row:
    """``row`` sorted among the pinned (first) or the others, with the mark when pinned."""
    cells = row.cells
    if pinned and cells:
        first = cells[0]
        marked = Text(PIN_MARK, style=style("warning"), end="")
        marked.append_text(first if isinstance(first, Text) else Text(str(first)))
        cells = (marked, *cells[1:])
    sort_values = {name: (not pinned, value) for name, value in row.sort_values.items()}
    return Row(row.key, cells, sort_values, row.trouble, row.search)
