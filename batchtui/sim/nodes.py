"""The pools and their nodes at sim time t, as the world's tasks and the fleet's windows make them.

One instance per world. It builds each pool's index of which tasks ran on which node the first
time the pool is looked at (and extends it as jobs arrive), keeps what the API changed on nodes
(:class:`~batchtui.sim.node_views.Overrides`) and answers for pools, nodes and node counts.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchtui.sim.catalog import mix
from batchtui.sim.fleet import INF, LEAVING, NodeError, NodePlan, Pool, Resize, boot_window
from batchtui.sim.node_ops import WAIT, Blackout, closed, mode_of, running_end
from batchtui.sim.node_views import (
    NodeView,
    Occupancy,
    Overrides,
    PoolIndex,
    exists,
    gone_at,
    node_view,
    occupancies,
)
from batchtui.sim.schedule import TERMINATED, JobPlan

if TYPE_CHECKING:
    from batchtui.sim.world import World


@dataclass(frozen=True, slots=True)
class PoolView:
    pool: Pool
    allocation_state: str  # steady, resizing
    allocation_since: float
    target_dedicated: int
    target_low_priority: int
    current_dedicated: int
    current_low_priority: int
    resize_errors: tuple[NodeError, ...]
    last_modified: float


class Nodes:
    def __init__(self, world: World) -> None:
        self.world = world
        self.deleted_pools: set[str] = set()
        self.overrides: dict[tuple[str, int], Overrides] = {}
        self.resizes: dict[str, list[Resize]] = {}  # removenodes asked for, by pool
        self.bent_pools: set[str] = set()  # pools with a node that keeps tasks off (node_ops)
        self._index: dict[str, PoolIndex] = {}

    # ---------------------------------------------------------------- pools

    def pool_ids(self, t: float) -> list[str]:
        return sorted(p.id for p in self.world.pools.values() if self._exists(p, t))

    def find_pool(self, pool_id: str, t: float) -> Pool | None:
        pool = self.world.pools.get(pool_id) or next(
            (p for p in self.world.pools.values() if p.id.lower() == pool_id.lower()), None
        )
        return pool if pool is not None and self._exists(pool, t) else None

    def _exists(self, pool: Pool, t: float) -> bool:
        return pool.created <= t and pool.id not in self.deleted_pools

    def pool_view(self, pool: Pool, t: float) -> PoolView:
        resize: Resize | None = None
        for r in (*pool.resizes, *self.resizes.get(pool.id, ())):
            if r.at <= t and (resize is None or r.at >= resize.at):
                resize = r
        if resize is None:  # only before the pool's first resize was asked for
            resize = Resize(pool.created, 0, 0, pool.created)
        resizing = t < resize.steady
        current: Counter[bool] = Counter()
        for node in pool.nodes:
            if exists(node, self.overrides.get((pool.id, node.index)), t):
                current[node.dedicated] += 1
        return PoolView(
            pool=pool,
            allocation_state="resizing" if resizing else "steady",
            allocation_since=resize.at if resizing else resize.steady,
            target_dedicated=resize.dedicated,
            target_low_priority=resize.low_priority,
            current_dedicated=current[True],
            current_low_priority=current[False],
            # "set only if errors occurred during the last resize, and only when steady"
            resize_errors=() if resizing else resize.errors,
            last_modified=resize.at,
        )

    # ---------------------------------------------------------------- nodes

    def nodes_at(self, pool: Pool, t: float, *, recent: bool = True) -> list[NodeView]:
        """Every node in the pool at ``t``, in the service's order (by id)."""
        index = self._indexed(pool, t)
        out = []
        for node in pool.nodes:
            view = node_view(
                pool,
                node,
                index.logs[node.index],
                self.overrides.get((pool.id, node.index)),
                t,
                recent=recent,
            )
            if view is not None:
                out.append(view)
        out.sort(key=lambda v: v.node.id)
        return out

    def find_node(self, pool: Pool, node_id: str, t: float) -> NodeView | None:
        node = self._node(pool, node_id)
        if node is None:
            return None
        index = self._indexed(pool, t)
        return node_view(pool, node, index.logs[node.index], self.overrides.get((pool.id, node.index)), t)

    def _node(self, pool: Pool, node_id: str) -> NodePlan | None:
        lowered = node_id.lower()
        return next((n for n in pool.nodes if n.id.lower() == lowered), None)

    def counts(self, pool: Pool, t: float) -> tuple[Counter[str], Counter[str]]:
        """(dedicated, low priority) nodes by state."""
        dedicated: Counter[str] = Counter()
        low: Counter[str] = Counter()
        for view in self.nodes_at(pool, t, recent=False):
            (dedicated if view.node.dedicated else low)[view.state] += 1
        return dedicated, low

    def gone(self, pool_id: str, node: int, t: float | None = None) -> bool:
        """Node ``node`` is no longer in the pool at ``t`` (None: by the end of everything
        scheduled or asked so far)."""
        pool = self.world.pools.get(pool_id)
        if pool is None or not 0 <= node < len(pool.nodes):
            return True
        end = gone_at(pool.nodes[node], self.overrides.get((pool_id, node)))
        return end < INF if t is None else t >= end

    # ---------------------------------------------------------------- what the API changes

    def remove(self, pool_id: str, node_id: str, t: float, option: str = "requeue") -> bool:
        """The node leaves its pool: leavingpool at ``t`` (or, for taskcompletion and
        retaineddata, once what runs on it has finished), then gone."""
        found = self._found(pool_id, node_id)
        if found is None:
            return False
        pool, node, extra = found
        mode = mode_of(option)
        # UNCONFIRMED: whether a node waiting for its tasks shows leavingpool at once; here it
        # keeps running them (taking no new one) and leaves when they are done.
        at = self._running_end(pool, node, t) if mode == WAIT else t
        extra.removed = min(extra.removed, at)
        self._black_out(pool, extra, Blackout(t, INF, mode, "remove"))
        return True

    def remove_nodes(self, pool_id: str, node_ids: list[str], t: float, option: str = "requeue") -> bool:
        """removenodes: each node leaves; the pool resizes down until the last has gone."""
        pool = self.world.pools.get(pool_id)
        if pool is None:
            return False
        view = self.pool_view(pool, t)
        plans = [n for n in (self._node(pool, i) for i in node_ids) if n is not None]
        for n in plans:
            self.remove(pool_id, n.id, t, option)
        last = max(
            (
                self.overrides[(pool.id, n.index)].removed
                for n in plans
                if (pool.id, n.index) in self.overrides
            ),
            default=t,
        )
        dedicated = sum(1 for n in plans if n.dedicated)
        self.resizes.setdefault(pool.id, []).append(
            Resize(
                t,
                max(0, view.target_dedicated - dedicated),
                max(0, view.target_low_priority - (len(plans) - dedicated)),
                last + LEAVING + 5.0,
            )
        )
        return True

    def reboot(self, pool_id: str, node_id: str, t: float, option: str = "requeue") -> bool:
        """A reboot asked for at ``t``: rebooting, starting, the start task, then idle. Its
        running tasks are requeued or terminated at once, or (taskcompletion, retaineddata)
        finish first, no new one starting, and the node reboots when they are done."""
        found = self._found(pool_id, node_id)
        if found is None:
            return False
        pool, node, extra = found
        mode = mode_of(option)
        # retaineddata would also wait out the tasks' data retention (days): not modelled,
        # it is taskcompletion here.
        at = self._running_end(pool, node, t) if mode == WAIT else t
        rng = random.Random(mix(pool.seed, node.index, int(t * 1000), 0xB007))
        window = boot_window("reboot", at, "rebooting", rng.uniform(50, 110), rng)
        extra.windows.append(window)
        self._black_out(pool, extra, Blackout(t, window.end, mode, "reboot"))
        return True

    def set_scheduling(
        self, pool_id: str, node_id: str, enabled: bool, t: float, option: str = "requeue"
    ) -> bool:
        """Scheduling disabled (no new task; the running ones as ``option`` says, then offline)
        or enabled again."""
        found = self._found(pool_id, node_id)
        if found is None:
            return False
        pool, _node, extra = found
        extra.scheduling.append((t, enabled))
        if enabled:
            extra.blackouts = closed(extra.blackouts, "disable", t)
            self._changed(pool)
        else:
            self._black_out(pool, extra, Blackout(t, INF, mode_of(option), "disable"))
        return True

    def blackouts_of(self, pool_id: str) -> Callable[[int], list[Blackout]]:
        overrides = self.overrides

        def of(k: int) -> list[Blackout]:
            extra = overrides.get((pool_id, k))
            return extra.blackouts if extra is not None else []

        return of

    def _found(self, pool_id: str, node_id: str) -> tuple[Pool, NodePlan, Overrides] | None:
        pool = self.world.pools.get(pool_id)
        node = self._node(pool, node_id) if pool is not None else None
        if pool is None or node is None:
            return None
        return pool, node, self.overrides.setdefault((pool.id, node.index), Overrides())

    def _running_end(self, pool: Pool, node: NodePlan, t: float) -> float:
        view = self.find_node(pool, node.id, t)
        return running_end([o.end for o in view.running] if view is not None else [], t)

    def _black_out(self, pool: Pool, extra: Overrides, blackout: Blackout) -> None:
        extra.blackouts.append(blackout)
        self.bent_pools.add(pool.id)
        self._changed(pool)

    def _changed(self, pool: Pool) -> None:
        """What ran where changed: the task views and the node indexes follow."""
        self.world.node_tasks_changed()

    # ---------------------------------------------------------------- the index

    def _indexed(self, pool: Pool, t: float) -> PoolIndex:
        world = self.world
        world.job_ids_after(t)  # plans every job submitted by t
        index = self._index.get(pool.id)
        if index is None or index.revision != world.revision:
            index = self._index[pool.id] = PoolIndex(len(pool.nodes), world.revision)
        plans = world.all_plans()
        if index.plans < len(plans):
            fresh = plans[index.plans :]
            index.plans = len(plans)
            index.add(occ for plan in fresh if plan.kind.pool == pool.id for occ in self._held(plan))
        return index

    def _held(self, plan: JobPlan) -> list[tuple[int, Occupancy]]:
        """Where every attempt of the job's tasks and ranks was held (a deleted job: nowhere)."""
        world = self.world
        out: list[tuple[int, Occupancy]] = []
        if plan.id in world.deleted_jobs:
            return []
        term = world.termination(plan)
        for spec in world.tasks_of(plan):
            if (plan.id, spec.id) in world.deleted_tasks:
                continue
            ranks = []
            for sub in world.subtasks_of(plan, spec):
                end, outcome, code = sub.end, sub.outcome, sub.exit_code
                if term < sub.end:
                    end, outcome, code = max(term, sub.run), TERMINATED, 137
                ranks.append((sub.id, sub.node, sub.prep, sub.run, end, outcome, code))
            out.extend(occupancies(plan, spec, world.effective_attempts(plan, spec), ranks))
        return out
