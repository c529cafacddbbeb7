"""The table stands on Textual's public API only, so a Textual release cannot break it silently.

Its modules import no private Textual module (``textual._...``), and every ``_``-prefixed
attribute they touch is one of their own: none is defined by a Textual class the widget
inherits from (reading or writing those is what pinned ``textual<9`` before), and none of
their own shadows one.
"""

from __future__ import annotations

import ast
from pathlib import Path

from textual.scroll_view import ScrollView

import batchtui.ui.row_model as row_model
import batchtui.ui.widgets.keyed_table as keyed_table
import batchtui.ui.widgets.table_lines as table_lines
import batchtui.ui.widgets.table_messages as table_messages
from batchtui.ui.widgets.keyed_table import KeyedTable

MODULES = [keyed_table, table_lines, table_messages, row_model]


def _tree(module: object) -> ast.Module:
    path = Path(module.__file__)  # type: ignore[attr-defined]
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _textual_names() -> set[str]:
    """Every attribute a Textual base class of the widget defines, or sets on an instance."""
    names = {n for cls in KeyedTable.__mro__ if cls.__module__.startswith("textual") for n in vars(cls)}
    return names | set(vars(ScrollView()))


def private_imports(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        found += [n for n in names if n.split(".")[0] == "textual" and any(map(_private, n.split(".")))]
    return found


def foreign_attributes(trees: list[ast.Module]) -> list[str]:
    """``_`` attributes touched that are Textual's, or that no class of these modules defines."""
    textual = _textual_names()
    own: set[str] = set()
    touched: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and _private(node.name):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                touched.add(node.attr)
                if isinstance(node.ctx, ast.Store):
                    own.add(node.attr)
    return sorted(n for n in touched if n in textual or n not in own)


def test_no_private_textual_module_is_imported() -> None:
    for module in MODULES:
        assert private_imports(_tree(module)) == [], module.__name__


def test_only_its_own_private_attributes_are_touched() -> None:
    trees = [_tree(m) for m in MODULES]
    assert any(isinstance(n, ast.Attribute) and _private(n.attr) for t in trees for n in ast.walk(t))
    assert foreign_attributes(trees) == []


def test_the_checks_catch_what_the_old_table_did() -> None:
    old = ast.parse(
        "from textual._two_way_dict import TwoWayDict\n"
        "class T(ScrollView):\n"
        "    def f(self):\n"
        "        self._size = None\n"  # Textual's, even when written
        "        self._refresh_scrollbars()\n"  # Textual's
        "        self._data[1] = 2\n"  # defined nowhere here: someone else's
    )
    assert private_imports(old) == ["textual._two_way_dict", "textual._two_way_dict.TwoWayDict"]
    assert foreign_attributes([old]) == ["_data", "_refresh_scrollbars", "_size"]
