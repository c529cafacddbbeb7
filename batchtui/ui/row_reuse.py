"""Rows rebuilt only where what they show changed.

A screen turns its snapshot into table rows on every refresh; most entities are as they were a
refresh ago (a 1,000-node pool, 5,000 tasks), and building a row costs theme lookups and Text
objects. :class:`RowReuse` keeps each key's last inputs and row: equal inputs give back the same
row object (so :class:`~batchtui.ui.widgets.keyed_table.KeyedTable` also skips its cells by
identity); only keys still listed are kept, so nothing accumulates. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from batchtui.ui.row_model import Row

I = TypeVar("I")  # noqa: E741 - the inputs a row is built from (compared with ==)


class RowReuse(Generic[I]):
    def __init__(self) -> None:
        self._last: dict[str, tuple[I, Row]] = {}

    def rows(self, items: Iterable[tuple[str, I]], build: Callable[[I], Row]) -> list[Row]:
        """Each key's row: the last one when its inputs are equal, else ``build(inputs)``."""
        kept: dict[str, tuple[I, Row]] = {}
        rows: list[Row] = []
        for key, inputs in items:
            hit = self._last.get(key)
            row = hit[1] if hit is not None and hit[0] == inputs else build(inputs)
            kept[key] = (inputs, row)
            rows.append(row)
        self._last = kept
        return rows

    def clear(self) -> None:
        """Forget every row (the theme changed: the colours are baked into the cells)."""
        self._last.clear()
