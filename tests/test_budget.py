"""The request budget (issue 15.6): requests and KiB a minute over the last 5 minutes, from the
client's counters, on the help screen."""

from __future__ import annotations

from ui_support import make_sim_app, step, wait_for

from batchtui.refresh.budget import BudgetMeter
from batchtui.refresh.timer import ManualTimer
from batchtui.ui.screens.help import HelpScreen
from batchtui.ui.screens.jobs import JobsScreen


def test_the_meter_covers_the_window_and_no_more() -> None:
    meter = BudgetMeter(window=300)
    assert meter.budget() is None
    meter.sample(0, 0, 0)
    assert meter.budget() is None
    meter.sample(60, 30, 60 * 1024)
    budget = meter.budget()
    assert budget is not None and (budget.requests_per_minute, budget.kib_per_minute) == (30, 60)
    for t in range(120, 1200, 60):  # a quiet stretch: 1 request a minute from here on
        meter.sample(t, 30 + (t - 60) // 60, 60 * 1024)
    budget = meter.budget()
    assert budget is not None
    assert budget.requests_per_minute == 1.0 and budget.kib_per_minute == 0
    assert 300 <= budget.over < 360
    assert budget.text == "1.0 requests and 0.0 KiB a minute (last 5 min)"


async def test_the_help_screen_says_what_the_dashboard_costs() -> None:
    timer = ManualTimer()
    app, sim = make_sim_app(refresh=5.0, timer=timer)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
        for _ in range(12):
            await step(pilot, app, timer, 5.0)
        sent = app.client.stats.requests
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        cost = str(app.screen.query_one("#help-cost").render())
        # 60 s of ticks: every request after the first poll, per minute.
        budget = app.engine.budget.budget()
        assert budget is not None and budget.over == 60.0
        assert 0 < budget.requests_per_minute < sent
        assert cost.startswith(f"cost to the account: {budget.requests_per_minute:,.1f} requests and ")
