"""The Textual application: one Batch account, a stack of live screens, themes from files."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from batchtui.refresh.actions import ActionPlan, ActionRunner
from batchtui.refresh.clock import utcnow
from batchtui.refresh.engine import RefreshEngine
from batchtui.refresh.timer import Timer
from batchtui.ui.text import clean
from batchtui.ui.themes import DEFAULT_THEME, ThemeProblem, load_themes, variable_defaults

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient, RequestEvent


class BatchApp(App[None]):
    """The dashboard for one account; the jobs screen is home."""

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
        Binding(
            "H", "action_history", "Action history", show=False, tooltip="What this session did, newest first"
        ),
    ]

    def __init__(
        self,
        client: BatchClient,
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
    ) -> None:
        super().__init__()
        self.client = client
        self.refresh_interval = max(float(refresh), 0.1)
        self.state_filter = state
        self.account_label = account_label or _label_for(client)
        self.now = now  # the clock the data lives on (ages, "read at"); the demo's runs fast
        # real seconds, for freshness ("updated 3s ago", stale); a test's ManualTimer moves both
        self.monotonic: Callable[[], float] = monotonic or (timer.monotonic if timer else time.monotonic)
        self.utc = utc  # times in UTC (labelled) rather than the machine's local time
        #: settings problems (e.g. a key file others can read): printed to stderr before the
        #: full screen hides them, so said again in the app
        self.warnings = tuple(warnings)
        #: every poller of this account; screens open theirs on mount and close them on unmount
        self.engine = RefreshEngine(client, interval=self.refresh_interval, timer=timer, now=now)
        #: every state change of this account goes through here: sent once, logged, kept in a
        #: history, and the open views re-read at once afterwards
        self.actions = ActionRunner(client, self.engine, now)
        if client.retry_sleep is asyncio.sleep:
            # A retry's wait that ctrl+r can cut short (a client built with its own sleep keeps it).
            client.retry_sleep = self.engine.retry_sleep
        if client.retry.longest_wait is None:
            # A Retry-After longer than an interval is not slept inside a refresh: the refresh
            # ends, the rest of the screen keeps refreshing, and the pacing backs off instead.
            client.retry = dataclasses.replace(client.retry, longest_wait=max(self.refresh_interval, 1.0))
        self.on_exit_close = on_exit_close
        self.theme_problems: list[ThemeProblem] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._install_themes(theme, user_theme_dir)

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
        from batchtui.ui.screens.jobs import JobsScreen

        return JobsScreen(state=self.state_filter)

    def on_mount(self) -> None:
        for warning in self.warnings:
            self.notify(clean(warning), title="Warning", severity="warning", timeout=30, markup=False)
        for problem in self.theme_problems:
            self.notify(str(problem), severity="warning", timeout=12)
        self._unsubscribe = self.client.subscribe(self._on_request_event)

    def _on_request_event(self, event: RequestEvent) -> None:
        # Called by the client between attempts (inside a screen's fetch): a request that
        # will be tried again is news for the status line before the whole refresh ends.
        if event.retry_in is not None:
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
        self.engine.close_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.on_exit_close:
            await self.client.aclose()

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

        if isinstance(self.screen, ActionHistoryScreen):
            return
        self.push_screen(ActionHistoryScreen(list(self.actions.history), readonly=self.readonly))

    # ------------------------------------------------------------------ the command line

    def action_command_line(self) -> None:
        from batchtui.ui.navigate import known_ids
        from batchtui.ui.screens.command_line import CommandLine

        def run(text: str | None) -> None:
            if text:
                self.go(text)

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
        from batchtui.ui.screens.base import PollingScreen

        if isinstance(screen, PollingScreen):
            yield from screen.system_commands()


def _label_for(client: BatchClient) -> str:
    return client.account or urlsplit(client.endpoint).hostname or ""


def make_app(client: BatchClient, **kw: Any) -> BatchApp:
    """The one factory the CLI, the tests and the screenshot script use."""
    return BatchApp(client, **kw)
