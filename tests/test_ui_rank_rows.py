"""The ranks table reuses what did not change: a rank's row is rebuilt only when something it
shows changed, and a moving clock replaces only the runtime cell. Whatever was reused must
look exactly like a row built from scratch (cells, colours, sort values, filter text), and
the table must still highlight real changes and keep the runtime column quiet."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta

from rich.text import Text
from ui_support import TableApp, make_sim, make_sim_app, wait_for

from batchtui.batch.task_models import Subtask
from batchtui.refresh.views import SubtasksSnapshot
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.widgets.keyed_table import KeyedTable, Row

SIZE = (120, 40)
MPI_JOB = "mpi-cfd-0001"  # seed 7, frozen: solver-01 has running ranks and a straggler
TASK = "solver-01"
RUNTIME = 8  # index of the runtime cell in a rank's Row


def _look(cell: object) -> tuple[object, ...]:
    assert isinstance(cell, Text)
    return (cell.plain, cell.spans, cell.style, cell.justify)


def _same_rows(got: Mapping[str, Row], want: Mapping[str, Row]) -> None:
    assert list(got) == list(want)
    for key, row in got.items():
        fresh = want[key]
        assert [_look(c) for c in row.cells] == [_look(c) for c in fresh.cells], key
        assert row.sort_values == fresh.sort_values, key
        assert (row.trouble, row.search) == (fresh.trouble, fresh.search), key


def _from_scratch(screen: SubtasksScreen, now: datetime) -> dict[str, Row]:
    kept = screen._rank_rows
    screen._rank_rows = {}
    try:
        return {r.key: r for r in screen._rows(list(screen.ranks.values()), now)}
    finally:
        screen._rank_rows = kept


async def test_reused_and_rerun_rows_match_rows_built_from_scratch() -> None:
    sim = make_sim()
    clock = {"now": sim.clock.now()}
    app, _ = make_sim_app(sim, now=lambda: clock["now"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = SubtasksScreen(MPI_JOB, TASK)
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.mpi_task is not None and screen.table.total_count > 0)
        table = screen.table
        task = screen.mpi_task
        assert task is not None
        subs = tuple(screen.subtasks[k] for k in sorted(screen.subtasks, key=int))
        running = [s for s in subs if s.state == "running"]
        assert running and any(a.kind == "straggler" for a in screen.alerts)

        def send(subtasks: tuple[Subtask, ...]) -> dict[str, Row]:
            screen.apply(SubtasksSnapshot(MPI_JOB, TASK, task, subtasks, clock["now"], False))
            _same_rows(table.rows_by_key, _from_scratch(screen, clock["now"]))
            return dict(table.rows_by_key)

        first = send(subs)
        # Same data, same clock, equal but new objects (as a real fetch parses): every row reused.
        again = send(tuple(dataclasses.replace(s) for s in subs))
        assert all(again[k] is first[k] for k in first)
        assert not table.flashed_keys

        # The clock moves: running ranks get a new runtime cell and nothing else; no highlight.
        clock["now"] += timedelta(seconds=5)
        moved = send(subs)
        for sub in running:
            key = str(sub.id)
            old, new = again[key], moved[key]
            assert new.cells[RUNTIME].plain != old.cells[RUNTIME].plain  # type: ignore[attr-defined]
            pairs = enumerate(zip(old.cells, new.cells, strict=True))
            assert all(a is b for i, (a, b) in pairs if i != RUNTIME)
            assert table.get_row(key)[table.visible_columns.index("runtime")].plain == (
                new.cells[RUNTIME].plain
            )  # type: ignore[attr-defined]
        done = next(s for s in subs if s.state == "completed")
        assert moved[str(done.id)] is again[str(done.id)]  # an ended rank's runtime stays put
        assert not table.flashed_keys

        # One rank fails: its row is rebuilt and highlighted; the others are not.
        def flagged() -> set[str]:
            return {str(i) for a in screen.alerts if a.kind == "straggler" for i in a.rank_ids}

        victim = running[0]
        failed = dataclasses.replace(
            victim, state="completed", result="failure", exit_code=3, end_time=clock["now"]
        )
        flagged_before = flagged()
        after = send(tuple(failed if s is victim else s for s in subs))
        assert after[str(victim.id)].trouble
        assert "3" in [c.plain for c in table.get_row(str(victim.id))]
        assert str(victim.id) in table.flashed_keys
        # The others are reused, unless the failure changed whether they count as stragglers.
        reflagged = flagged() ^ flagged_before
        assert all(after[k] is moved[k] for k in moved if k != str(victim.id) and k not in reflagged)

        # A theme switch recolours every row (nothing reused from the old theme), unhighlighted.
        state_col = table.visible_columns.index("state")
        before = table.get_row(str(done.id))[state_col].spans
        app.theme = "batchtui-light"
        await wait_for(pilot, lambda: table.get_row(str(done.id))[state_col].spans != before)
        _same_rows(table.rows_by_key, _from_scratch(screen, clock["now"]))


async def test_a_row_sharing_its_cells_updates_only_what_differs() -> None:
    app = TableApp(quiet=("n",))
    async with app.run_test(size=(60, 20)):
        t = app.query_one(KeyedTable)
        cells = (Text("a"), Text("running"), Text("5"))
        t.apply_rows([Row("a", cells, {"n": 5}), Row("b", (Text("b"), Text("active"), Text("1")), {"n": 1})])
        count = t.revision("a")
        # A new Row holding the same cell objects (only a sort value moved): no cell is touched.
        t.apply_rows([Row("a", cells, {"n": 6}), t.rows_by_key["b"]])
        assert t.revision("a") == count
        # Only the quiet cell is new: it is shown, the row renders anew, nothing is highlighted.
        t.apply_rows([Row("a", (*cells[:2], Text("7")), {"n": 7}), t.rows_by_key["b"]])
        assert [c.plain for c in t.get_row("a")] == ["a", "running", "7"]
        assert t.revision("a") > count
        assert not t.flashed_keys
        # A changed state cell next to reused ones is highlighted, alone.
        t.apply_rows([Row("a", (cells[0], Text("failed"), Text("7")), {"n": 7}), t.rows_by_key["b"]])
        assert [c.plain for c in t.get_row("a")] == ["a", "failed", "7"]
        assert t.flashed_keys == {"a"}
