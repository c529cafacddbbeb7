"""``:``: a one-line prompt at the bottom for a command (k9s style), with completion.

A modal, so the screen underneath keeps refreshing while the operator types. Escape closes it;
Enter runs the command (see :mod:`batchtui.ui.navigate`) or says in place what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from batchtui.ui.commands import COMMANDS, CommandError, Known, complete, parse


class _Completion(Suggester):
    def __init__(self, known: Known) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.known = known

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.known)


class CommandLine(ModalScreen[str | None]):
    """Dismissed with the command text (parsed and valid), or None."""

    DEFAULT_CSS = """
    CommandLine {
        align: left bottom;
        background: $background 0%;
    }
    CommandLine > Vertical {
        height: auto;
        width: 100%;
        background: $panel;
        padding: 0 1;
    }
    CommandLine #command-help { color: $text-muted; height: auto; }
    CommandLine #command-help.-error { color: $error; }
    CommandLine Input { border: none; height: 1; padding: 0; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("tab", "accept_completion", "Complete", show=False),
    ]

    def __init__(self, known: Known | None = None) -> None:
        super().__init__()
        self.known: Known = known or _nothing

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._usage(), id="command-help")
            yield Input(
                placeholder=":command (tab completes)", suggester=_Completion(self.known), id="command"
            )

    @staticmethod
    def _usage() -> Content:
        return Content("  ".join(f":{c.usage}" for c in COMMANDS))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        help_line = self.query_one("#command-help", Static)
        help_line.remove_class("-error")
        help_line.update(self._usage())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            parse(event.value)
        except CommandError as exc:
            help_line = self.query_one("#command-help", Static)
            help_line.update(Content(str(exc)))  # Content: never parsed as markup
            help_line.add_class("-error")
            return
        self.dismiss(event.value)

    def action_accept_completion(self) -> None:
        box = self.query_one(Input)
        suggestion = complete(box.value, self.known)
        if suggestion is not None:
            box.value = suggestion
            box.cursor_position = len(suggestion)

    def action_close(self) -> None:
        self.dismiss(None)


def _nothing(_arg: str, _before: Sequence[str]) -> Iterable[str]:
    return ()
