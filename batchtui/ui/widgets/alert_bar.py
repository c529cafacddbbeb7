"""The alerts not yet acknowledged, on every screen, until ``a`` (or the palette) clears them.

On a screen where ``a`` already means something (the tasks screen's "all tasks"), ``A``
acknowledges, and the bar names the key that works where it is shown.

One line: how many, the newest with its time and account, and the key that clears them. Hidden
while there are none. It listens to the app's alert signal, so it needs no refresh of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from batchtui.ui.text import clean
from batchtui.ui.when import when_text

if TYPE_CHECKING:
    from batchtui.ui.alerts import Alert


def _keys(binding: BindingType) -> list[str]:
    keys = binding.key if isinstance(binding, Binding) else binding[0]
    return [k.strip() for k in keys.split(",")]


def acknowledge_key(screen: Screen[object]) -> str:
    """``a``, unless the screen binds it to something of its own (then ``A``)."""
    for cls in type(screen).__mro__:
        for binding in getattr(cls, "BINDINGS", ()):
            if "a" in _keys(binding):
                return "A"
    return "a"


class AlertBar(Static):
    DEFAULT_CSS = """
    AlertBar {
        height: 1;
        padding: 0 1;
        display: none;
        background: $error 30%;
        color: $foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = "alert-bar") -> None:
        super().__init__(id=id)
        self.alerts: tuple[Alert, ...] = ()

    def on_mount(self) -> None:
        from batchtui.ui.app import BatchApp

        app = self.app
        if isinstance(app, BatchApp):
            app.alerts.changed.subscribe(self, self.show)
            self.show(tuple(app.alerts.shown))

    def show(self, alerts: Sequence[Alert]) -> None:
        self.alerts = tuple(alerts)
        self.set_class(bool(self.alerts), "-shown")
        if not self.alerts:
            self.update("")
            return
        newest = self.alerts[0]
        e = newest.event
        many = len(self.alerts) > 1
        several_accounts = len({a.account for a in self.alerts}) > 1 or self._accounts() > 1
        where = f"{clean(newest.account)}: " if several_accounts else ""
        head = f"⚠ {len(self.alerts)} alerts · " if many else "⚠ "
        self.update(
            Content.assemble(
                (head, "bold"),
                (f"{when_text(self, e.at)} ", "dim"),
                f"{where}{clean(e.message)}",
                (f"   {acknowledge_key(self.screen)}: acknowledge · e: feed", "dim"),
            )
        )

    def _accounts(self) -> int:
        accounts = getattr(self.app, "accounts", ())
        return len(accounts)
