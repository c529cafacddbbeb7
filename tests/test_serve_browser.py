"""``batchtui serve`` in a real browser: headless Chromium opens the page, and the job ids the
simulator holds are drawn in the page's terminal, in the dashboard's order; a second tab over
``--max-sessions`` shows why it got no dashboard, and gets one once the first tab is closed.

Skipped (with the reason) where the Debian package chromium is not installed; .ci/run installs it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import pytest
from browser_support import Tab, needs_chromium
from test_serve import ACCOUNT, KEY, Served, anchored_sim

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.job_order import default_job_order
from batchtui.sim.server import BackgroundServer

pytestmark = needs_chromium

# A row of the job table: the id, then its state (the detail pane's lines start with an id too).
JOB_ID = re.compile(
    r"^ ?([a-z]+(?:-[a-z]+)+-\d{4})  .*? (?:active|disabling|disabled|enabling|terminating|completed|deleting)  "
)


@pytest.fixture
def sim_server() -> Iterator[BackgroundServer]:
    server = BackgroundServer(anchored_sim(jobs=30)).start()
    try:
        yield server
    finally:
        server.stop()


async def expected_order(url: str) -> list[str]:
    async with BatchClient(url, SharedKeyAuth(ACCOUNT, KEY), account=ACCOUNT) as client:
        return [j.id or "" for j in default_job_order(await client.list_jobs())]


async def drawn_job_ids(tab: Tab, within: float = 90) -> list[str]:
    """The job ids in the first column of the terminal, once the list is drawn."""
    deadline = time.monotonic() + within
    while True:
        text = await tab.terminal_text() or ""
        ids = [m.group(1) for line in text.splitlines() if (m := JOB_ID.match(line))]
        if len(ids) >= 10:
            return ids
        assert time.monotonic() < deadline, f"no job list drawn in {within} s; the terminal holds:\n{text}"
        await asyncio.sleep(0.5)


async def test_the_browser_draws_the_accounts_jobs(sim_server: BackgroundServer) -> None:
    from browser_support import Browser

    want = await expected_order(sim_server.url)
    served = Served(sim_server.url, "--max-sessions", "1")
    try:
        async with Browser() as browser:
            tab = await browser.open(served.url + "/")
            drawn = await drawn_job_ids(tab)
            # The rows on screen are the account's jobs, top of the dashboard's order first.
            assert drawn == want[: len(drawn)]
            text = await tab.terminal_text() or ""
            assert f"{ACCOUNT}" in text and "jobs  " in text

            second = await browser.open(served.url + "/")
            deadline = time.monotonic() + 90
            body = ""
            while "--max-sessions 1" not in body:
                assert time.monotonic() < deadline, body
                await asyncio.sleep(0.3)
                body = await second.evaluate("document.body ? document.body.innerText : ''") or ""
            assert "close a tab and reload" in body

            await tab.close()
            await asyncio.sleep(1.0)
            await second.evaluate("location.reload()")
            again = await drawn_job_ids(second)
            assert again == want[: len(again)]
    finally:
        out = served.stop()
    assert {r.method for r in sim_server.sim.requests} == {"GET"}  # read-only, whatever the tabs did
    assert "Traceback" not in out
