"""What every live screen shares: its poller's handle, the status line, the k9s-style keys.

A screen states what it shows by opening a poller on the app's refresh engine
(:meth:`PollingScreen.make_poller`); the engine polls on its own pace and every result comes
back as a :class:`Refreshed` message holding an immutable snapshot, applied by
:meth:`PollingScreen.apply`. Screens never call the client. A screen covered by another full
screen is skipped by the engine until it shows again; under a modal it keeps refreshing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Static

from batchtui.batch.errors import BatchClientError
from batchtui.refresh.engine import Pace, Poller, PollHandle
from batchtui.ui.messages import FetchFailed
from batchtui.ui.screens.help import HelpScreen, help_entries
from batchtui.ui.text import clean
from batchtui.ui.widgets.alert_bar import AlertBar
from batchtui.ui.widgets.keyed_table import KeyedTable
from batchtui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from batchtui.refresh.account import Account
    from batchtui.ui.app import BatchApp


@dataclass
class Refreshed(Message):
    """A poller's new snapshot, for the screen that opened it."""

    snapshot: object

    def can_replace(self, message: Message) -> bool:
        # A newer snapshot supersedes a queued older one: never paint stale data twice.
        return isinstance(message, Refreshed)


class TitleBar(Static):
    """Where am I (breadcrumbs) and what does the table show (count, filter, sort)."""

    DEFAULT_CSS = """
    TitleBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $primary 30%;
        color: $foreground;
    }
    """


class PollingScreen(Screen[None]):
    """Base of the live screens; subclasses implement ``compose_body`` and ``fetch``."""

    DEFAULT_CSS = """
    PollingScreen {
        layout: vertical;
        & #filter-box { display: none; height: 1; }
        &.-filtering #filter-box { display: block; }
        /* Last good data stays on screen, dimmed, while a refresh fails or it is stale. */
        &.-stale KeyedTable { tint: $background 35%; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", tooltip="Filter the table by text (k9s style)"),
        Binding("ctrl+z", "trouble", "Trouble", tooltip="Show only rows in trouble (again: all rows)"),
        Binding("s", "sort", "Sort", tooltip="Next sort order; again: the same sort reversed"),
        Binding("ctrl+r", "refresh_now", "Refresh", tooltip="Refresh now", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("p", "pause", "Pause", tooltip="Pause or resume the automatic refresh"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("escape", "back", "Back / clear filter, marks", show=False),
        Binding("q", "quit_or_back", "Quit/back"),
    ]

    #: first words of the help screen's title and of the palette's command help
    help_title: ClassVar[str] = "this screen"

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.is_paused = False
        self._gone = False  # what it shows no longer exists: it goes back (once) when shown
        self._left = False
        self.handle: PollHandle[object] | None = None
        self.account: Account | None = None  # whose engine polls for it (set on mount)

    @property
    def batch_app(self) -> BatchApp:
        """The app, typed: every live screen runs inside a BatchApp."""
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        return app

    # What tests and the status line read of the loop.
    @property
    def fetches(self) -> int:
        """Completed polls (tests wait on it)."""
        return self.handle.polls if self.handle else 0

    @property
    def backoff_steps(self) -> int:
        return self.handle.pacer.steps if self.handle else 0

    @property
    def next_wait(self) -> float:
        """How long the engine waits after the last poll."""
        return self.handle.pace.wait if self.handle else 0.0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        yield from self.compose_body()
        yield AlertBar()
        yield Input(
            id="filter-box",
            placeholder="filter: type to narrow; enter keeps it, escape clears it",
            compact=True,
        )
        app = self.batch_app
        yield StatusLine(
            app.account_label, app.refresh_interval, now=app.now, monotonic=app.monotonic, id="status"
        )
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError
        yield  # pragma: no cover

    def crumbs(self) -> Sequence[str]:
        """Where this screen is, as plain parts ("jobs", a job id, "tasks")."""
        return (self.help_title,)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def table(self) -> KeyedTable:
        """The table the filter, sort and trouble keys act on."""
        return self.query_one(KeyedTable)

    def account_label(self) -> str:
        return self.batch_app.account_label

    def refresh_interval(self) -> float:
        """The interval this screen's poller is on now (slower once what it shows is done)."""
        base = self.batch_app.refresh_interval
        return self.handle.poller.interval(base) if self.handle else base

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())
        self.update_title()
        self.account = self.batch_app.account
        self.handle = self.account.engine.open(
            self.make_poller(),
            lambda snapshot: self.post_message(Refreshed(snapshot)),
            lambda error, at: self.post_message(FetchFailed(error, at)),
            on_pace=self._show_pace,
            active=lambda: not self.covered(),
        )

    def on_unmount(self) -> None:
        if self.handle is not None:
            self.handle.close()

    # ------------------------------------------------------------------ the poller

    def make_poller(self) -> Poller[object]:
        """What this screen shows, as a poller for the engine."""
        raise NotImplementedError

    def apply(self, snapshot: object) -> None:
        """Show a snapshot from this screen's poller."""
        raise NotImplementedError

    def on_refreshed(self, message: Refreshed) -> None:
        message.stop()
        self.apply(message.snapshot)

    def refresh_now(self, reason: str = "now") -> None:
        """Poll now (coalesces with one already asked for)."""
        if self.handle is not None:
            self.handle.refresh_now(reason)

    def covered(self) -> bool:
        """Another full screen is on top of this one (its pollers skip their turns)."""
        return self._covered()

    def _covered(self) -> bool:
        # Under a modal (help, palette) we keep refreshing; under another full screen we do not.
        try:
            top = self.app.screen
        except Exception:  # no screen yet / app closing
            return False
        return top is not self and not isinstance(top, ModalScreen)

    def _show_pace(self, pace: Pace) -> None:
        try:
            status = self.status
        except NoMatches:  # the screen is going away
            return
        status.interval = pace.interval
        status.slowing_down(pace.trouble, pace.wait)

    def now(self) -> datetime:
        return self.batch_app.now()

    def on_fetch_failed(self, message: FetchFailed) -> None:
        if not isinstance(message.error, BatchClientError):
            self.log.error(f"refresh failed unexpectedly: {message.error!r}")
        self.status.failed(message.error, message.at)

    def on_screen_resume(self) -> None:
        if self._gone:
            self._leave()
        # Back from a sub-screen: show fresh data at once rather than after a full interval.
        if self.fetches:
            self.refresh_now()

    def went_away(self, text: str | None, title: str) -> None:
        """What this screen shows was deleted: say so once (``text`` None: a screen under it
        says it), and go back, now if it is on top, else when it is shown again."""
        if not self._gone:
            self._gone = True
            if text is not None:
                self.notify(text, title=title, severity="warning", markup=False)
        if self.is_active:
            self._leave()

    def _leave(self) -> None:
        # Several failed refreshes can be queued behind the first: go back once, not once per
        # failure (a second pop would take the screen under it too).
        if not self._left:
            self._left = True
            self.app.pop_screen()

    def restyle(self) -> None:
        """The theme changed: rebuild anything whose colours were baked into cells."""
        for table in self.query(KeyedTable):
            table.restyle()

    # ------------------------------------------------------------------ title

    def view_summary(self) -> str:
        try:
            t = self.table
        except NoMatches:
            return ""
        parts = [
            f"{t.visible_count:,} of {t.total_count:,}"
            if t.visible_count != t.total_count
            else f"{t.total_count:,}"
        ]
        if t.filter_text:
            parts.append(f'filter "{clean(t.filter_text)}"')
        if t.trouble_only:
            parts.append("trouble only")
        if t.sort_name:
            parts.append(f"sort: {t.sort_label}")
        if t.marked_keys:
            parts.append(f"{len(t.marked_keys):,} marked")
        return " · ".join(parts)

    def update_title(self) -> None:
        crumbs = " › ".join(clean(c) for c in self.crumbs())
        summary = self.view_summary()
        content = Content.assemble((crumbs, "bold"), ("  " + summary if summary else "", "dim"))
        self.query_one("#title", TitleBar).update(content)

    def on_keyed_table_view_changed(self, _message: KeyedTable.ViewChanged) -> None:
        self.update_title()

    # ------------------------------------------------------------------ actions

    def action_refresh_now(self) -> None:
        self.refresh_now()

    def action_pause(self) -> None:
        self.is_paused = not self.is_paused
        self.status.paused(self.is_paused)
        if self.handle is not None:
            self.handle.set_paused(self.is_paused)

    def action_filter(self) -> None:
        box = self.query_one("#filter-box", Input)
        box.value = self.table.filter_text
        self.add_class("-filtering")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter-box":
            event.stop()
            self.table.filter_text = event.value
            self.update_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter-box":
            event.stop()
            self._close_filter_box()
            if self.table.visible_count:
                self.table.move_cursor(row=0)

    def _close_filter_box(self) -> None:
        self.remove_class("-filtering")
        self.table.focus()

    def action_trouble(self) -> None:
        self.table.trouble_only = not self.table.trouble_only
        self.update_title()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self.update_title()

    def action_choose(self) -> None:
        key = self.table.selected_key
        if key is not None:
            self.post_message(KeyedTable.Chosen(self.table, key))

    def action_help(self) -> None:
        from batchtui.ui.acting import ACTING

        budget = self.batch_app.engine.budget.budget()
        cost = budget.text if budget is not None else ""
        readonly = self.batch_app.readonly
        entries = help_entries(self, skip=ACTING if readonly else ())
        if readonly:
            entries.append(("", "read-only (--readonly): no action can be sent from here"))
        self.app.push_screen(HelpScreen(f"Keys: {self.help_title}", entries, cost))

    def chosen_keys(self) -> list[str]:
        """What an action acts on: the marked rows (filtered out or not), or else the selected one."""
        table = self.table
        if table.marked_keys:
            return list(table.marked_keys)
        key = table.selected_key
        return [key] if key is not None else []

    def marks_acted_on(self) -> None:
        """A confirmed action took the marked rows: the marks are spent."""
        if self.table.clear_marks():
            self.update_title()

    @property
    def is_home(self) -> bool:
        return len(self.app.screen_stack) <= 1

    def action_back(self) -> None:
        """escape: leave the filter box, clear the filter, trouble-only, the marks, then go back."""
        table = self.table
        if self.has_class("-filtering"):
            table.filter_text = ""
            self._close_filter_box()
        elif table.filter_text:
            table.filter_text = ""
        elif table.trouble_only:
            table.trouble_only = False
        elif table.marked_keys:
            table.clear_marks()
        elif not self.is_home:
            self.app.pop_screen()
            return
        self.update_title()

    def action_quit_or_back(self) -> None:
        if self.is_home:
            self.app.exit()
        else:
            self.app.pop_screen()

    def system_commands(self) -> Iterator[SystemCommand]:
        """The palette's versions of this screen's keys."""
        where = self.help_title
        yield SystemCommand("Refresh now", f"Fetch the {where} again now (ctrl+r)", self.action_refresh_now)
        yield SystemCommand("Pause / resume refresh", "Freeze the screen to read it (p)", self.action_pause)
        yield SystemCommand("Filter", f"Filter the {where} by text (/)", self.action_filter)
        yield SystemCommand("Trouble only", "Show only rows in trouble (ctrl+z)", self.action_trouble)
        yield SystemCommand("Cycle sort", "Next sort order, or the same one reversed (s)", self.action_sort)
        yield SystemCommand("Keys", f"The keys of the {where} screen (?)", self.action_help)
