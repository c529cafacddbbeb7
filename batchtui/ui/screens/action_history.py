"""The actions of this session, newest first: when, what, on which entity, how it ended, and the
request id to quote to support (the same lines go to ``--log``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from batchtui.refresh.actions import ActionRecord
from batchtui.ui.text import clean

_OUTCOME_STYLE = {"done": "$success", "refused": "$error", "unknown": "$warning", "read-only": "$warning"}


def history_lines(records: Sequence[ActionRecord]) -> list[Content]:
    """Two lines per record, newest first: what was done to which entity and how it ended, then
    the service's words and the request id."""
    lines = []
    for r in reversed(records):
        lines.append(
            Content.assemble(
                (f"{r.at:%H:%M:%S}", "$text-muted"),
                "  ",
                (clean(r.action), "bold"),
                " ",
                clean(r.target),
                "  ",
                (r.outcome, f"bold {_OUTCOME_STYLE.get(r.outcome, '')}"),
            )
        )
        rid = f"  (request-id {r.request_id})" if r.request_id else ""
        lines.append(Content.assemble("          ", clean(r.message), (rid, "$text-muted")))
    return lines


class ActionHistoryScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ActionHistoryScreen { align: center middle; background: $background 60%; }
    ActionHistoryScreen > Vertical {
        width: 90%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ActionHistoryScreen #history-title { text-style: bold; color: $primary; padding-bottom: 1; }
    ActionHistoryScreen VerticalScroll { height: auto; max-height: 100%; }
    ActionHistoryScreen #history-foot { color: $foreground-muted; padding-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
        Binding("H", "dismiss", "Close", show=False),
    ]

    def __init__(self, records: Sequence[ActionRecord], *, readonly: bool = False) -> None:
        super().__init__()
        self.records = tuple(records)
        self.readonly = readonly

    def compose(self) -> ComposeResult:
        lines = history_lines(self.records)
        with Vertical():
            yield Static(Content("Action history, newest first"), id="history-title")
            with VerticalScroll():
                if lines:
                    yield Static(Content("\n").join(lines), id="history-lines")
                else:
                    yield Static(
                        Content.styled("No action yet in this session.", "$text-muted"), id="history-lines"
                    )
            foot = "escape, q or H closes"
            if self.readonly:
                foot = "read-only (--readonly): no action is sent from this batchtui · " + foot
            yield Static(Content(foot), id="history-foot")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
