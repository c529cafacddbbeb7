"""Pollers for the pool views: every pool with its node counts, a pool's nodes, one node, and
the health of the pool under a queued job.

Each reads only what its view shows (``$select``), pages through everything up to a bound
(a pool of 1,000 nodes is one page), and reads its calls at once, showing nothing until all
arrived. A 404 is an answer: the pool (or node) is gone (:func:`~batchtui.refresh.views.is_gone`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchtui.batch.errors import BatchServiceError
from batchtui.batch.node_counts import PoolNodeCounts
from batchtui.batch.paging import MAX_ITEMS
from batchtui.batch.pools import Node, Pool
from batchtui.refresh.views import gather_all

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

#: what the pools screen shows of each pool
POOL_SELECT: tuple[str, ...] = (
    "id",
    "state",
    "allocationState",
    "allocationStateTransitionTime",
    "vmSize",
    "resizeErrors",
    "currentDedicatedNodes",
    "targetDedicatedNodes",
    "currentLowPriorityNodes",
    "targetLowPriorityNodes",
    "enableAutoScale",
    "autoScaleRun",
    "taskSlotsPerNode",
)
#: what the nodes screen shows of each node (recentTasks, the heavy part, only for one node)
NODE_SELECT: tuple[str, ...] = (
    "id",
    "state",
    "schedulingState",
    "stateTransitionTime",
    "lastBootTime",
    "isDedicated",
    "runningTasksCount",
    "runningTaskSlotsCount",
    "totalTasksRun",
    "totalTasksSucceeded",
    "startTaskInfo",
    "errors",
)
PAGE = 1000


@dataclass(frozen=True)
class PoolsSnapshot:
    pools: tuple[Pool, ...]
    counts: dict[str, PoolNodeCounts]  # by pool id
    fetched_at: datetime


class PoolsPoller:
    """Every pool, and the node counts of all of them in one ``/nodecounts`` listing."""

    def __init__(self, client: BatchClient, now: Callable[[], datetime]) -> None:
        self.client = client
        self.now = now

    def __repr__(self) -> str:
        return "PoolsPoller()"

    def interval(self, base: float) -> float:
        return base

    async def poll(self, reason: str) -> PoolsSnapshot:
        pools, counts = await gather_all(
            self.client.list_pools(select=POOL_SELECT, max_results=PAGE),
            self.client.list_pool_node_counts(max_results=PAGE),
        )
        by_pool = {c.pool_id: c for c in counts if c.pool_id}
        return PoolsSnapshot(tuple(pools), by_pool, self.now())


@dataclass(frozen=True)
class NodesSnapshot:
    pool_id: str
    pool: Pool
    nodes: tuple[Node, ...]
    truncated: bool  # more nodes than MAX_ITEMS: only the first are shown
    fetched_at: datetime


class NodesPoller:
    """A pool (its header) and its nodes, ``$select``ed and paged."""

    def __init__(
        self, client: BatchClient, pool_id: str, now: Callable[[], datetime], cap: int = MAX_ITEMS
    ) -> None:
        self.client = client
        self.pool_id = pool_id
        self.now = now
        self.cap = cap

    def __repr__(self) -> str:
        return f"NodesPoller({self.pool_id!r})"

    def interval(self, base: float) -> float:
        return base

    async def poll(self, reason: str) -> NodesSnapshot:
        pool, nodes = await gather_all(
            self.client.get_pool(self.pool_id, select=POOL_SELECT),
            self.client.list_nodes(self.pool_id, select=NODE_SELECT, max_results=PAGE, limit=self.cap + 1),
        )
        return NodesSnapshot(self.pool_id, pool, tuple(nodes[: self.cap]), len(nodes) > self.cap, self.now())


@dataclass(frozen=True)
class NodeSnapshot:
    pool_id: str
    node: Node  # every property, recentTasks included
    fetched_at: datetime


class NodePoller:
    """One node, read whole (its errors, start task, recent tasks), kept live while open."""

    def __init__(self, client: BatchClient, pool_id: str, node_id: str, now: Callable[[], datetime]) -> None:
        self.client = client
        self.pool_id = pool_id
        self.node_id = node_id
        self.now = now

    def __repr__(self) -> str:
        return f"NodePoller({self.pool_id!r}, {self.node_id!r})"

    def interval(self, base: float) -> float:
        return base

    async def poll(self, reason: str) -> NodeSnapshot:
        node = await self.client.get_node(self.pool_id, self.node_id)
        return NodeSnapshot(self.pool_id, node, self.now())


# --------------------------------------------------------------------------- why is it queued?


@dataclass(frozen=True)
class PoolHealth:
    """What the pool under a job says about why nothing of the job runs."""

    pool_id: str
    pool: Pool | None  # None: the pool is gone
    counts: PoolNodeCounts | None
    fetched_at: datetime


class PoolHealthPoller:
    """The pool of a job whose tasks wait: the pool itself and its node counts (two calls)."""

    def __init__(self, client: BatchClient, pool_id: str, now: Callable[[], datetime]) -> None:
        self.client = client
        self.pool_id = pool_id
        self.now = now

    def __repr__(self) -> str:
        return f"PoolHealthPoller({self.pool_id!r})"

    def interval(self, base: float) -> float:
        return base * 2  # a pool's allocation moves in minutes, not seconds

    async def poll(self, reason: str) -> PoolHealth:
        quoted = self.pool_id.replace("'", "''")
        try:
            pool, counts = await gather_all(
                self.client.get_pool(self.pool_id, select=POOL_SELECT),
                self.client.list_pool_node_counts(filter=f"poolId eq '{quoted}'"),
            )
        except BatchServiceError as exc:
            if exc.status == 404 and exc.code in (None, "PoolNotFound"):
                return PoolHealth(self.pool_id, None, None, self.now())
            raise
        mine = next((c for c in counts if c.pool_id == self.pool_id), None)
        return PoolHealth(self.pool_id, pool, mine, self.now())


def queued_hint(job_state: str | None, health: PoolHealth | None) -> str | None:
    """Why a job with active tasks runs none of them, in the operator's words (None: no reason
    the pool shows). ``health`` is its pool's, once read."""
    if job_state in ("disabled", "disabling"):
        return "the job is disabled: its tasks wait until it is enabled"
    if health is None:
        return None
    pool_id = health.pool_id
    pool = health.pool
    if pool is None:
        return f"pool {pool_id} no longer exists: nothing can run"
    counts = health.counts
    current = (pool.current_dedicated_nodes or 0) + (pool.current_low_priority_nodes or 0)
    target = (pool.target_dedicated_nodes or 0) + (pool.target_low_priority_nodes or 0)
    error = pool.resize_errors[0] if pool.resize_errors else pool.auto_scale_error
    why = f": {error.code}" + (f" ({error.message})" if error.message else "") if error and error.code else ""
    if current == 0:
        if pool.allocation_state == "resizing":
            return f"pool {pool_id} has no nodes yet: resizing to {target}"
        if why:
            return f"pool {pool_id} has no nodes: its resize failed{why}"
        return f"pool {pool_id} has no nodes (target {target})"
    if counts is not None and counts.total:
        usable = sum(counts.get(k) for k in ("idle", "running"))
        if not usable:
            failed = counts.get("startTaskFailed")
            unusable = counts.get("unusable")
            if failed:
                return f"{failed} of {counts.total} nodes in {pool_id} failed their start task; none can run tasks"
            if unusable == counts.total:
                return f"every node in {pool_id} is unusable"
            coming = sum(counts.get(k) for k in ("creating", "starting", "waitingForStartTask", "rebooting"))
            if coming:
                return f"no node in {pool_id} is ready yet: {coming} of {counts.total} starting"
            return f"no node in {pool_id} can run tasks ({counts.total} nodes, none idle or running)"
    if pool.allocation_state == "resizing":
        return f"pool {pool_id} is resizing ({current} of {target} nodes)"
    if why:
        return f"pool {pool_id} is short of nodes ({current} of {target}){why}"
    return None
