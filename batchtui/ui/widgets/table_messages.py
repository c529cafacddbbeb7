"""What a KeyedTable tells its screen (``KeyedTable.Chosen``, handled as ``on_keyed_table_chosen``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from batchtui.ui.widgets.keyed_table import KeyedTable


class _TableMessage(Message, namespace="keyed_table"):
    def __init__(self, table: KeyedTable) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> KeyedTable:
        return self.table


class Chosen(_TableMessage, namespace="keyed_table"):
    """Enter was pressed on a row (or the cursor row was clicked)."""

    def __init__(self, table: KeyedTable, key: str) -> None:
        super().__init__(table)
        self.key = key


class Highlighted(_TableMessage, namespace="keyed_table"):
    """The cursor is on another row: another key, or the same key at another position."""

    def __init__(self, table: KeyedTable, key: str, row: int) -> None:
        super().__init__(table)
        self.key = key
        self.row = row


class ViewChanged(_TableMessage, namespace="keyed_table"):
    """What the table shows changed (rows, filter, trouble-only, sort or marks): titles recount."""
