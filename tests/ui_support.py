"""Helpers for the dashboard's Pilot and snapshot tests: a simulator-backed app, bounded waits.

The app's data clock is the simulator's clock (time_scale=0 freezes it), so ages and
runtimes only move when a test calls ``sim.clock.advance``; freshness ("updated 3s ago")
reads ``app.monotonic``, a FrozenClock a test moves with ``app.monotonic.advance``. The refresh interval is
an hour: refreshes happen when a test asks for one (ctrl+r), never on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.sim import SimConfig, Simulator
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.themes import variable_defaults
from batchtui.ui.widgets.keyed_table import KeyedTable

ENDPOINT = "http://127.0.0.1:8765"


class FrozenClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def make_sim(**config: Any) -> Simulator:
    config.setdefault("seed", 7)
    config.setdefault("jobs", 20)
    config.setdefault("time_scale", 0)
    return Simulator(SimConfig(**config))


def make_client(sim: Simulator, *, attempts: int = 1) -> BatchClient:
    return BatchClient(
        ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=attempts, base_delay=0, max_delay=0),
    )


def make_sim_app(sim: Simulator | None = None, **kw: Any) -> tuple[BatchApp, Simulator]:
    sim = sim or make_sim()
    kw.setdefault("refresh", 3600.0)
    kw.setdefault("now", sim.clock.now)
    kw.setdefault("monotonic", FrozenClock())
    return make_app(make_client(sim), **kw), sim


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
