"""What every live screen shares: the poll loop, the status line, the k9s-style keys.

One long-lived, exclusive worker loop per screen (pattern B): fetch, post typed messages,
wait ``refresh_interval`` or until woken (``ctrl+r``, a focus change). Textual cancels the
worker when the screen is removed, so a popped screen stops polling by itself; a screen
covered by another full screen skips its fetches until it shows again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Static

from batchtui.ui.messages import FetchFailed
from batchtui.ui.screens.help import HelpScreen, help_entries
from batchtui.ui.text import clean
from batchtui.ui.widgets.keyed_table import KeyedTable
from batchtui.ui.widgets.status_line import StatusLine

# Failures the poll loop answers by waiting longer than its interval: (first factor, largest
# factor, cap in seconds). A 429 is the service asking this client to slow down; a rejected
# credential will not fix itself within seconds, so hammering only fills the service's (and
# the operator's) logs. Each further failure doubles the wait; the first clean refresh returns
# to normal. Outages (refused, 503, 5xx) are not here: the client already honours Retry-After,
# and the dashboard must be back within one interval of the service.
BACKOFF: dict[str, tuple[float, float, float]] = {
    "throttled": (2.0, 8.0, 120.0),
    "auth": (4.0, 64.0, 300.0),
}


def paced_wait(base: float, trouble: str | None, step: int) -> float:
    """The wait after the ``step``-th consecutive refresh (1-based) that ran into ``trouble``."""
    if trouble not in BACKOFF or step < 1:
        return base
    first, most, cap = BACKOFF[trouble]
    return max(base, min(base * first * 2 ** min(step - 1, 30), base * most, cap))


def trouble_of(error: BaseException | None, rate_limited: bool) -> str | None:
    """Which backoff (if any) a refresh's outcome calls for."""
    from batchtui.batch.errors import BatchClientError, BatchServiceError

    if isinstance(error, BatchClientError) and error.kind == "auth":
        return "auth"
    if rate_limited or (isinstance(error, BatchServiceError) and error.status == 429):
        return "throttled"
    return None


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
        self.tick_reason = "timer"  # why the current fetch runs: "timer", "now" or a subclass reason
        self.fetches = 0  # completed fetch attempts (tests wait on it)
        self._wake = asyncio.Event()
        self._reason = "timer"
        self.backoff_steps = 0  # how far the pace is slowed down (0: the normal interval)
        self._trouble: str | None = None  # what slowed it down
        self.next_wait = 0.0  # how long the loop waits after the last refresh (tests read it)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        yield from self.compose_body()
        yield Input(
            id="filter-box",
            placeholder="filter: type to narrow; enter keeps it, escape clears it",
            compact=True,
        )
        yield StatusLine(self.account_label(), self.refresh_interval(), id="status")
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
        return str(getattr(self.app, "account_label", "") or "")

    def refresh_interval(self) -> float:
        return float(getattr(self.app, "refresh_interval", 5.0))

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.restyle())
        self.update_title()
        self.run_worker(
            self._poll_loop(),
            group=f"poll-{type(self).__name__}",
            exclusive=True,
            exit_on_error=False,
            name=f"poll {self.help_title}",
        )

    # ------------------------------------------------------------------ the loop

    async def fetch(self) -> None:
        """Do this screen's I/O and post typed messages; raise BatchClientError on failure."""
        raise NotImplementedError

    def refresh_now(self, reason: str = "now") -> None:
        """Wake the loop for a fetch now (coalesces with one already asked for)."""
        if self._wake.is_set() and self._reason == "now":
            return
        self._reason = reason
        self._wake.set()

    def _covered(self) -> bool:
        # Under a modal (help, palette) we keep refreshing; under another full screen we do not.
        try:
            top = self.app.screen
        except Exception:  # no screen yet / app closing
            return False
        return top is not self and not isinstance(top, ModalScreen)

    async def _poll_loop(self) -> None:
        reason = "timer"
        wait = self.refresh_interval()
        while True:
            self._wake.clear()
            if reason != "timer" or not (self.is_paused or self._covered()):
                self.tick_reason = reason
                stats = getattr(getattr(self.app, "client", None), "stats", None)
                limited = getattr(stats, "rate_limited", 0)
                error: BaseException | None = None
                try:
                    await self.fetch()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                    error = exc
                    if not isinstance(exc, self._expected_errors()):
                        self.log.error(f"refresh failed unexpectedly: {exc!r}")
                    self.post_message(FetchFailed(exc, self.now()))
                self.fetches += 1
                wait = self._pace(trouble_of(error, getattr(stats, "rate_limited", 0) > limited))
            elif not self.backoff_steps:
                wait = self.refresh_interval()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
                reason = self._reason
                self._reason = "timer"
            except TimeoutError:
                reason = "timer"

    def _pace(self, trouble: str | None) -> float:
        """The wait before the next refresh: the interval, or longer while throttled or refused."""
        base = self.refresh_interval()
        if trouble in BACKOFF:
            self.backoff_steps += 1
            self._trouble = trouble
        elif self.backoff_steps:
            # Credentials that work again work: back to normal at once. Throttling eases off
            # a step per clean refresh, or a storm's lucky moment would bring the full pace
            # (and the next round of 429s) straight back.
            self.backoff_steps = 0 if self._trouble == "auth" else self.backoff_steps - 1
        wait = paced_wait(base, self._trouble, self.backoff_steps)
        self._show_slowdown(self._trouble if wait > base else None, wait)
        self.next_wait = wait
        return wait

    def _show_slowdown(self, why: str | None, wait: float) -> None:
        try:
            self.status.slowing_down(why, wait)
        except NoMatches:  # the screen is going away
            pass

    @staticmethod
    def _expected_errors() -> tuple[type[BaseException], ...]:
        from batchtui.batch.errors import BatchClientError

        return (BatchClientError,)

    def now(self):  # type: ignore[no-untyped-def]
        return self.status.now()

    def on_fetch_failed(self, message: FetchFailed) -> None:
        self.status.failed(message.error, message.at)

    def on_screen_resume(self) -> None:
        # Back from a sub-screen: show fresh data at once rather than after a full interval.
        if self.fetches:
            self.refresh_now()

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
        if not self.is_paused:
            self.refresh_now()

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
        self.app.push_screen(HelpScreen(f"Keys: {self.help_title}", help_entries(self)))

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
