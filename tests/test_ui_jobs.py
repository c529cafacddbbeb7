"""The jobs screen against the simulator, in-process: what the operator sees and does."""

from __future__ import annotations

from textual.widgets import Input
from ui_support import make_client, make_sim, make_sim_app, wait_for

from batchtui.ui.screens.help import HelpScreen
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.widgets.count_bar import CountBar
from batchtui.ui.widgets.keyed_table import KeyedTable

SIZE = (120, 40)


def jobs_screen(app) -> JobsScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, JobsScreen)
    return screen


def loaded(app) -> bool:  # type: ignore[no-untyped-def]
    screen = app.screen
    return isinstance(screen, JobsScreen) and screen.table.total_count > 0


def bar_text(app) -> str:  # type: ignore[no-untyped-def]
    bar = app.screen.query_one(CountBar)
    return "\n".join(line.plain for line in bar._lines(100))


async def test_job_list_fills_and_the_bar_shows_the_selected_jobs_counts() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        assert set(screen.table.rows_by_key) == set(sim.job_ids())
        selected = screen.table.selected_key
        assert selected is not None
        async with make_client(sim) as direct:
            truth = await direct.get_task_counts(selected)
        await wait_for(pilot, lambda: screen.query_one(CountBar).data.counts is not None)
        bar = screen.query_one(CountBar)
        assert bar.data.job_id == selected
        assert bar.data.counts == truth
        text = bar_text(app)
        tc = truth.task_counts
        assert f"active {tc.active:,}" in text and f"failed {tc.failed:,}" in text
        assert f"{tc.percent_complete:.0f}% complete" in text
        assert "can lag" in text
        assert "demo" in screen.status.plain and "updated 0s ago" in screen.status.plain


async def test_counts_change_when_the_simulated_clock_moves_on() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        bar = screen.query_one(CountBar)
        # The default order puts active jobs first; pick one that still has work to do.
        for key in screen.table.visible_keys:
            entry = screen.snapshot.counts.get(key)
            if entry and entry.result and entry.result.task_counts.active + entry.result.task_counts.running:
                break
        screen.table.select_key(key)
        await wait_for(pilot, lambda: bar.data.job_id == key and bar.data.counts is not None)
        before = bar.data.counts
        fetches = screen.fetches
        sim.clock.advance(1800)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches and bar.data.counts != before)
        assert bar.data.counts.task_counts.completed > before.task_counts.completed
        assert "updated 0s ago" in screen.status.plain


async def test_slash_filters_like_k9s_and_escape_clears_it() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        total = screen.table.total_count
        await pilot.press("slash")
        box = screen.query_one("#filter-box", Input)
        assert box.has_focus
        await pilot.press(*"mpi")
        assert screen.table.filter_text == "mpi"
        assert 0 < screen.table.visible_count < total
        assert all("mpi" in k for k in screen.table.visible_keys)
        assert 'filter "mpi"' in str(screen.query_one("#title").render())
        await pilot.press("j")  # typed into the box, not a cursor move
        assert screen.table.filter_text == "mpij"
        await pilot.press("backspace", "enter")
        assert isinstance(app.focused, KeyedTable)
        assert screen.table.filter_text == "mpi"
        assert screen.table.cursor_row == 0
        await pilot.press("escape")
        assert screen.table.filter_text == ""
        assert screen.table.visible_count == total
        assert app.screen is screen  # escape on home never leaves it


async def test_help_opens_with_this_screens_keys() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        entries = dict((d, k) for k, d in app.screen.entries)
        assert entries["Filter"] == "/"
        assert entries["Recount"] == "c"
        assert "^r" in entries["Refresh"] and "p" == entries["Pause"]
        assert "j" in entries["Cursor down"] and "G" in entries["Bottom"]
        assert "Cursor left" not in entries
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))


async def test_a_failed_refresh_keeps_the_rows_and_says_why() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        keys = set(screen.table.rows_by_key)
        sim.faults.error_rate = 1.0
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is not None)
        assert set(screen.table.rows_by_key) == keys
        assert screen.status.is_warning
        # a 500 is a failed refresh; a 503 ServerBusy means the service is down: "offline since"
        assert "refresh failed" in screen.status.plain or "offline since" in screen.status.plain
        assert "HTTP 5" in screen.status.plain or "HTTP 4" in screen.status.plain
        sim.faults.clear()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is None)
        assert not screen.status.is_warning
        # No refresh for more than two intervals: the data is called stale.
        app.monotonic.advance(2 * app.refresh_interval + 1)
        screen.status._tick()
        assert screen.status.is_warning and "stale" in screen.status.plain


async def test_the_cursor_stays_on_the_same_job_across_refresh_and_sort() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        await pilot.press("j", "j", "j")
        key = screen.table.selected_key
        assert key == screen.table.visible_keys[3]
        fetches = screen.fetches
        sim.clock.advance(600)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches)
        await pilot.pause()
        assert screen.table.selected_key == key
        for _ in screen.table.sorts:
            await pilot.press("s")
            assert screen.table.selected_key == key
        await pilot.press("G")
        assert screen.table.cursor_row == screen.table.visible_count - 1
        await pilot.press("g")
        assert screen.table.cursor_row == 0


async def test_service_text_is_shown_literally() -> None:
    sim = make_sim()
    target = sim.job_ids()[0]
    plan = sim.world.plan(target)
    assert plan is not None
    plan.display_name = "[red]x[/red]"  # the kind of name a real account can hold
    app, _ = make_sim_app(sim)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        cells = [c.plain for c in screen.table.get_row(target)]
        assert "[red]x[/red]" in cells


async def test_recount_lists_the_tasks_and_shows_exact_counts() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        key = screen.table.selected_key
        await pilot.press("c")
        bar = screen.query_one(CountBar)
        await wait_for(pilot, lambda: bar.data.recount is not None and bar.data.recount.result is not None)
        async with make_client(sim) as direct:
            tasks = await direct.list_tasks(key)
        exact = bar.data.recount.result.task_counts
        assert exact.total == len(tasks)
        assert exact.failed == sum(1 for t in tasks if t.result == "failure")
        assert "exact at" in bar_text(app)
        paths = [r.path for r in sim.requests if "/tasks" in r.path]
        assert paths, "the recount lists tasks"


async def test_an_idle_refresh_does_next_to_nothing_to_the_widgets() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        await pilot.pause(0.1)
        table = screen.table
        bar = screen.query_one(CountBar)
        revisions = {k: table.revision(k) for k in table.rows_by_key}
        rendered, bar_before = table.lines_rendered, bar.data
        for _ in range(3):
            fetches = screen.fetches
            await pilot.press("ctrl+r")  # the world is frozen: same data again
            await wait_for(pilot, lambda: screen.fetches > fetches)
            await pilot.pause()
        # No row changed, so no line was rendered again (the frames came from the line cache).
        assert {k: table.revision(k) for k in table.rows_by_key} == revisions
        assert table.lines_rendered == rendered
        assert bar.data is bar_before


async def test_palette_offers_the_screens_actions_and_theme_switch_restyles_cells() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {
            "Refresh now",
            "Filter",
            "Trouble only",
            "Cycle sort",
            "Keys",
            "Pause / resume refresh",
            "Recount tasks exactly",
            "Theme",
        } <= titles
        key = screen.table.selected_key
        before = screen.table.get_row(key)[2].spans  # the state cell's colour
        app.theme = "batchtui-light"
        await wait_for(pilot, lambda: screen.table.get_row(key)[2].spans != before)
        assert not screen.table.flashed_keys  # a restyle is not a change


async def test_escape_from_tasks_comes_back_with_the_cursor_where_it_was() -> None:
    from batchtui.ui.screens.tasks import TasksScreen

    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        await pilot.press("j", "j", "j", "j")
        key = screen.table.selected_key
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        assert app.screen.job_id == key
        fetches = screen.fetches
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen and screen.fetches > fetches)
        await pilot.pause()
        assert screen.table.selected_key == key
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_unreachable_service_shows_offline_since_and_keeps_the_rows() -> None:
    import httpx
    from ui_support import FrozenClock

    from batchtui.ui.app import make_app

    sim = make_sim()
    inner = httpx.ASGITransport(app=sim)

    class Switch(httpx.AsyncBaseTransport):
        down = False

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.down:
                raise httpx.ConnectError("connection refused", request=request)
            return await inner.handle_async_request(request)

    switch = Switch()
    client = make_client(sim, account="demo", transport=switch)
    app = make_app(client, refresh=3600.0, now=sim.clock.now, monotonic=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        rows = dict(screen.table.rows_by_key)
        switch.down = True
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.status.error is not None)
        assert screen.status.plain.startswith(f"⚠ offline since {sim.clock.now():%H:%M:%S}")
        assert "connection refused" in screen.status.plain
        assert screen.status.has_class("-error")
        assert dict(screen.table.rows_by_key) == rows


async def test_state_option_lists_only_those_jobs() -> None:
    app, sim = make_sim_app(state="completed")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loaded(app))
        screen = jobs_screen(app)
        states = {screen.snapshot.jobs[i].state for i in range(len(screen.snapshot.jobs))}
        assert states == {"completed"}
        assert screen.table.total_count < len(sim.job_ids())
        assert "state completed" in str(screen.query_one("#title").render())
        lists = [r for r in sim.requests if r.path == "/jobs"]
        assert lists and all(r.status == 200 for r in lists)
