"""A first load that takes long (issue 14.8): the status line says it is still waiting, and
for how long, rather than "loading…" with no sign of life."""

from __future__ import annotations

import asyncio

import httpx
from ui_support import FrozenClock, wait_for

from batchtui.batch.client import BatchClient
from batchtui.ui.app import make_app
from batchtui.ui.screens.jobs import JobsScreen


async def test_a_slow_first_answer_is_counted_on_the_status_line() -> None:
    answer = asyncio.Event()
    asked = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal asked
        asked += 1
        await answer.wait()  # the service is slow to answer the first list
        return httpx.Response(200, json={"value": []})

    clock = FrozenClock()
    client = BatchClient("http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    app = make_app(client, refresh=3600.0, monotonic=clock)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        await wait_for(pilot, lambda: asked == 1 and screen.status.plain != "")
        assert screen.status.plain.startswith("loading… · ")
        clock.advance(2)
        screen.status._tick()
        assert screen.status.plain.startswith("loading… · ")  # a normal start is not news
        clock.advance(10)
        screen.status._tick()
        assert screen.status.plain.startswith("still waiting for the first answer, 12s · ")
        answer.set()
        await wait_for(pilot, lambda: screen.status.last_ok is not None)
        assert screen.status.plain.startswith("updated 0s ago")
