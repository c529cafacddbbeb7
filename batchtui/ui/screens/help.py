"""``?``: the keys of the screen it was opened from (k9s-style, only what works here)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

# Bindings that exist but mean nothing to an operator of row tables.
_NOISE = {
    "cursor_left",
    "cursor_right",
    "page_left",
    "page_right",
    "scroll_home",
    "scroll_end",
    "app.focus_next",
    "app.focus_previous",
    "focus_next",
    "focus_previous",
    "copy_text",
    "screen.copy_text",
    "app.copy_text",
}


def help_entries(screen: Screen[Any], skip: Collection[str] = ()) -> list[tuple[str, str]]:
    """(keys, description) for every described binding active on ``screen``, keys merged per
    action; ``skip``: actions left out (the account-changing ones under read-only)."""
    app = screen.app
    merged: dict[tuple[int, str], tuple[list[str], str]] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.system or binding.action in _NOISE or binding.action in skip:
            continue
        ident = (id(active.node), binding.action)
        keys, _ = merged.setdefault(ident, ([], binding.description))
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(" ".join(keys), desc) for keys, desc in merged.values()]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    HelpScreen > Vertical {
        width: auto;
        max-width: 90%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $primary; padding-bottom: 1; width: auto; }
    HelpScreen VerticalScroll { height: auto; max-height: 100%; width: auto; }
    HelpScreen #help-keys { width: auto; }
    HelpScreen #help-foot { color: $foreground-muted; padding-top: 1; width: auto; }
    HelpScreen #help-cost { color: $foreground-muted; padding-top: 1; width: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, title: str, entries: Sequence[tuple[str, str]], cost: str = "") -> None:
        """``cost``: what the dashboard costs the account ("4.0 requests and 12 KiB a minute")."""
        super().__init__()
        self.help_title = title
        self.entries = tuple(entries)
        self.cost = cost

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.entries), default=0)
        lines: list[Content] = []
        for keys, desc in self.entries:
            lines.append(Content.assemble((keys.ljust(width), "bold $accent"), "  ", desc))
        with Vertical():
            yield Static(Content(self.help_title), id="help-title")
            with VerticalScroll():
                yield Static(Content("\n").join(lines), id="help-keys")
            if self.cost:
                yield Static(Content(f"cost to the account: {self.cost}"), id="help-cost")
            yield Static(Content("escape, q or ? closes this help"), id="help-foot")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
