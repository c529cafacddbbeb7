"""The simulator's knobs, and the well-known demo account used by ``--demo`` and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

DEMO_ACCOUNT = "demo"
# A fixed, public key: it protects nothing, it only lets --demo and the tests sign requests the
# way a real account's key would be used.
DEMO_KEY = "X4zwNCxzUwdaf06CoJbDCXvvxeMLSeH2BOYXnXj4xicJl8kubO8IgTA1GJxn7sO2Grka1CpUVLDgRPzC7vX8Ag=="
DEFAULT_START = datetime(2026, 11, 21, 6, 0, 0, tzinfo=UTC)

API_VERSIONS = (
    "2022-01-01.15.0",
    "2022-10-01.16.0",
    "2023-05-01.17.0",
    "2023-11-01.18.0",
    "2024-02-01.19.0",
    "2024-07-01.20.0",
    "2025-06-01",
    "2025-06-01.21.0",
)
# Versions before this one declared subtasksinfo non-pageable: answer them in one page.
FIRST_PAGED_SUBTASKS_VERSION = "2024-07-01.20.0"


@dataclass
class SimConfig:
    account: str = DEMO_ACCOUNT
    key: str = field(default=DEMO_KEY, repr=False)
    seed: int = 1
    jobs: int = 40
    tasks: int = 60  # typical tasks per job
    instances: int = 8  # ranks of the largest multi-instance task
    time_scale: float = 1.0  # simulated seconds per real second; 0 freezes the world after warm-up
    start: datetime = DEFAULT_START
    warmup: float = 4 * 3600.0  # sim seconds between the world's start and "now" at t0
    count_lag: float = 2.0  # seconds (sim) by which /taskcounts lags the task list
    latency_ms: float = 0.0
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    tokens: tuple[str, ...] = field(default=(), repr=False)  # bearer tokens accepted
    max_page: int = 1000
