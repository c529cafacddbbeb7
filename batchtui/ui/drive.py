"""Driving the dashboard as an operator does, through Textual's Pilot: the one set of steps the
tests and ``scripts/screenshots.py`` share (wait for a screen to be read, open a row, type a
``:`` command), so that a change of keys or of what "loaded" means is made in one place.

Every wait is bounded and says what it waited for when it gives up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen

from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar

S = TypeVar("S", bound=Screen[Any])


class NotReached(AssertionError):
    """A wait that ran out: the screen never got to the state waited for."""


async def until(pilot: Pilot[Any], condition: Callable[[], object], *, within: float = 10.0) -> None:
    """Let the app run until ``condition()`` is true, at most ``within`` seconds."""
    for _ in range(max(1, int(within / 0.02))):
        if condition():
            return
        await pilot.pause(0.02)
    if not condition():
        raise NotReached(
            f"timed out after {within}s waiting for {getattr(condition, '__qualname__', condition)}"
        )


def is_read(screen: Screen[Any]) -> bool:
    """A polling screen whose poller has answered at least once, with rows if it has a table."""
    if not isinstance(screen, PollingScreen) or screen.status.last_ok is None:
        return False
    table = getattr(screen, "table", None)
    return table is None or table.total_count > 0


def settled(screen: Screen[Any]) -> bool:
    """No row is flashing a change (pictures of it are stable)."""
    table = getattr(screen, "table", None)
    return table is None or not table.flashed_keys


async def home(pilot: Pilot[Any]) -> JobsScreen:
    """The jobs screen with its rows, the selected job's counts read, and nothing flashing."""
    app = pilot.app

    def ready() -> bool:
        s = app.screen
        return (
            isinstance(s, JobsScreen)
            and s.table.total_count > 0
            and s.query_one(CountBar).data.counts is not None
            and settled(s)
        )

    await until(pilot, ready)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def reach(pilot: Pilot[Any], kind: type[S], ready: Callable[[S], object] = is_read) -> S:
    """Wait until the top screen is a ``kind`` that is ``ready`` (by default: read once)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, kind) and bool(ready(app.screen)))
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


async def open_row(
    pilot: Pilot[Any], key: str | None, kind: type[S], ready: Callable[[S], object] = is_read
) -> S:
    """Put the cursor on row ``key`` of the current screen's table, press enter, reach ``kind``."""
    table = getattr(pilot.app.screen, "table", None)
    if key is None or table is None or not table.select_key(key):
        raise NotReached(f"no row {key!r} to open on {type(pilot.app.screen).__name__}")
    await pilot.pause()
    await pilot.press("enter")
    return await reach(pilot, kind, ready)


async def command(pilot: Pilot[Any], text: str) -> None:
    """``:`` then ``text`` then enter, as an operator types it."""
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*("space" if c == " " else c for c in text))
    await pilot.press("enter")
