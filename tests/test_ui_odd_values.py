"""Odd values and odd terminals (issue 14.10): negative and 300-digit task counts keep to
their columns, and a 40x10 terminal still shows job rows (the count bar folds to a line)."""

from __future__ import annotations

import httpx
import pytest
from ui_support import FrozenClock, wait_for

from batchtui.batch.client import BatchClient
from batchtui.batch.models import TaskCounts
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import COLUMNS, JobsScreen
from batchtui.ui.text import fmt_count
from batchtui.ui.widgets.count_bar import CountBar

HUGE = int("9" * 300)
ODD = {"active": -5, "running": HUGE, "completed": -HUGE, "succeeded": 3, "failed": HUGE}
PLAIN = {"active": 4, "running": 2, "completed": 5, "succeeded": 4, "failed": 1}


def service(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/jobs":
        jobs = [{"id": f"job-{i:02d}", "displayName": "render", "state": "active"} for i in range(12)]
        return httpx.Response(200, json={"value": jobs})
    counts = ODD if request.url.path.startswith("/jobs/job-00/") else PLAIN
    return httpx.Response(200, json={"taskCounts": counts, "taskSlotCounts": counts})


def odd_app():  # type: ignore[no-untyped-def]
    client = BatchClient("http://127.0.0.1:9", transport=httpx.MockTransport(service))
    return make_app(client, refresh=3600.0, monotonic=FrozenClock())


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (-5, "-5"),
        (999_999, "999,999"),
        (1_000_000, "1.0M"),
        (1_234_567, "1.2M"),
        (9_960_000, "9M"),
        (12_345_678_901, "12G"),
        (-99_999, "-99,999"),
        (-123_456, "-123k"),
        (-1_500_000, "-1.5M"),
        (999 * 10**18, "999E"),
        (HUGE, ">999E"),
        (-HUGE, "<-999E"),
    ],
)
def test_counts_take_at_most_seven_cells(n: int, text: str) -> None:
    assert fmt_count(n) == text and len(text) <= 7


def test_the_percentage_stays_between_0_and_100() -> None:
    assert TaskCounts(**ODD).percent_complete == 0.0
    assert TaskCounts(active=-10, completed=5).percent_complete == 0.0  # total <= 0
    assert TaskCounts(active=-3, completed=5, succeeded=5).percent_complete == 100.0  # 5 of 2
    assert TaskCounts(active=1, completed=3).percent_complete == 75.0


async def test_odd_counts_stay_in_their_columns() -> None:
    app = odd_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.snapshot is not None and len(screen.snapshot.counts) == 12)
        cells = [c.plain for c in screen.table.get_row("job-00")]
        assert cells[6:10] == ["-5", ">999E", "3", ">999E"]
        assert all(len(c) <= 24 for c in cells)
        # Every column still fits a 120-column terminal, as with ordinary counts.
        assert screen.table.visible_columns == tuple(k for k, _ in COLUMNS)
        bar = screen.query_one(CountBar)
        text = "\n".join(line.plain for line in bar._lines(116))
        assert "0% complete · -5 tasks" in text and "running >999E" in text
        assert max(len(line.plain) for line in bar._lines(116)) <= 116


async def test_a_40x10_terminal_shows_job_rows() -> None:
    app = odd_app()
    async with app.run_test(size=(40, 10)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: screen.snapshot is not None and len(screen.snapshot.counts) == 12)
        await pilot.pause()
        bar = screen.query_one(CountBar)
        assert bar.collapsed and bar.size.height == 1
        table = screen.table
        rows_shown = table.scrollable_content_region.height - 1  # less the header
        assert rows_shown >= 3, table.scrollable_content_region
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not bar.collapsed and bar.size.height > 4
