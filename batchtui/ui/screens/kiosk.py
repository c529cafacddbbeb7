"""``--kiosk``: the wallboard. Large tiles for the pinned jobs, one of them in full, in turn.

Read-only (every account's client refuses anything but GET and HEAD), no key legend, no
dialog that could stop the refresh (no actions, no pause, no drill-in, no command line or
palette): each account is read by its own watch, always. The tiles show every account's
pinned jobs (pin them with ``*`` outside the kiosk; without pins, the first active jobs);
every ``--cycle`` seconds the next one is shown in full below them (its count bar with the
trend), and the grid scrolls to it when there are more tiles than fit. The cycle runs on the
engine's timer, so a test moves it with the refresh's ManualTimer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from batchtui.job_order import default_job_order
from batchtui.refresh.account import Account
from batchtui.refresh.history import trend
from batchtui.ui.text import clean
from batchtui.ui.when import when_text
from batchtui.ui.widgets.alert_bar import AlertBar
from batchtui.ui.widgets.count_bar import BarData, CountBar
from batchtui.ui.widgets.count_tile import CountTile, TileData

UNPINNED_SHOWN = 6  # per account, when nothing is pinned
TILE_WIDTH = 44


class KioskScreen(Screen[None]):
    DEFAULT_CSS = """
    KioskScreen { layout: vertical; }
    KioskScreen #kiosk-title { height: 1; padding: 0 1; background: $primary 30%; }
    KioskScreen #kiosk-tiles { height: 1fr; layout: grid; grid-size: 2; grid-gutter: 0 1; grid-rows: auto; }
    KioskScreen #kiosk-empty { padding: 1 2; color: $foreground-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,n", "next", "Next", show=False, tooltip="Show the next tile in full"),
        Binding("left", "previous", "Previous", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    help_title: ClassVar[str] = "kiosk"

    def __init__(self) -> None:
        super().__init__(id="kiosk")
        self.keys: list[str] = []  # tile keys shown, in order ("account\\njob")
        self.current = 0
        self.tiles: dict[str, CountTile] = {}
        self.cycles = 0  # how many times the cycle moved on (tests)

    def compose(self) -> ComposeResult:
        yield Static(id="kiosk-title")
        yield VerticalScroll(id="kiosk-tiles")
        yield Static(id="kiosk-empty")
        yield CountBar(id="kiosk-bar")
        yield AlertBar()

    @property
    def accounts(self) -> list[Account]:
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        return app.accounts

    def on_mount(self) -> None:
        from batchtui.ui.app import BatchApp

        app = self.app
        assert isinstance(app, BatchApp)
        app.polled.subscribe(self, lambda _account: self.show())
        self.run_worker(self._cycle(app.cycle), name="kiosk cycle", exit_on_error=False)
        self.show()

    def on_resize(self) -> None:
        self.query_one("#kiosk-tiles").styles.grid_size_columns = max(1, self.size.width // TILE_WIDTH)

    async def _cycle(self, seconds: float) -> None:
        timer = self.accounts[0].engine.timer
        never = asyncio.Event()
        while True:
            await timer.wait(seconds, never)
            self.action_next()

    # ------------------------------------------------------------------ what is shown

    def chosen(self) -> Iterable[tuple[Account, str]]:
        """(account, job id) of every tile: the pinned jobs, else each account's first active."""
        for account in self.accounts:
            snap = account.latest
            listed = {j.id: j for j in snap.jobs if j.id} if snap else {}
            pinned = [k for k in account.pins if k in listed]
            if pinned:
                yield from ((account, k) for k in pinned)
            elif snap is not None and not any(len(a.pins) for a in self.accounts):
                active = [j for j in default_job_order(snap.jobs) if j.id and j.state == "active"]
                yield from ((account, j.id) for j in active[:UNPINNED_SHOWN] if j.id)

    def _data(self, account: Account, job_id: str) -> TileData:
        snap = account.latest
        job = next((j for j in snap.jobs if j.id == job_id), None) if snap else None
        entry = snap.counts.get(job_id) if snap else None
        counts = entry.result.task_counts if entry and entry.result else None
        seen = trend(account.history.get(job_id), counts, account.now().timestamp())
        return TileData(
            account.name, job_id, job.state if job else None, counts, seen, len(self.accounts) > 1
        )

    def show(self) -> None:
        chosen = list(self.chosen())
        keys = [f"{a.name}\n{j}" for a, j in chosen]
        grid = self.query_one("#kiosk-tiles", VerticalScroll)
        if keys != self.keys:
            current = self.keys[self.current] if self.keys and self.current < len(self.keys) else None
            for key in [k for k in self.tiles if k not in keys]:
                self.tiles.pop(key).remove()
            for key in keys:
                if key not in self.tiles:
                    self.tiles[key] = CountTile(key)
                    grid.mount(self.tiles[key])
            # A removed tile leaves the grid only once its removal is processed: it sorts last.
            place = {k: n for n, k in enumerate(keys)}
            grid.sort_children(key=lambda w: place.get(w.key, len(keys)) if isinstance(w, CountTile) else -1)
            self.keys = keys
            self.current = keys.index(current) if current in keys else 0
        for n, (account, job_id) in enumerate(chosen):
            self.tiles[keys[n]].show(self._data(account, job_id), current=n == self.current)
        self._show_title()
        self._show_current(chosen)

    def _show_title(self) -> None:
        names = ", ".join(clean(a.label) for a in self.accounts)
        states = [a.summary().status for a in self.accounts]
        trouble = [f"{clean(a.name)} {s}" for a, s in zip(self.accounts, states, strict=True) if s != "ok"]
        now = when_text(self, self.accounts[0].now())
        self.query_one("#kiosk-title", Static).update(
            Content.assemble(
                ("batchtui kiosk", "bold"),
                f"  {names} · {now} · read-only",
                ("  ⚠ " + ", ".join(trouble) if trouble else "", "bold $warning"),
            )
        )

    def _show_current(self, chosen: list[tuple[Account, str]]) -> None:
        empty = self.query_one("#kiosk-empty", Static)
        bar = self.query_one(CountBar)
        if not chosen:
            waiting = any(a.latest is None for a in self.accounts)
            empty.update(
                Content(
                    "waiting for the first read…"
                    if waiting
                    else "no pinned jobs and none active: pin jobs with * (outside the kiosk)"
                )
            )
            empty.display = True
            bar.show(BarData())
            return
        empty.display = False
        account, job_id = chosen[self.current]
        snap = account.latest
        entry = snap.counts.get(job_id) if snap else None
        data = self._data(account, job_id)
        bar.show(
            BarData(
                job_id=job_id if len(self.accounts) == 1 else f"{account.name} · {job_id}",
                counts=entry.result if entry else None,
                fetched_at=entry.fetched_at if entry else None,
                rate=data.trend.per_minute if data.trend and not (entry and entry.final) else None,
                final=bool(entry and entry.final),
                trend=data.trend,
                recount_hint=False,  # no keys here: c does nothing
            )
        )
        tile = self.tiles.get(self.keys[self.current])
        if tile is not None:
            self.query_one("#kiosk-tiles", VerticalScroll).scroll_to_widget(tile, animate=False)

    # ------------------------------------------------------------------ the cycle

    def action_next(self) -> None:
        if self.keys:
            self.current = (self.current + 1) % len(self.keys)
            self.cycles += 1
            self.show()

    def action_previous(self) -> None:
        if self.keys:
            self.current = (self.current - 1) % len(self.keys)
            self.show()
