"""A simulated Azure Batch account that speaks the real REST wire format.

Stands alone, as the real service does: it never imports Textual or batchtui's own client.
"""

from __future__ import annotations

from batchtui.sim.app import ServedRequest, Simulator
from batchtui.sim.clock import SimClock
from batchtui.sim.config import DEMO_ACCOUNT, DEMO_KEY, SimConfig
from batchtui.sim.faults import Faults

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_KEY",
    "Faults",
    "ServedRequest",
    "SimClock",
    "SimConfig",
    "Simulator",
    "serve",
]


def serve(config: SimConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve a simulator over HTTP with uvicorn until interrupted (blocking)."""
    from batchtui.sim.server import serve as _serve

    _serve(config, host=host, port=port)
