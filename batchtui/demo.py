"""The ``--demo`` account: the simulator in-process, reached through the production path.

The client talks to the simulator over ``httpx.ASGITransport`` with Shared Key signing, so
the demo exercises exactly the code an operator's real account would: URL building,
signing, paging, error mapping. Only the transport differs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import DEFAULT_API_VERSION, DEFAULT_CONCURRENCY, BatchClient, RequestEvent
from batchtui.sim import SimConfig, Simulator

DEMO_ENDPOINT = "http://127.0.0.1:8765"
#: Simulated seconds per real second: fast enough that tasks visibly move while you watch.
DEMO_TIME_SCALE = 20.0


def demo_client(
    config: SimConfig | None = None,
    *,
    api_version: str | None = None,
    on_event: Callable[[RequestEvent], None] | None = None,
    max_concurrency: int = DEFAULT_CONCURRENCY,
) -> tuple[Simulator, BatchClient]:
    if config is None:
        # Anchor the simulated "now" at the real now, so times on screen read naturally.
        warmup = SimConfig().warmup
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=warmup)
        config = SimConfig(time_scale=DEMO_TIME_SCALE, start=start)
    sim = Simulator(config)
    client = BatchClient(
        DEMO_ENDPOINT,
        SharedKeyAuth(sim.config.account, sim.config.key),
        account=sim.config.account,
        transport=httpx.ASGITransport(app=sim),
        on_event=on_event,
        max_concurrency=max_concurrency,
        api_version=api_version or DEFAULT_API_VERSION,
    )
    return sim, client
