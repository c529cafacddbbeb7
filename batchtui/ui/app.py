"""The Textual application: one or more Batch accounts, a stack of live screens, themes, alerts.

Each account (:class:`~batchtui.refresh.account.Account`) has its own client and refresh
engine; the screens use the current one (``app.client``, ``app.engine``), and ``:ctx NAME``
switches it. With several accounts the home screen is the accounts overview; with ``kiosk``
it is the kiosk's tiles. Alerts from every account go through :class:`AlertCenter`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.signal import Signal

from batchtui.refresh.account import Account
from batchtui.refresh.actions import ActionPlan, ActionRunner
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import PollOutcome, RefreshEngine
from batchtui.refresh.events import Event
from batchtui.refresh.timer import Timer
from batchtui.ui.alerts import AlertCenter, AlertMode, NotifyMode
from batchtui.ui.text import clean
from batchtui.ui.themes import DEFAULT_THEME, ThemeProblem, load_themes, variable_defaults

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient, RequestEvent

log = logging.getLogger("batchtui")
#: how often the trend history is saved while batchtui runs (and always on exit)
SAVE_EVERY = 300.0


@dataclass(frozen=True)
class AccountSpec:
    """One account to open: its name (the profile, or the account), its client, its clock."""

    name: str
    client: BatchClient
    label: str | None = None  # for the status line; the name when None
    now: Callable[[], datetime] = utcnow
    keep_history: bool = True  # False: the demo's world restarts each run, its trend with it


class BatchApp(App[None]):
    """The dashboard; the jobs screen is home (the accounts overview with several, the kiosk)."""

    TITLE = "batchtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding(
            "colon",
            "command_line",
            "Go to",
            key_display=":",
            show=False,
            tooltip="Go to a view by name (k9s style)",
        ),
        Binding("e", "feed", "Change feed", show=False, tooltip="What changed lately, newest first (:feed)"),
        Binding("a", "acknowledge", "Acknowledge alerts", show=False, tooltip="Clear the alerts shown"),
        # For screens where ``a`` means something of their own (the tasks screen: all tasks).
        Binding("A", "acknowledge", "Acknowledge alerts", show=False, tooltip="Clear the alerts shown"),
        Binding(
            "H", "action_history", "Action history", show=False, tooltip="What this session did, newest first"
        ),
    ]

    def __init__(
        self,
        client: BatchClient | Sequence[AccountSpec],
        *,
        refresh: float = 5.0,
        theme: str | None = None,
        state: str | None = None,
        account_label: str | None = None,
        now: Callable[[], datetime] = utcnow,
        user_theme_dir: Path | None = None,
        on_exit_close: bool = True,
        monotonic: Callable[[], float] | None = None,
        timer: Timer | None = None,
        utc: bool = False,
        warnings: Sequence[str] = (),
        state_dir: Path | None = None,
        alerts: AlertMode = "all",
        alert_rise: int = 1,
        alert_offline: float = 60.0,
        on_event: str | None = None,
        notify: NotifyMode = "auto",
        kiosk: bool = False,
        cycle: float = 10.0,
    ) -> None:
        super().__init__()
        self.refresh_interval = max(float(refresh), 0.1)
        self.state_filter = state
        # real seconds, for freshness ("updated 3s ago", stale); a test's ManualTimer moves both
        self.monotonic: Callable[[], float] = monotonic or (timer.monotonic if timer else time.monotonic)
        self.utc = utc  # times in UTC (labelled) rather than the machine's local time
        #: settings problems (e.g. a key file others can read): printed to stderr before the
        #: full screen hides them, so said again in the app
        self.warnings = tuple(warnings)
        #: read-only, no dialog, no footer, the pinned jobs' tiles cycling every ``cycle`` s
        self.kiosk = kiosk
        self.cycle = max(float(cycle), 1.0)
        if kiosk:
            self.use_command_palette = False
        specs = (
            [AccountSpec(account_label or _label_for(client), client, now=now)]
            if not isinstance(client, Sequence)
            else list(client)
        )
        if not specs:
            raise ValueError("no account to open")
        self.alerts = AlertCenter(self, mode=alerts, hook=on_event, notify=notify)
        #: published with the account after each of its polls (the overview and kiosk listen)
        self.polled: Signal[Account] = Signal(self, "polled")
        #: every account, in the order given; each with its own client, engine and pacing
        self.accounts: list[Account] = []
        for spec in specs:
            if kiosk:
                spec.client.readonly = True  # a kiosk only reads, whatever the settings say
            account = Account(
                spec.name,
                spec.client,
                label=spec.label,
                interval=self.refresh_interval,
                timer=timer,
                now=spec.now,
                state_dir=state_dir,
                keep_history=spec.keep_history,
                state_filter=state,
                utc=utc,
                rise_by=alert_rise,
                offline_after=alert_offline,
                on_events=self._account_events,
            )
            account.engine.observers.append(functools.partial(self._observed, account))
            self.accounts.append(account)
        #: the account the screens show (``:ctx NAME`` switches)
        self.account: Account = self.accounts[0]
        self.on_exit_close = on_exit_close
        self.theme_problems: list[ThemeProblem] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._install_themes(theme, user_theme_dir)

    # ------------------------------------------------------------------ the current account

    @property
    def client(self) -> BatchClient:
        return self.account.client

    @property
    def engine(self) -> RefreshEngine:
        """Every poller of the current account; screens open theirs on mount, close on unmount."""
        return self.account.engine

    @property
    def actions(self) -> ActionRunner:
        """Every state change of the current account: sent once, logged, kept in a history."""
        return self.account.actions

    @property
    def account_label(self) -> str:
        return self.account.label

    @property
    def now(self) -> Callable[[], datetime]:
        """The clock the current account's data lives on (ages, "read at"); the demo's runs fast."""
        return self.account.now

    @property
    def several(self) -> bool:
        """Several accounts are open: the overview is home."""
        return len(self.accounts) > 1

    def account_named(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)

    # ------------------------------------------------------------------ themes

    def _install_themes(self, wanted: str | None, user_dir: Path | None) -> None:
        themes, self.theme_problems = load_themes(user_dir)
        builtin = set(self.available_themes)
        for theme in themes.values():
            self.register_theme(theme)
        name = wanted if wanted in themes else DEFAULT_THEME if DEFAULT_THEME in themes else None
        if wanted and wanted not in themes:
            self.theme_problems.append(ThemeProblem(Path(wanted), "no theme with that name"))
        if name is not None:
            self.theme = name
            # The palette's theme picker then lists exactly the dashboard's themes.
            for other in builtin - set(themes):
                self.unregister_theme(other)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # A theme that does not set a dashboard colour (e.g. a user theme with only the basics)
        # gets one derived from its own semantic colours; theme variables override these.
        return variable_defaults(self.current_theme)

    # ------------------------------------------------------------------ screens

    def get_default_screen(self) -> Screen[None]:
        if self.kiosk:
            from batchtui.ui.screens.kiosk import KioskScreen

            return KioskScreen()
        if self.several:
            from batchtui.ui.screens.accounts import AccountsScreen

            return AccountsScreen()
        from batchtui.ui.screens.jobs import JobsScreen

        return JobsScreen(state=self.state_filter)

    def on_mount(self) -> None:
        for warning in self.warnings:
            self.notify(clean(warning), title="Warning", severity="warning", timeout=30, markup=False)
        for problem in self.theme_problems:
            self.notify(str(problem), severity="warning", timeout=12)
        for account in self.accounts:
            self._unsubscribe.append(
                account.client.subscribe(functools.partial(self._on_request_event, account))
            )
            if self.several or self.kiosk:
                # Read by its jobs screen while that shows, by a watch of its own otherwise.
                account.watch(active=functools.partial(self._watch_reads, account))
        self.set_interval(SAVE_EVERY, self.save_state, name="save state")

    def _watch_reads(self, account: Account) -> bool:
        return not self.jobs_screen_reads(account)

    def jobs_screen_reads(self, account: Account) -> bool:
        """Whether ``account``'s jobs screen is polling now (shown, or under a modal)."""
        from batchtui.ui.screens.jobs import JobsScreen

        return any(
            isinstance(s, JobsScreen) and s.account is account and s.handle is not None and not s.covered()
            for s in self.screen_stack
        )

    def _on_request_event(self, account: Account, event: RequestEvent) -> None:
        # Called by the client between attempts (inside a screen's fetch): a request that
        # will be tried again is news for the status line before the whole refresh ends.
        if event.retry_in is not None and account is self.account:
            self.call_later(self._show_retry, event.kind or "error", event.retry_in)

    def _show_retry(self, why: str, seconds: float) -> None:
        from batchtui.ui.screens.base import PollingScreen

        # The topmost live screen is the one whose status line the operator sees (a modal
        # such as the task details leaves the screen under it visible).
        for screen in reversed(self.screen_stack):
            if isinstance(screen, PollingScreen) and screen.is_mounted:
                try:
                    screen.status.retrying(why, seconds)
                except Exception:  # noqa: BLE001, S110 - a screen half torn down has no status line
                    pass
                return

    async def on_unmount(self) -> None:
        for account in self.accounts:
            account.engine.close_all()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for problem in filter(None, (a.save_state() for a in self.accounts)):
            log.warning("%s", problem)
        if self.on_exit_close:
            for account in self.accounts:
                await account.client.aclose()

    # ------------------------------------------------------------------ history, events, alerts

    def save_state(self) -> None:
        for problem in filter(None, (a.save_state() for a in self.accounts)):
            self.notify(clean(problem), title="State not saved", severity="warning", markup=False)

    def _account_events(self, account: Account, events: list[Event]) -> None:
        # From inside a poll: delivered once the poll's own messages are handled.
        self.call_later(self.alerts.handle, account, events)

    def _observed(self, account: Account, outcome: PollOutcome) -> None:
        from batchtui.refresh.views import SubtasksSnapshot
        from batchtui.ui.ranks import collect_ranks

        self.call_later(self.polled.publish, account)
        snap = outcome.snapshot
        if not isinstance(snap, SubtasksSnapshot):
            return
        ranks = collect_ranks(snap.task, snap.subtasks)
        failed = [str(r.id) for r in ranks if r.failed]
        running = sum(1 for r in ranks if r.category == "running")
        account.ranks_seen(snap.job_id, snap.task_id, failed, running, outcome.at)

    def action_feed(self) -> None:
        from batchtui.ui.screens.feed import FeedScreen

        if not isinstance(self.screen, FeedScreen):
            self.push_screen(FeedScreen())

    def action_acknowledge(self) -> None:
        n = self.alerts.acknowledge()
        if n and not self.kiosk:
            self.notify(f"{n} alert{'s' if n != 1 else ''} acknowledged", timeout=3)

    def toggle_pin(self, job_id: str) -> bool:
        """``*``: pin or unpin a job of the current account; True when pinned now."""
        pinned, problem = self.account.toggle_pin(job_id)
        if problem is not None:
            self.notify(clean(problem), title="Pins", severity="warning", markup=False)
        return pinned

    # ------------------------------------------------------------------ accounts

    def open_account(self, name: str) -> None:
        """Show ``name``'s jobs (``:ctx NAME``, Enter on the overview)."""
        from batchtui.ui.commands import CommandError
        from batchtui.ui.screens.jobs import JobsScreen

        account = self.account_named(name)
        if account is None:
            known = ", ".join(a.name for a in self.accounts)
            raise CommandError(f"no account {name!r} open (open: {known})")
        if not self.several:
            raise CommandError(f"only {self.account.name} is open: give --profile once per account")
        if self.kiosk:
            raise CommandError("the kiosk shows every account's pinned jobs")
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.account = account
        self.push_screen(JobsScreen(state=self.state_filter))

    # ------------------------------------------------------------------ actions

    @property
    def readonly(self) -> bool:
        """Nothing but GET and HEAD goes on the wire (--readonly, BATCHTUI_READONLY, config)."""
        return self.client.readonly

    def run_plan(self, plan: ActionPlan) -> None:
        """Send a confirmed plan in a worker; its outcome comes back as a notification."""
        self.run_worker(
            self._run_plan(plan), group="actions", exit_on_error=False, name=f"action: {plan.verb}"
        )

    async def _run_plan(self, plan: ActionPlan) -> None:
        from batchtui.ui.acting import describe_outcome

        records = await self.actions.run(plan)
        title, text, severity = describe_outcome(plan, records)
        self.notify(
            text, title=title, severity=severity, markup=False, timeout=8 if severity == "information" else 15
        )

    def action_action_history(self) -> None:
        from batchtui.ui.screens.action_history import ActionHistoryScreen

        if self.kiosk or isinstance(self.screen, ActionHistoryScreen):
            return  # the kiosk acts on nothing and opens no screen over its tiles
        self.push_screen(ActionHistoryScreen(list(self.actions.history), readonly=self.readonly))

    # ------------------------------------------------------------------ the command line

    def action_command_line(self) -> None:
        from batchtui.ui.navigate import known_ids
        from batchtui.ui.screens.command_line import CommandLine

        def run(text: str | None) -> None:
            if text:
                self.go(text)

        if self.kiosk:
            return  # nothing to go to: the kiosk is its one screen
        self.push_screen(CommandLine(lambda arg, before: known_ids(self, arg, before)), run)

    def go(self, text: str) -> None:
        """Go to a view by ``:`` command (``jobs``, ``job JOB``, ``task JOB TASK``, ``pools``, ...)."""
        from batchtui.ui.commands import CommandError
        from batchtui.ui.navigate import go

        try:
            go(self, text)
        except CommandError as exc:
            self.notify(str(exc), severity="warning", markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Go to… (:)",
            "Open a view by name: :jobs, :job JOB, :task JOB TASK, :pools, :nodes POOL, :node POOL NODE",
            self.action_command_line,
        )
        yield SystemCommand(
            "Pools", "The account's pools, their nodes and node counts (:pools)", lambda: self.go("pools")
        )
        yield SystemCommand(
            "Action history (H)",
            "What this session did to the account, newest first",
            self.action_action_history,
        )
        yield SystemCommand("Change feed (e)", "What changed lately, newest first", self.action_feed)
        if self.alerts.shown:
            yield SystemCommand(
                "Acknowledge alerts (a, A)",
                f"Clear the {len(self.alerts.shown)} alerts shown",
                self.action_acknowledge,
            )
        if self.several:
            for account in self.accounts:
                yield SystemCommand(
                    f"Account: {clean(account.name)}",
                    f"Switch to {clean(account.label)} (:ctx {clean(account.name)})",
                    lambda name=account.name: self.go(f"ctx {name}"),
                )
        from batchtui.ui.screens.base import PollingScreen

        if isinstance(screen, PollingScreen):
            yield from screen.system_commands()


def _label_for(client: BatchClient) -> str:
    return client.account or urlsplit(client.endpoint).hostname or ""


def make_app(client: BatchClient | Sequence[AccountSpec], **kw: Any) -> BatchApp:
    """The one factory the CLI, the tests and the screenshot script use (a client, or several
    accounts as :class:`AccountSpec`)."""
    return BatchApp(client, **kw)
