"""Marks (space, issue 13) and reversible sorts (s, issue 12) as the operator meets them."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_support import TableApp, make_sim_app, wait_for

from batchtui.ui.app import BatchApp
from batchtui.ui.row_model import Row
from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.screens.help import help_entries
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.keyed_table import KeyedTable
from batchtui.ui.widgets.table_lines import MARK_GLYPH

SIZE = (120, 40)
MPI_JOB = "mpi-cfd-0001"


def title(screen: PollingScreen) -> str:
    return str(screen.query_one("#title").render())


def line_of(table: KeyedTable, key: str) -> str:
    """The text drawn for ``key``'s row (it must be on screen)."""
    y = table.visible_keys.index(key) - int(table.scroll_y) + 1
    return table.render_line(y).text


async def jobs(pilot: Pilot[Any], app: BatchApp) -> JobsScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    assert isinstance(app.screen, JobsScreen)
    return app.screen


async def refresh(pilot: Pilot[Any], screen: PollingScreen) -> None:
    fetches = screen.fetches
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: screen.fetches > fetches)
    await pilot.pause()


async def test_space_marks_rows_that_survive_refreshes_filters_and_sorts_and_escape_clears_them() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await jobs(pilot, app)
        table = screen.table
        first, third = table.visible_keys[0], table.visible_keys[2]
        await pilot.press("space", "j", "j", "space")
        assert table.marked_keys == (first, third)
        assert "2 marked" in title(screen)
        assert line_of(table, first).startswith(MARK_GLYPH + first)
        assert line_of(table, table.visible_keys[1]).startswith(" " + table.visible_keys[1])
        await pilot.press("space")  # again on the same row: unmarked
        assert table.marked_keys == (first,)
        await pilot.press("space")

        sim.clock.advance(600)
        await refresh(pilot, screen)
        await pilot.press("s", "s", "s")
        assert table.marked_keys == (first, third)
        await pilot.press("slash", *first)
        assert table.visible_keys == (first,)
        await pilot.press("enter")
        assert table.marked_keys == (first, third) and "2 marked" in title(screen)

        # escape: the filter first, then the marks; on the home screen it never leaves.
        await pilot.press("escape")
        assert table.filter_text == "" and table.marked_keys == (first, third)
        await pilot.press("escape")
        assert table.marked_keys == () and "marked" not in title(screen)
        assert not line_of(table, first).startswith(MARK_GLYPH)
        await pilot.press("escape")
        assert app.screen is screen


async def test_a_job_that_leaves_the_list_loses_its_mark() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await jobs(pilot, app)
        table = screen.table
        doomed, kept = table.visible_keys[0], table.visible_keys[1]
        await pilot.press("space", "j", "space")
        assert table.marked_keys == (doomed, kept)
        assert sim.delete_job(doomed)
        await refresh(pilot, screen)
        await wait_for(pilot, lambda: doomed not in table.rows_by_key)
        assert table.marked_keys == (kept,)
        assert "1 marked" in title(screen)


async def test_tasks_mark_too_and_ranks_do_not() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await jobs(pilot, app)
        assert screen.table.select_key(MPI_JOB)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.table.total_count > 0
        )
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        await pilot.press("space")
        assert tasks.table.marked_keys == (tasks.table.visible_keys[0],)
        assert ("space", "Mark") in help_entries(tasks)
        await pilot.press("escape")  # clears the marks: still on the tasks
        assert app.screen is tasks and tasks.table.marked_keys == ()
        await pilot.press("enter")  # an MPI task: its ranks
        await wait_for(
            pilot, lambda: isinstance(app.screen, SubtasksScreen) and app.screen.table.total_count > 0
        )
        ranks = app.screen
        assert isinstance(ranks, SubtasksScreen)
        await pilot.press("space")
        assert ranks.table.marked_keys == ()
        assert "Mark" not in [desc for _, desc in help_entries(ranks)]


async def test_s_reverses_the_sort_before_moving_to_the_next_and_the_title_says_which() -> None:
    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await jobs(pilot, app)
        table = screen.table
        forwards = table.visible_keys
        assert "sort: active first ↓" in title(screen)
        selected = table.selected_key
        await pilot.press("s")
        assert "sort: active first ↑" in title(screen)
        assert table.visible_keys == tuple(reversed(forwards))  # every key is distinct: a true reverse
        assert table.selected_key == selected  # the cursor stays on its job
        await pilot.press("s")
        assert "sort: newest ↓" in title(screen)
        newest = table.visible_keys
        await pilot.press("s")
        assert "sort: newest ↑" in title(screen)
        assert table.visible_keys == tuple(reversed(newest))
        for _ in range(2 * len(table.sorts) - 3):  # round to where it started
            await pilot.press("s")
        assert "sort: active first ↓" in title(screen)
        assert table.visible_keys == forwards


async def test_the_widget_offers_space_only_when_it_marks() -> None:
    for marks in (True, False):
        app = TableApp(marks=marks)
        async with app.run_test(size=(60, 20)) as pilot:
            t = app.query_one(KeyedTable)
            t.apply_rows([Row(k, (k, "active", "0"), {"id": k}) for k in ("a", "b")])
            t.focus()
            await pilot.press("space", "down", "space", "space")
            assert t.marked_keys == (("a",) if marks else ())
            assert t.is_marked("a") is marks
            assert ("space" in app.screen.active_bindings) is marks
