"""Helpers for the dashboard's Pilot and snapshot tests: a simulator-backed app, bounded waits.

The app's data clock is the simulator's clock (time_scale=0 freezes it), so ages and
runtimes only move when a test calls ``sim.clock.advance``; freshness ("updated 3s ago")
reads ``app.monotonic``, a FrozenClock a test moves with ``app.monotonic.advance``. The refresh interval is
an hour: refreshes happen when a test asks for one (ctrl+r), never on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# the simulator client factory lives in sim_support; re-exported for the UI tests' imports
from sim_support import ENDPOINT as ENDPOINT
from sim_support import make_client as make_client
from sim_support import make_sim
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.themes import variable_defaults
from batchtui.ui.widgets.keyed_table import KeyedTable


class FrozenClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_sim_app(sim: Simulator | None = None, **kw: Any) -> tuple[BatchApp, Simulator]:
    sim = sim or make_sim()
    kw.setdefault("refresh", 3600.0)
    kw.setdefault("now", sim.clock.now)
    kw.setdefault("monotonic", FrozenClock())
    return make_app(make_client(sim), **kw), sim


async def settle(pilot: Pilot[Any], app: BatchApp, timer: ManualTimer) -> None:
    """Let every open poller (of every account) finish its poll and go back to waiting on the timer."""

    def idle() -> bool:
        handles = sum(a.engine.open_handles for a in app.accounts)
        return timer.sleeping >= handles > 0

    await wait_for(pilot, idle, within=20)


async def step(pilot: Pilot[Any], app: BatchApp, timer: ManualTimer, seconds: float) -> None:
    """Move the engine's clock on by ``seconds`` and let the polls that fall due run."""
    await settle(pilot, app, timer)
    timer.advance(seconds)
    await settle(pilot, app, timer)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], object], *, within: float = 5.0) -> None:
    """Let the app run until ``condition()`` is true (bounded; fails the test on timeout)."""
    steps = int(within / 0.02)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition(), f"timed out after {within}s waiting for {condition}"


class TableApp(App[None]):
    """A bare app holding one KeyedTable, for the table's own tests."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]] = (("id", "Id"), ("state", "State"), ("n", "N")),
        *,
        sorts: Sequence[str] = ("id", "n"),
        quiet: Sequence[str] = (),
        marks: bool = False,
    ) -> None:
        super().__init__()
        self._columns, self._sorts, self._quiet, self._marks = columns, sorts, quiet, marks

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults(self.current_theme)

    def compose(self) -> ComposeResult:
        yield KeyedTable(id="t", marks=self._marks)

    def on_mount(self) -> None:
        t = self.query_one(KeyedTable)
        t.set_columns(self._columns)
        if self._quiet:
            t.set_quiet_columns(self._quiet)
        t.set_sorts(self._sorts)
