"""Which files the world's tasks, ranks and nodes hold at sim time ``t``.

A task's files are those of its latest attempt (a retry starts afresh), readable once it runs;
a multi-instance task's primary is the task itself and rank ``i`` has its own root
``{task root}\\{i}`` on its own node. A node holds the standard root directories, its start
task's output, and the roots of every task and rank that ran on it (until their retention
time passes). Content comes from :mod:`batchtui.sim.files`.
"""

from __future__ import annotations

from batchtui.sim.catalog import KINDS, mix
from batchtui.sim.file_content import Run
from batchtui.sim.files import SimFile, task_files
from batchtui.sim.node_views import start_task_window
from batchtui.sim.schedule import JobPlan, TaskSpec
from batchtui.sim.start_task_files import start_task_files
from batchtui.sim.world import World

RETENTION = 7 * 24 * 3600.0  # constraints.retentionTime of every simulated task (P7D)
NODE_DIRS = ("applications", "fsmounts", "shared", "startup", "volatile", "workitems")


def _kind_name(plan: JobPlan) -> str:
    return next(name for name, kind in KINDS.items() if kind is plan.kind)


def task_run(world: World, plan: JobPlan, spec: TaskSpec, t: float) -> Run | None:
    """The process behind a task's files at ``t`` (its latest attempt; the primary for a
    multi-instance task), or None while it is not running or completed."""
    attempts = world.effective_attempts(plan, spec)
    started = [a for a in attempts if a.prep <= t]
    if not started or world.task_view(plan, spec, t).state not in ("running", "completed"):
        return None
    return _run(world, plan, spec, len(started) - 1, 0)


def rank_run(world: World, plan: JobPlan, spec: TaskSpec, rank: int, t: float) -> Run | None:
    """The process of rank ``rank`` (1..N-1) of a multi-instance task, once it has started."""
    views = {v.spec.id: v for v in world.subtask_views(plan, spec, t)}
    view = views.get(rank)
    if view is None or view.state == "preparing":
        return None
    return _run(world, plan, spec, 0, rank)


def _run(world: World, plan: JobPlan, spec: TaskSpec, attempt: int, rank: int) -> Run:
    pool = world.pools[plan.kind.pool]
    a = world.effective_attempts(plan, spec)[attempt]
    run, end, outcome, code = a.run, a.end, a.outcome, a.exit_code
    nodes: tuple[str, ...] = (pool.node_ids[a.on(spec.node)],)  # a node action may have moved it
    bad_rank, bad_end, mode = 0, 0.0, ""
    if spec.mi is not None:
        term = world.termination(plan)
        subs = world.subtasks_of(plan, spec)
        nodes += tuple(pool.node_ids[s.node] for s in subs)
        bad_rank, mode = spec.mi.bad_rank, spec.mi.mode
        ends = {s.id: (max(term, s.run) if term < s.end else s.end) for s in subs}
        bad_end = ends.get(bad_rank, end)
        if rank:
            sub = subs[rank - 1]
            run, end = sub.run, ends[rank]
            outcome, code = (sub.outcome, sub.exit_code) if end == sub.end else ("terminated", 137)
    return Run(
        key=mix(world.seed, plan.index, spec.index, attempt, rank, 0xF11E),
        kind=_kind_name(plan),
        job_id=plan.id,
        task_id=spec.id,
        topic=plan.topic,
        command=spec.command_line,
        number=spec.id.rsplit("-", 1)[-1],
        rank=rank,
        nodes=nodes,
        run=run,
        end=end,
        outcome=outcome,
        exit_code=code,
        bad_rank=bad_rank,
        bad_end=bad_end,
        mode=mode,
        epoch=world.start.replace(tzinfo=None),
    )


def task_root(plan: JobPlan, spec: TaskSpec, rank: int = 0) -> str:
    """As the world's ``nodeInfo.taskRootDirectory`` writes it."""
    root = f"workitems\\{plan.id}\\job-1\\{spec.id}"
    return f"{root}\\{rank}" if rank else root


def expired(run: Run, t: float) -> bool:
    return run.end <= t and t > run.end + RETENTION


def node_runs(world: World, pool_id: str, node: int, t: float) -> list[tuple[str, Run]]:
    """(root, run) of every task and rank whose files are on node ``node`` of the pool at ``t``."""
    out: list[tuple[str, Run]] = []
    for job_id in world.job_ids_after(t):
        plan = world.plan(job_id)
        if plan is None or plan.kind.pool != pool_id:
            continue
        for spec in world.visible_tasks(plan, t):
            if world.task_node(plan, spec, t) == node:
                run = task_run(world, plan, spec, t)
                if run is not None and not expired(run, t):
                    out.append((task_root(plan, spec), run))
            if spec.mi is not None:
                for sub in world.subtasks_of(plan, spec):
                    if sub.node == node:
                        rank = rank_run(world, plan, spec, sub.id, t)
                        if rank is not None and not expired(rank, t):
                            out.append((task_root(plan, spec, sub.id), rank))
    return out


def _startup(world: World, pool_id: str, node: int, t: float) -> list[SimFile]:
    """The start task's directory: the files of the start task ``startTaskInfo`` describes."""
    pool = world.pools[pool_id]
    plan = pool.nodes[node]
    window = start_task_window(pool, plan, world.nodes.overrides.get((pool_id, node)), t)
    return start_task_files(pool, plan, window)


def node_tree(world: World, pool_id: str, node: int, t: float) -> list[SimFile]:
    """Every file and directory on the node at ``t``, named from the node root."""
    out = [SimFile(name, None, 0.0) for name in NODE_DIRS]
    out += _startup(world, pool_id, node, t)
    seen = set(NODE_DIRS)
    for root, run in node_runs(world, pool_id, node, t):
        parts = root.split("\\")
        for k in range(2, len(parts) + 1):
            name = "\\".join(parts[:k])
            if name not in seen:
                seen.add(name)
                out.append(SimFile(name, None, run.run))
        out += [SimFile(f"{root}\\{f.name}", f.content, f.created) for f in task_files(run)]
    return out


def node_file(world: World, pool_id: str, node: int, path: str, t: float) -> SimFile | None:
    """The file or directory at ``path`` on the node (either separator, any case)."""
    parts = [p for p in path.replace("/", "\\").split("\\") if p]
    found = _run_file(world, pool_id, node, parts, t)
    if found is not None:
        return found
    if len(parts) > 1 and parts[0].lower() == "startup":  # the log tail's HEAD a tick: not the whole node
        wanted = "\\".join(parts).lower()
        return next((f for f in _startup(world, pool_id, node, t) if f.name.lower() == wanted), None)
    wanted = "\\".join(parts).lower()
    for f in node_tree(world, pool_id, node, t):
        if f.name.lower() == wanted:
            return f
    return None


def _run_file(world: World, pool_id: str, node: int, parts: list[str], t: float) -> SimFile | None:
    """A file under a task's or rank's root, found without listing the whole node (the log
    tail's HEAD and GET every tick)."""
    if len(parts) < 5 or parts[0].lower() != "workitems" or parts[2].lower() != "job-1":
        return None
    plan = world.find_job(parts[1], t)
    spec = world.find_task(plan, parts[3], t) if plan is not None else None
    if plan is None or spec is None or plan.kind.pool != pool_id:
        return None
    rank = int(parts[4]) if spec.mi is not None and parts[4].isdigit() else 0
    rest = "\\".join(parts[5:] if rank else parts[4:]).lower()
    on = _rank_node(world, plan, spec, rank) if rank else world.task_node(plan, spec, t)
    run = rank_run(world, plan, spec, rank, t) if rank else task_run(world, plan, spec, t)
    if on != node or run is None or expired(run, t) or not rest:
        return None
    return next((f for f in task_files(run) if f.name.lower() == rest), None)


def _rank_node(world: World, plan: JobPlan, spec: TaskSpec, rank: int) -> int | None:
    for sub in world.subtasks_of(plan, spec):
        if sub.id == rank:
            return sub.node
    return None
