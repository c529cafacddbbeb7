"""``e`` (or ``:feed``, or the palette): what changed lately, newest first, each with its time.

A modal over the screen it was opened from, so that screen keeps refreshing and the feed grows
while it is open. Every account's transitions (jobs created, completed, disabled, terminated,
gone; failures rising; a rank failing while the others run; an account offline and back),
merged by time and capped. Everything in it came from the service: shown as text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from batchtui.refresh.events import FEED_LEN, Event
from batchtui.ui.text import clean
from batchtui.ui.when import when_text

if TYPE_CHECKING:
    from batchtui.refresh.account import Account

_KIND_STYLE = {
    "task-failed": "bold $error",
    "rank-failed": "bold $error",
    "account-offline": "bold $warning",
    "job-terminated": "$warning",
    "job-disabled": "$warning",
    "job-completed": "$success",
    "account-online": "$success",
}


def merged_feed(accounts: Sequence[Account], limit: int = FEED_LEN) -> list[tuple[str, Event]]:
    """(account name, event) of every account, newest first."""
    rows = [(a.name, e) for a in accounts for e in a.detector.feed]
    rows.sort(key=lambda r: r[1].at, reverse=True)
    return rows[:limit]


class FeedScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    FeedScreen { align: center middle; background: $background 60%; }
    FeedScreen > Vertical {
        width: 90%;
        height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    FeedScreen #feed-title { text-style: bold; color: $primary; }
    FeedScreen #feed-foot { color: $foreground-muted; }
    FeedScreen VerticalScroll { height: 1fr; }
    FeedScreen #feed-lines { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
        Binding("e", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("Changes, newest first"), id="feed-title")
            with VerticalScroll():
                yield Static(id="feed-lines")
            yield Static(Content("escape, q or e closes · a acknowledges the alerts"), id="feed-foot")

    def on_mount(self) -> None:
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        app.alerts.fed.subscribe(self, lambda _none: self.show())
        self.show()

    def lines(self) -> list[Content]:
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        several = len(app.accounts) > 1
        out: list[Content] = []
        for name, event in merged_feed(app.accounts):
            out.append(
                Content.assemble(
                    (when_text(self, event.at).ljust(8), "$foreground-muted"),
                    "  ",
                    (f"{clean(name)}  " if several else "", "bold"),
                    (event.kind.ljust(15), _KIND_STYLE.get(event.kind, "")),
                    " ",
                    clean(event.message),
                )
            )
        return out

    def show(self) -> None:
        lines = self.lines()
        body = (
            Content("\n").join(lines) if lines else Content.styled("nothing has changed yet", "$text-muted")
        )
        self.query_one("#feed-lines", Static).update(body)
        title = f"Changes, newest first ({len(lines)})" if lines else "Changes"
        self.query_one("#feed-title", Static).update(Content(title))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
