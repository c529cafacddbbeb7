"""The account's pools and nodes, and what happens to them: fixed when the world is built.

A node's life is a series of *windows* in which it cannot run tasks (being created, rebooting,
preempted, unusable, offline, leaving the pool); between them it is idle or running, which the
tasks placed on it decide (node_views). Tasks are only placed on a node for a span no window
touches (task_plans asks :meth:`Pool.usable`), so every task's and rank's ``nodeInfo`` agrees
with the node's own state at every instant.

Most windows are fixed below (the scenario every world shows at the end of its warm-up: a
resizing pool, a pool stuck on a quota, a node whose start task failed, an unusable node with
errors, a bad node, preempted spot nodes, a node rebooting); reboots and preemptions also recur
for as long as the world runs, drawn per node per period from their own RNG.

Times are world seconds (floats since the world's start; allocations before it are negative).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from batchtui.sim.catalog import mix

INF = math.inf


@dataclass(frozen=True, slots=True)
class NodeError:
    """One of a node's ``errors[]`` (``BatchNodeError``)."""

    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch in which the node runs no task: its states in order, and what comes after."""

    kind: str  # allocate, reboot, preempt, unusable, offline, unknown, leave
    start: float
    phases: tuple[tuple[str, float], ...]  # (node state, from); the last lasts until ``end``
    end: float  # back up (idle) from here; INF: never
    boot: float | None = None  # the lastBootTime it leaves (reached at the waitingforstarttask phase)
    start_task: tuple[float, float] | None = None  # when the start task ran (start, end)
    start_task_failed: bool = False
    errors: tuple[NodeError, ...] = ()
    scheduling_disabled: bool = False

    def phase_at(self, t: float) -> tuple[str, float]:
        state, since = self.phases[0]
        for s, at in self.phases:
            if at <= t:
                state, since = s, at
        return state, since


@dataclass(frozen=True, slots=True)
class NodePlan:
    index: int
    id: str
    dedicated: bool
    ip: str
    allocated: float  # allocationTime
    removed: float  # leaves the pool (leavingpool) at this instant; INF: never
    windows: tuple[Window, ...]  # fixed ones, by start; the first is the allocation
    reboots: bool  # reboots now and then (dedicated nodes, not the bad one)
    preemptible: bool  # a spot node: preempted now and then

    @property
    def gone_at(self) -> float:
        return self.removed + LEAVING if self.removed < INF else INF


@dataclass(frozen=True, slots=True)
class Resize:
    """From ``at`` on, the pool's targets are these; it is resizing until ``steady``."""

    at: float
    dedicated: int
    low_priority: int
    steady: float
    errors: tuple[NodeError, ...] = ()  # set when it ended short of its target


@dataclass(frozen=True, slots=True)
class Pool:
    id: str
    vm_size: str
    node_ids: tuple[str, ...]  # index = the node number tasks carry
    created: float = 0.0
    nodes: tuple[NodePlan, ...] = ()
    resizes: tuple[Resize, ...] = ()
    slots_per_node: int = 1
    inter_node: bool = False
    start_task: str = ""
    image: tuple[str, str, str] = ("canonical", "0001-com-ubuntu-server-jammy", "22_04-lts")
    bad_node: int = -1  # tasks on this node fail far more often than elsewhere
    bad_since: float = INF
    seed: int = 0  # of the recurring reboots and preemptions
    _periodic: dict[tuple[int, int], Window | None] = field(default_factory=dict, compare=False, repr=False)

    # ---------------------------------------------------------------- windows

    def windows(self, node: NodePlan, a: float, b: float) -> list[Window]:
        """Every window of ``node`` that overlaps [a, b], by start."""
        out = [w for w in node.windows if w.start <= b and w.end > a]
        if node.reboots or node.preemptible:
            period = PREEMPT_PERIOD if node.preemptible else REBOOT_PERIOD
            first = math.floor((a - MAX_PERIODIC) / period)
            for p in range(first, math.floor(b / period) + 1):
                w = self._periodic_window(node, p, period)
                if w is not None and w.start <= b and w.end > a:
                    out.append(w)
            out.sort(key=lambda w: w.start)
        return out

    def last_window(self, node: NodePlan, t: float) -> Window | None:
        """The latest window that began by ``t`` (its phases say the state, if it still lasts)."""
        fixed = [w for w in node.windows if w.start <= t]
        best = fixed[-1] if fixed else None
        if best is not None and best.end == INF:
            return best
        if node.reboots or node.preemptible:
            period = PREEMPT_PERIOD if node.preemptible else REBOOT_PERIOD
            p = math.floor(t / period)
            floor = best.start if best is not None else node.allocated
            while (p + 1) * period > floor:
                w = self._periodic_window(node, p, period)
                if w is not None and w.start <= t:
                    if best is None or w.start > best.start:
                        best = w
                    break
                p -= 1
        return best

    def last_boot_window(self, node: NodePlan, t: float) -> Window | None:
        """The latest window whose boot (the lastBootTime it leaves) was reached by ``t``."""
        w = self.last_window(node, t)
        while w is not None and (w.boot is None or w.boot > t):
            w = self.last_window(node, w.start - 1e-6)
        return w

    def usable(self, k: int, a: float, b: float) -> bool:
        """Node ``k`` can hold a task from ``a`` to ``b``: in the pool and in no window."""
        node = self.nodes[k]
        if a < node.allocated or b >= node.removed:
            return False
        return not self.windows(node, a, b)

    def place(self, candidate: int, a: float, b: float, taken: frozenset[int] = frozenset()) -> int:
        """The first node from ``candidate`` on that is usable for [a, b] and not ``taken``."""
        n = len(self.nodes)
        for step in range(n):
            k = (candidate + step) % n
            if k not in taken and self.usable(k, a, b):
                return k
        for step in range(n):  # the whole pool is down: still one node per rank
            k = (candidate + step) % n
            if k not in taken:
                return k
        return candidate

    def _periodic_window(self, node: NodePlan, p: int, period: float) -> Window | None:
        key = (node.index, p)
        if key in self._periodic:
            return self._periodic[key]
        rng = random.Random(mix(self.seed, node.index, p, 0x5EB0))
        w: Window | None = None
        if rng.random() < (PREEMPT_CHANCE if node.preemptible else REBOOT_CHANCE):
            at = p * period + rng.uniform(0, period - MAX_PERIODIC)
            if node.preemptible:
                w = boot_window("preempt", at, "preempted", rng.uniform(600, 2400), rng)
            else:
                w = boot_window("reboot", at, "rebooting", rng.uniform(50, 110), rng)
            # Never across a fixed window, before the node existed, or after it left.
            if at < node.allocated + 3600 or w.end >= node.removed:
                w = None
            elif any(f.start <= w.end and f.end > at - 60 for f in node.windows):
                w = None
        if len(self._periodic) > 500_000:
            self._periodic.clear()
        self._periodic[key] = w
        return w


LEAVING = 90.0  # leavingpool lasts this long, then the node is gone
REBOOT_PERIOD = 12 * 3600.0
REBOOT_CHANCE = 0.08
PREEMPT_PERIOD = 4 * 3600.0
PREEMPT_CHANCE = 0.1
MAX_PERIODIC = 2700.0  # no recurring window lasts longer (preempted 40 min + boot)


def boot_window(kind: str, at: float, first: str, first_for: float, rng: random.Random) -> Window:
    """``first`` (creating, rebooting, preempted) for ``first_for`` s, then starting, then the
    start task (waitingforstarttask), then idle."""
    starting = at + first_for
    booted = starting + rng.uniform(25, 60)
    st_start = booted + rng.uniform(2, 7)
    st_end = st_start + rng.uniform(6, 20)
    phases = ((first, at), ("starting", starting), ("waitingforstarttask", booted))
    return Window(kind, at, phases, st_end + 0.2, boot=booted, start_task=(st_start, st_end))


def failed_start(at: float, rng: random.Random) -> Window:
    """Allocated at ``at``; its start task fails every retry and the node stays starttaskfailed."""
    w = boot_window("allocate", at, "creating", rng.uniform(90, 200), rng)
    assert w.start_task is not None
    st_start, _ = w.start_task
    st_end = st_start + rng.uniform(40, 90)  # three tries
    phases = (*w.phases, ("starttaskfailed", st_end))
    return Window(
        "allocate", at, phases, INF, boot=w.boot, start_task=(st_start, st_end), start_task_failed=True
    )


def terminal(kind: str, state: str, at: float, **kw: object) -> Window:
    return Window(kind, at, ((state, at),), INF, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the catalog


@dataclass(frozen=True, slots=True)
class PoolSpec:
    id: str
    vm_size: str
    dedicated: int
    spot: int = 0
    slots: int = 1
    inter_node: bool = False
    start_task: str = "/bin/bash -c 'sudo ./setup-node.sh'"


DISK_FULL = NodeError(
    # A full disk is a documented cause of unusable; the real code is UNCONFIRMED (NEXT-APIS §8.6).
    "DiskFull",
    "There is not enough disk space on the node",
    (("Path", "/mnt/batch/tasks"), ("FreeSpaceMiB", "12")),
)
QUOTA = NodeError(
    "AccountCoreQuotaReached",
    "The specified account has reached VM core quota limit",
    (("CoreQuota", "96"), ("CoresRequested", "384")),
)


def build_pools(seed: int, start: datetime, instances: int, warmup: float) -> dict[str, Pool]:
    """The account's pools; the draws of the first five are as they always were (node ids)."""
    rng = random.Random(mix(seed, 0x9001))
    specs = [
        PoolSpec(
            "pool-hpc-a",
            "standard_hb120rs_v3",
            max(64, instances),
            inter_node=True,
            slots=2,
            start_task="/bin/bash -c 'sudo apt-get install -y openmpi-bin && ./mount-scratch.sh'",
        ),
        PoolSpec("pool-hpc-b", "standard_hc44rs", 32, inter_node=True, slots=2),
        PoolSpec("pool-render-spot", "standard_d16as_v5", 8, spot=40, slots=8),
        PoolSpec("pool-etl-d16", "standard_d16ds_v5", 16, slots=8),
        PoolSpec("pool-gpu-nc24", "standard_nc24ads_a100_v4", 8, slots=2),
    ]
    pools: dict[str, Pool] = {}
    for pool_no, spec in enumerate(specs):
        base = rng.randint(1_000_000_000, 4_294_967_295)
        allocated = start - timedelta(hours=rng.uniform(2, 30))
        alloc0 = (allocated - start).total_seconds()
        pools[spec.id] = _build(spec, pool_no, mix(seed, pool_no, 0x9002), base, alloc0, start, warmup)
    h100 = "pool-gpu-h100"
    created = warmup - 2 * 3600 - 137.0
    pools[h100] = Pool(
        h100,
        "standard_nd96isr_h100_v5",
        (),
        created=created,
        resizes=(Resize(created, 4, 0, created + 900.0, (QUOTA,)),),
        slots_per_node=1,
        start_task="/bin/bash -c 'sudo ./install-cuda.sh'",
        seed=mix(seed, 5, 0x9002),
    )
    return pools


def _node_stamp(t: datetime) -> str:
    return t.strftime("%Y%m%dt%H%M%Sz")


def _build(
    spec: PoolSpec, pool_no: int, pool_seed: int, base: int, alloc0: float, start: datetime, warmup: float
) -> Pool:
    size = spec.dedicated + spec.spot
    resize_at = warmup - 150.0 if spec.id == "pool-hpc-b" else INF
    late_from = 24 if spec.id == "pool-hpc-b" else size  # nodes the hpc-b resize brings
    removed_from = size - 4 if spec.id == "pool-render-spot" else size  # scaled down an hour ago
    remove_at = warmup - 3600.0 - 41.0
    nodes: list[NodePlan] = []
    ids: list[str] = []
    for k in range(size):
        rng = random.Random(mix(pool_seed, k, 0xA110))
        if k >= late_from:
            at = resize_at + (k - late_from) * 17.0 + rng.uniform(0, 4)
        else:
            # nodes come up in batches, each batch with its own allocation stamp
            at = alloc0 + (k // 16) * 41 + (k % 16) // 5
        stamp = _node_stamp(start + timedelta(seconds=math.floor(at)))
        node_id = f"tvm-{base}_{k + 1}-{stamp}"
        fixed, start_fails = _scenario(spec.id, k, warmup, rng)
        if start_fails:
            windows = [failed_start(at, rng)]
        else:
            windows = [boot_window("allocate", at, "creating", rng.uniform(90, 200), rng), *fixed]
        removed = remove_at + (k - removed_from) * 3.0 if k >= removed_from else INF
        if removed < INF:
            windows.append(terminal("leave", "leavingpool", removed))
        dedicated = k < spec.dedicated
        bad = spec.id == "pool-etl-d16" and k == BAD_NODE
        nodes.append(
            NodePlan(
                index=k,
                id=node_id,
                dedicated=dedicated,
                ip=f"10.{pool_no}.{k // 250}.{k % 250 + 4}",
                allocated=at,
                removed=removed,
                windows=tuple(sorted(windows, key=lambda w: w.start)),
                reboots=dedicated and not bad and not any(w.end == INF for w in windows),
                preemptible=not dedicated and not any(w.end == INF for w in windows),
            )
        )
        ids.append(node_id)
    first_up = max(n.allocated for n in nodes[:late_from]) + 60.0
    resizes = [Resize(alloc0 - 300.0, late_from - spec.spot, spec.spot, first_up)]
    if resize_at < INF:
        resizes.append(Resize(resize_at, size, spec.spot, nodes[-1].allocated + 30.0))
    if removed_from < size:
        resizes.append(Resize(remove_at, spec.dedicated, spec.spot - (size - removed_from), remove_at + 95.0))
    return Pool(
        spec.id,
        spec.vm_size,
        tuple(ids),
        created=alloc0 - 300.0,
        nodes=tuple(nodes),
        resizes=tuple(resizes),
        slots_per_node=spec.slots,
        inter_node=spec.inter_node,
        start_task=spec.start_task,
        bad_node=BAD_NODE if spec.id == "pool-etl-d16" else -1,
        bad_since=warmup - 3 * 3600.0 if spec.id == "pool-etl-d16" else INF,
        seed=pool_seed,
    )


BAD_NODE = 6  # tvm-…_7-…: "15 of the 18 failures were on this node"


def _scenario(pool_id: str, k: int, warmup: float, rng: random.Random) -> tuple[list[Window], bool]:
    """The fixed windows of node ``k`` (what the world shows at the end of its warm-up), and
    whether its start task fails from the first boot on."""
    out: list[Window] = []
    if pool_id == "pool-hpc-a":
        if k == 3:
            return out, True
        if k == 9:
            out.append(terminal("unusable", "unusable", warmup - 3000.0, errors=(DISK_FULL,)))
        elif k == 5:
            out.append(boot_window("reboot", warmup - 45.0, "rebooting", 80.0, rng))
    elif pool_id == "pool-render-spot":
        if k == 12:
            out.append(terminal("offline", "offline", warmup - 7200.0, scheduling_disabled=True))
        elif k == 20:
            out.append(boot_window("preempt", warmup - 1500.0, "preempted", 2400.0, rng))
        elif k == 31:
            out.append(boot_window("preempt", warmup - 300.0, "preempted", 1800.0, rng))
    elif pool_id == "pool-etl-d16" and k == 13:
        out.append(terminal("unusable", "unusable", warmup - 1500.0, errors=(DISK_FULL,)))
    elif pool_id == "pool-gpu-nc24" and k == 5:
        out.append(terminal("unknown", "unknown", warmup - 600.0))  # lost contact
    return out, False
