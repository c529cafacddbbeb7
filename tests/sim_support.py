"""The one way tests build batchtui's client on an in-process simulator (and the simulator).

``make_client(sim)`` is a BatchClient talking to ``sim`` over ``httpx.ASGITransport`` with the
simulator's Shared Key and account, no retries and no waits. A test changes only what it is
about: ``attempts`` or a whole ``retry`` policy, ``sleep``, ``on_event``, ``timeout`` and other
BatchClient options as keywords; ``auth`` for another credential; ``app`` for an ASGI app in
front of the simulator (one that tampers with its answers); ``transport`` for an httpx transport
wrapping it (one that records, holds, breaks or spoils requests), which then owns the path to
the simulator. Tests that need no simulator (httpx.MockTransport) build their client directly.
"""

from __future__ import annotations

from typing import Any

import httpx

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.batch.retry import RetryPolicy
from batchtui.sim import SimConfig, Simulator

ENDPOINT = "http://127.0.0.1:8765"


def make_sim(**config: Any) -> Simulator:
    """A frozen world (seed 7, 20 jobs) unless the test says otherwise."""
    config.setdefault("seed", 7)
    config.setdefault("jobs", 20)
    config.setdefault("time_scale", 0)
    return Simulator(SimConfig(**config))


def make_client(
    sim: Simulator,
    *,
    attempts: int = 1,
    retry: RetryPolicy | None = None,
    auth: httpx.Auth | None = None,
    app: Any = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **kw: Any,
) -> BatchClient:
    if app is not None and transport is not None:
        raise ValueError("give app (ASGI, in front of the simulator) or transport, not both")
    kw.setdefault("account", sim.config.account)
    return BatchClient(
        ENDPOINT,
        auth if auth is not None else SharedKeyAuth(sim.config.account, sim.config.key),
        transport=transport if transport is not None else httpx.ASGITransport(app=app or sim),
        retry=retry if retry is not None else RetryPolicy(max_attempts=attempts, base_delay=0, max_delay=0),
        **kw,
    )


def sdk_for(sim: Simulator, url: str) -> Any:
    """The official azure-batch SDK's client, signing with the simulator's Shared Key, at ``url``
    (a loopback simulator: ``BackgroundServer(sim).url``)."""
    import azure.batch as azure_batch
    from azure.core.credentials import AzureNamedKeyCredential

    return azure_batch.BatchClient(
        endpoint=url, credential=AzureNamedKeyCredential(sim.config.account, sim.config.key)
    )


def ours(sim: Simulator, url: str) -> BatchClient:
    """batchtui's own client at a loopback simulator (the SDK's twin, for same-bytes tests)."""
    return BatchClient(url, SharedKeyAuth(sim.config.account, sim.config.key))
