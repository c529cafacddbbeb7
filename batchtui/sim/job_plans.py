"""The seeded plan of each job: a handful of draws fixed when the world is built.

A plan says what the job is (kind, pool, size, title), when it was created and what will happen
to it (its fate and when: terminate, disable, delete). The first jobs of a world are not drawn
at random but placed on the anchor ladder below, so that the world frozen at the end of its
warm-up always shows every job state.

The draws are made in one fixed order from one RNG per job: reordering them, or skipping one,
changes every later draw and so the whole world of that seed. Each step below therefore draws
everything it always drew, even where an anchor then overrides the value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from batchtui.sim.catalog import KIND_WEIGHTS, KINDS, TOPICS, Kind, mix
from batchtui.sim.schedule import (
    ALL_TASKS,
    DISABLED,
    INF,
    MI_ALL_FAIL,
    MI_OK,
    MI_RANK_FAILS,
    MI_STRAGGLER,
    OPEN,
    TASK_FAILED,
    USER_TERMINATE,
    WALL_CLOCK,
    JobPlan,
)

# Units of the terms in Anchor.created_ago (each term is (amount, unit)).
SECONDS = "s"
PLANNED = "planned"  # the job's planned duration (waves x wave length)
WAVES = "waves"  # one wave of the job's tasks
MID_WAVE = "mid-wave"  # to the middle of the wave this fraction of the way through the job

ANCHOR_VANISH = 120.0  # a deleting anchor disappears this long after its delete


@dataclass(frozen=True, slots=True)
class Anchor:
    """One rung of the ladder: a job placed so the world at the end of warm-up shows a state."""

    shows: str  # what the frozen world shows through this job (for the reader)
    kind: str
    fate: str
    # How long before the end of warm-up the job was created: terms subtracted in this order
    # (the order is part of the world: float subtraction does not reassociate).
    created_ago: tuple[tuple[float, str], ...]
    terminated_ago: float | None = None  # the user terminated it this long before warm-up ended
    disabled_ago: float | None = None  # disabled this long before, never re-enabled
    deleted_ago: float | None = None  # deleted this long before (gone ANCHOR_VANISH later)
    term_delay: float | None = None  # terminating -> completed, when it matters
    wall_clock_frac: float | None = None  # the job's maxWallClockTime, as a part of its plan
    n_tasks: int | None = None  # multi-instance anchors: how many solvers, in which modes
    mi_modes: tuple[str, ...] | None = None


ANCHORS: tuple[Anchor, ...] = (
    Anchor(
        "active, tasks running in the middle of a wave",
        "render",
        ALL_TASKS,
        ((0.4, MID_WAVE), (5.02, SECONDS)),
    ),
    Anchor(
        "MPI solvers: a failed rank, a straggler, one done, one still running",
        "mpi",
        OPEN,
        ((0.45, WAVES), (5.02, SECONDS)),
        n_tasks=4,
        mi_modes=(MI_RANK_FAILS, MI_STRAGGLER, MI_OK, "ok-long"),
    ),
    Anchor("completed long ago", "genomics", ALL_TASKS, ((1.5, PLANNED), (600, SECONDS))),
    Anchor(
        "terminating (the user terminated it 30 s ago)",
        "etl",
        USER_TERMINATE,
        ((30, SECONDS), (0.5, PLANNED)),
        terminated_ago=30,
        term_delay=300.0,
    ),
    Anchor(
        "disabled 15 minutes ago",
        "render",
        DISABLED,
        ((900, SECONDS), (0.3, PLANNED)),
        disabled_ago=900,
    ),
    Anchor("deleting (deleted 20 s ago)", "ml", OPEN, ((0.7, PLANNED),), deleted_ago=20),
    Anchor("completed: a task failed", "etl", TASK_FAILED, ((1.2, PLANNED), (600, SECONDS))),
    Anchor(
        "completed: its wall clock ran out an hour ago",
        "genomics",
        WALL_CLOCK,
        ((0.5, PLANNED), (3600, SECONDS)),
        wall_clock_frac=0.5,
    ),
    Anchor(
        "queued: its pool never got a node (the resize hit AccountCoreQuotaReached)",
        "gpu",
        OPEN,
        ((2400, SECONDS),),
    ),
)


@dataclass(slots=True)
class _Draft:
    """A plan being drawn: the steps below fill it in, in draw order."""

    i: int
    rng: random.Random
    anchor: Anchor | None
    kind: Kind
    topic: str = ""
    title: str = ""
    priority: int = 0
    wave: float = 0.0
    n_tasks: int = 0
    parallel: int = 0
    mi_modes: tuple[str, ...] = ()
    slots: int = 0
    max_retries: int = 0
    planned: float = 0.0
    fate: str = OPEN
    created: float = 0.0
    start: float = 0.0
    # the spare dice: drawn for every job, used by the fates that need them
    term_delay: float = 0.0
    disable_delay: float = 0.0
    term_frac: float = 0.0
    wc_frac: float = 0.0
    dis_frac: float = 0.0
    enable_gap: float = INF
    delete_roll: float = 0.0
    delete_gap: float = 0.0
    vanish_gap: float = 0.0
    failing_pick: int = 0
    # the timeline
    term: float = INF
    wall_clock: float | None = None
    disable_at: float = INF
    enable_at: float = INF
    delete_at: float = INF
    vanish_at: float = INF
    failing_task: int = -1


def plan_job(
    seed: int, i: int, *, n_initial: int, tasks_typical: int, warmup: float, interval: float
) -> JobPlan:
    """The plan of job ``i``: jobs below ``n_initial`` exist at the end of warm-up, later ones
    arrive every ``interval`` seconds after it."""
    rng = random.Random(mix(seed, i, 0x10B))
    anchor = ANCHORS[i] if i < min(n_initial, len(ANCHORS)) else None
    kind = KINDS[anchor.kind if anchor else _draw_kind(rng)]
    d = _Draft(i, rng, anchor, kind)
    _draw_identity(d)
    _draw_shape(d, tasks_typical)
    _draw_fate(d)
    _draw_created(d, n_initial, warmup, interval)
    _draw_dice(d)
    if anchor is not None:
        _place_on_ladder(d, anchor, warmup)
    d.start = d.created + rng.uniform(0.01, 0.03)
    _schedule_fate(d)
    # Anchored events still land on uneven instants, as real ones do (own RNG: drawing from
    # rng here would shift every later draw, node offsets included, of every job).
    frac = random.Random(mix(seed, i, 0xF4AC)).random()
    if anchor is not None:
        _anchor_events(d, anchor, warmup, frac)
    else:
        _schedule_cleanup(d, later=i >= n_initial)
    return JobPlan(
        index=i,
        id=f"{kind.prefix}-{i:04d}",
        kind=kind,
        display_name=d.title,
        topic=d.topic,
        priority=d.priority,
        created=d.created,
        start=d.start,
        n_tasks=d.n_tasks,
        parallel=d.parallel,
        wave=d.wave,
        slots=d.slots,
        max_retries=d.max_retries,
        fate=d.fate,
        term=d.term,
        term_delay=d.term_delay,
        wall_clock=d.wall_clock,
        disable_at=d.disable_at,
        enable_at=d.enable_at,
        disable_delay=d.disable_delay,
        delete_at=d.delete_at,
        vanish_at=d.vanish_at,
        node_offset=rng.randrange(1 << 16),
        failing_task=d.failing_task,
        mi_modes=d.mi_modes,
    )


def _draw_kind(rng: random.Random) -> str:
    return rng.choices([k for k, _ in KIND_WEIGHTS], [w for _, w in KIND_WEIGHTS])[0]


def _draw_identity(d: _Draft) -> None:
    rng = d.rng
    d.topic = rng.choice(TOPICS)
    d.title = rng.choice(d.kind.titles).format(t=d.topic)
    d.priority = rng.choice((0, 0, 0, 0, 100, 250, 500, -100, 1000))
    d.wave = rng.uniform(*d.kind.wave_minutes) * 60.0


def _draw_shape(d: _Draft, tasks_typical: int) -> None:
    """How many tasks, how many side by side, slots and retries."""
    rng, kind = d.rng, d.kind
    if kind.mpi:
        # The ladder's solvers belong to job 1 whenever it is an MPI job, anchored or not.
        fixed = ANCHORS[1] if d.i == 1 else None
        if fixed is not None and fixed.n_tasks is not None and fixed.mi_modes is not None:
            d.n_tasks, d.mi_modes = fixed.n_tasks, fixed.mi_modes
        else:
            d.n_tasks = rng.randint(3, 6)
            modes, weights = (MI_OK, MI_RANK_FAILS, MI_STRAGGLER, MI_ALL_FAIL), (0.6, 0.15, 0.15, 0.1)
            d.mi_modes = tuple(rng.choices(modes, weights)[0] for _ in range(d.n_tasks))
        d.parallel = d.n_tasks  # all solvers run side by side, each on its own set of nodes
    else:
        typical = round(tasks_typical * rng.lognormvariate(0, 0.6))
        d.n_tasks = max(1, min(20 * tasks_typical, typical))
        d.parallel = rng.randint(*kind.parallel)
    d.slots = rng.choice(kind.slots)
    d.max_retries = rng.choice((0, 1, 3, 3))
    d.planned = math.ceil(d.n_tasks / d.parallel) * d.wave


# What happens to a job, by the roll of one die: (below this, fate), the last one otherwise.
MPI_FATES = ((0.4, ALL_TASKS), (0.7, OPEN), (0.85, USER_TERMINATE), (INF, WALL_CLOCK))
BATCH_FATES = (
    (0.35, ALL_TASKS),
    (0.6, OPEN),
    (0.7, TASK_FAILED),
    (0.78, WALL_CLOCK),
    (0.88, USER_TERMINATE),
    (INF, DISABLED),
)


def _draw_fate(d: _Draft) -> None:
    r = d.rng.random()
    d.fate = next(fate for limit, fate in (MPI_FATES if d.kind.mpi else BATCH_FATES) if r < limit)


def _draw_created(d: _Draft, n_initial: int, warmup: float, interval: float) -> None:
    rng = d.rng
    if d.i < n_initial:
        d.created = max(rng.uniform(0, 900), warmup - rng.uniform(0.05, 2.5) * d.planned)
    else:
        d.created = warmup + (d.i - n_initial + 1) * interval + rng.uniform(-60, 60)


def _draw_dice(d: _Draft) -> None:
    rng = d.rng
    d.term_delay = rng.uniform(0.2, 1.5)
    d.disable_delay = rng.uniform(1, 20)
    d.term_frac = rng.uniform(0.2, 0.9)
    d.wc_frac = rng.uniform(0.3, 0.8)
    d.dis_frac = rng.uniform(0.1, 0.7)
    d.enable_gap = rng.uniform(600, 3600) if rng.random() < 0.5 else INF
    d.delete_roll = rng.random()
    d.delete_gap = rng.uniform(600, 6 * 3600)
    d.vanish_gap = rng.uniform(15, 120)
    d.failing_pick = rng.randrange(min(d.n_tasks, d.parallel))


def _ago(d: _Draft, amount: float, unit: str) -> float:
    if unit == PLANNED:
        return amount * d.planned
    if unit == WAVES:
        return amount * d.wave
    if unit == MID_WAVE:
        waves = math.ceil(d.n_tasks / d.parallel)
        return min(waves - 1, int(waves * amount)) * d.wave + 0.5 * d.wave
    return amount


def _place_on_ladder(d: _Draft, anchor: Anchor, warmup: float) -> None:
    d.fate = anchor.fate
    created = warmup
    for amount, unit in anchor.created_ago:
        created -= _ago(d, amount, unit)
    d.created = created
    if anchor.term_delay is not None:
        d.term_delay = anchor.term_delay
    if anchor.wall_clock_frac is not None:
        d.wc_frac = anchor.wall_clock_frac
    if anchor.disabled_ago is not None:
        d.enable_gap = INF


def _schedule_fate(d: _Draft) -> None:
    """When the job's fate strikes, from its start and plan."""
    if d.fate == ALL_TASKS:
        d.term = d.start + d.planned + d.rng.uniform(0.5, 5)
    elif d.fate == USER_TERMINATE:
        d.term = d.start + d.planned * d.term_frac
    elif d.fate == WALL_CLOCK:
        d.wall_clock = max(60.0, math.floor(d.planned * d.wc_frac / 60) * 60)
        d.term = d.start + d.wall_clock
    elif d.fate == DISABLED:
        d.disable_at = d.start + d.planned * d.dis_frac
        d.enable_at = d.disable_at + d.enable_gap
    elif d.fate == TASK_FAILED:
        d.failing_task = d.failing_pick
        d.term = INF  # known once the failing task's schedule exists


def _anchor_events(d: _Draft, anchor: Anchor, warmup: float, frac: float) -> None:
    """An anchor's terminate, disable or delete at its fixed distance from the end of warm-up."""
    if anchor.terminated_ago is not None:
        d.term = warmup - anchor.terminated_ago - frac
    if anchor.disabled_ago is not None:
        d.disable_at = warmup - anchor.disabled_ago - frac
        d.enable_at = INF
    if anchor.deleted_ago is not None:
        d.delete_at = warmup - anchor.deleted_ago - frac
        d.vanish_at = d.delete_at + ANCHOR_VANISH


def _schedule_cleanup(d: _Draft, *, later: bool) -> None:
    """Whether and when the job is deleted, and when it then disappears from listings."""
    # Jobs submitted after the warm-up are all cleaned up again in time, so that a world
    # left running for days keeps a working set about the size it started with.
    p_terminal, p_open = (1.0, 1.0) if later else (0.3, 0.1)
    roll = d.delete_roll
    if d.fate in (ALL_TASKS, USER_TERMINATE, WALL_CLOCK) and roll < p_terminal:
        d.delete_at = d.term + d.term_delay + d.delete_gap
    elif d.fate == TASK_FAILED and roll < p_terminal:
        # its failing task runs in the first wave, so this is always after it ended
        d.delete_at = d.start + d.planned + 60 + d.delete_gap
    elif d.fate in (OPEN, DISABLED) and roll < p_open:
        d.delete_at = d.start + d.planned * (0.5 + 2.5 * (roll / p_open))
    if d.delete_at < INF:
        d.vanish_at = d.delete_at + d.vanish_gap
