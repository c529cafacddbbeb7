"""What the command palette offers on every screen: go to a view, the pools, the action
history, the change feed, acknowledging alerts, switching accounts, then the screen's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

from batchtui.ui.text import clean

if TYPE_CHECKING:
    from batchtui.ui.app import BatchApp


def app_commands(app: BatchApp, screen: Screen[object]) -> Iterator[SystemCommand]:
    """The app's own commands (after Textual's), and ``screen``'s when it is a live screen."""
    yield SystemCommand(
        "Go to… (:)",
        "Open a view by name: :jobs, :job JOB, :task JOB TASK, :pools, :nodes POOL, :node POOL NODE",
        app.action_command_line,
    )
    yield SystemCommand(
        "Pools", "The account's pools, their nodes and node counts (:pools)", lambda: app.go("pools")
    )
    yield SystemCommand(
        "Action history (H)",
        "What this session did to the account, newest first",
        app.action_action_history,
    )
    yield SystemCommand("Change feed (e)", "What changed lately, newest first", app.action_feed)
    if app.alerts.shown:
        yield SystemCommand(
            "Acknowledge alerts (a, A)",
            f"Clear the {len(app.alerts.shown)} alerts shown",
            app.action_acknowledge,
        )
    if app.several:
        for account in app.accounts:
            yield SystemCommand(
                f"Account: {clean(account.name)}",
                f"Switch to {clean(account.label)} (:ctx {clean(account.name)})",
                lambda name=account.name: app.go(f"ctx {name}"),
            )
    from batchtui.ui.screens.base import PollingScreen

    if isinstance(screen, PollingScreen):
        yield from screen.system_commands()
