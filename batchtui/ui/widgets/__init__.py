"""Widgets shared by the dashboard's screens."""

from batchtui.ui.widgets.count_bar import CountBar
from batchtui.ui.widgets.keyed_table import KeyedTable, Row
from batchtui.ui.widgets.status_line import StatusLine

__all__ = ["CountBar", "KeyedTable", "Row", "StatusLine"]
