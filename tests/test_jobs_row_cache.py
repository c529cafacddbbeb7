"""The jobs screen reuses the rows of unchanged jobs and rebuilds the rest with current styles.

bench/apply_cost.py (5,000 jobs, 1% changed) counted a new cache object per row and a theme
style lookup per cell on every refresh; the screen now keeps both for unchanged rows and
looks styles up once per pass. What the operator sees must not change: new counts show,
unchanged rows stay as they were, a theme switch recolours every row.
"""

from __future__ import annotations

from ui_support import make_sim, make_sim_app, wait_for

from batchtui.ui.screens.jobs import JobsScreen

SIZE = (120, 40)


async def test_unchanged_rows_are_reused_changed_rows_rebuilt_and_a_theme_switch_recolours() -> None:
    app, sim = make_sim_app(make_sim(jobs=200), theme="batchtui-dark")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.table
        await wait_for(pilot, lambda: not screen.monitor.needs_counts())
        await pilot.pause()
        before = dict(table.rows_by_key)
        counts_before = dict(screen.snapshot.counts)

        # The same world read again (new Job objects, equal values): the row of every job whose
        # counts were not read again (those off screen) is the same object.
        fetches = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches)
        await pilot.pause()
        after = dict(table.rows_by_key)
        assert after.keys() == before.keys()
        same = [k for k in before if screen.snapshot.counts.get(k) is counts_before.get(k)]
        assert len(same) > len(before) // 2
        assert all(after[k] is before[k] for k in same)

        # The world moves on: rows whose counts changed are rebuilt and show the new counts.
        sim.clock.advance(1800)
        fetches = screen.fetches
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.fetches > fetches)
        await pilot.pause()
        moved = dict(table.rows_by_key)
        changed = [k for k in moved if k in before and moved[k] is not before[k]]
        assert changed
        snap = screen.snapshot
        for key in changed:
            entry = snap.counts.get(key)
            if entry and entry.result:
                running = table.get_row(key)[table.visible_columns.index("running")]
                assert running.plain == f"{entry.result.task_counts.running:,}"

        # Another theme: every row is rebuilt with that theme's colours.
        key = table.visible_keys[0]
        state_before = table.get_row(key)[2].spans
        app.theme = "batchtui-light"
        await pilot.pause()
        assert all(table.rows_by_key[k] is not moved[k] for k in moved)
        assert table.get_row(key)[2].spans != state_before
