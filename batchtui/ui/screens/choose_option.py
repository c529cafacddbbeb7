"""Which way to do it: the option of a node action (reboot, disable scheduling, remove), picked
before the confirmation. Enter or the option's number picks; escape cancels. Nothing is sent
from here: the dismissal value is the service's option word, or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from batchtui.ui.screens.confirm import DecisionDialog
from batchtui.ui.text import clean


class ChooseOption(DecisionDialog[str | None]):
    DEFAULT_CSS = """
    ChooseOption #choose-title { text-style: bold; }
    ChooseOption OptionList { height: auto; max-height: 8; margin-top: 1; }
    ChooseOption #choose-keys { color: $text-muted; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        *(Binding(str(i), f"pick({i - 1})", show=False) for i in range(1, 10)),
    ]

    def __init__(self, title: str, options: Sequence[tuple[str, str]]) -> None:
        """``options``: (the service's option word, what it does), the default first."""
        super().__init__()
        self.title_text = title
        self.options = list(options)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(clean(self.title_text)), id="choose-title")
            yield OptionList(
                *(
                    Option(Content(f"{i}  {clean(word)}: {clean(hint)}"), id=word)
                    for i, (word, hint) in enumerate(self.options, 1)
                ),
                id="choose-options",
            )
            yield Static(Content("enter or a number: choose    escape: cancel"), id="choose-keys")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_pick(self, index: int) -> None:
        if 0 <= index < len(self.options):
            self.dismiss(self.options[index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
