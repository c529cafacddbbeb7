"""Home with several accounts (``--profile`` given more than once, ``--all-profiles``).

One row per account: its active jobs, running tasks, failures in the last hour, its status
(ok, throttled, offline, sign-in failed) and how old its data is. Enter opens an account's
jobs (``:ctx NAME`` and the palette too); escape there comes back here. The screen reads
nothing itself: each account is read by its own engine (its watch while no jobs screen of it
shows), and the rows are redrawn after each account's poll and every second for the ages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from batchtui.refresh.account import Account, AccountSummary
from batchtui.ui.text import clean, fmt_count, fmt_duration, literal
from batchtui.ui.widgets.alert_bar import AlertBar
from batchtui.ui.widgets.keyed_table import KeyedTable, Row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Account"),
    ("status", "Status"),
    ("jobs", "Jobs"),
    ("active", "Active jobs"),
    ("running", "Running tasks"),
    ("failed", "Failed (1 h)"),
    ("age", "Data age"),
    ("endpoint", "Endpoint"),
)
_STATUS_STYLE = {
    "ok": "succeeded",
    "waiting": "dim",
    "throttled": "warning",
    "offline": "failed",
    "sign-in failed": "failed",
    "error": "failed",
}


def _number(value: int | None, style: object = "") -> Text:
    return Text("·" if value is None else fmt_count(value), style=style if value else "", justify="right")  # type: ignore[arg-type]


class AccountsScreen(Screen[None]):
    DEFAULT_CSS = """
    AccountsScreen { layout: vertical; }
    AccountsScreen #accounts-title { height: 1; padding: 0 1; background: $primary 30%; }
    AccountsScreen #accounts { height: 1fr; }
    AccountsScreen #accounts-detail { height: auto; padding: 0 1; color: $foreground-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "refresh_now", "Refresh", tooltip="Read every account now", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("q", "quit", "Quit"),
    ]
    help_title: ClassVar[str] = "accounts"

    def compose(self) -> ComposeResult:
        yield Static(id="accounts-title")
        yield KeyedTable(id="accounts")
        yield Static(id="accounts-detail")
        yield AlertBar()
        yield Footer(compact=True)

    @property
    def accounts(self) -> list[Account]:
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        return app.accounts

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def on_mount(self) -> None:
        from batchtui.ui.app import BatchApp

        table = self.table
        table.set_columns(COLUMNS)
        table.set_quiet_columns(["age"])
        table.focus()
        app = self.app
        assert isinstance(app, BatchApp)
        app.polled.subscribe(self, lambda _account: self.show())
        self.set_interval(1.0, self.show, name="ages")
        self.show()

    def on_screen_resume(self) -> None:
        self.show()

    def show(self) -> None:
        summaries = [(a, a.summary()) for a in self.accounts]
        self.table.apply_rows(list(self._rows(summaries)), flash=False)
        ok = sum(1 for _, s in summaries if s.status == "ok")
        self.query_one("#accounts-title", Static).update(
            Content.assemble(("accounts", "bold"), (f"  {len(summaries)} open · {ok} ok", "dim"))
        )
        self._show_detail()

    def _rows(self, summaries: Iterable[tuple[Account, AccountSummary]]) -> Iterable[Row]:
        style = self.table.state_style
        for n, (account, s) in enumerate(summaries):
            status = Text(s.status, style=style(_STATUS_STYLE.get(s.status, "warning")))
            age = "" if s.age is None else fmt_duration(s.age)
            yield Row(
                key=account.name,
                cells=(
                    literal(account.name, limit=30),
                    status,
                    _number(s.jobs),
                    _number(s.active_jobs, style("active")),
                    _number(s.running_tasks, style("running")),
                    _number(s.failed_last_hour, style("failed")),
                    Text(age, justify="right"),
                    literal(account.client.endpoint, limit=48),
                ),
                sort_values={"": n},
                trouble=s.status not in ("ok", "waiting") or bool(s.failed_last_hour),
                search=account.name,
            )

    def _show_detail(self) -> None:
        key = self.table.selected_key
        account = next((a for a in self.accounts if a.name == key), None)
        detail = self.query_one("#accounts-detail", Static)
        if account is None:
            detail.update("")
            return
        s = account.summary()
        text = f"{clean(account.label)}: {s.status}"
        if s.problem:
            text += f" — {clean(s.problem)}"
        detail.update(Content(text + "   enter: open · :ctx NAME switches · e: feed"))

    def on_keyed_table_view_changed(self, _message: KeyedTable.ViewChanged) -> None:
        self._show_detail()

    def on_data_table_row_highlighted(self, _event: object) -> None:
        self._show_detail()

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        message.stop()
        self._open(message.key)

    def _open(self, name: str) -> None:
        from batchtui.ui.app import BatchApp
        from batchtui.ui.commands import CommandError

        app = self.app
        assert isinstance(app, BatchApp)
        try:
            app.open_account(name)
        except CommandError as exc:
            self.notify(str(exc), severity="warning", markup=False)

    def action_refresh_now(self) -> None:
        for account in self.accounts:
            account.engine.refresh_all()
