"""What each action means, in the operator's words, built from what the screen already shows.

Pure (no Textual): a plan names its entities and its consequence ("terminate task solver-00
of mpi-cfd-0001: its 8 ranks stop; 7 are running"), says whether it is destructive, and knows
how to tell from a re-read whether an unanswered request took effect.
"""

from __future__ import annotations

from collections.abc import Sequence

from batchtui.batch import actions
from batchtui.batch.client import BatchClient
from batchtui.batch.models import Job, Task, TaskCounts
from batchtui.refresh.actions import ActionPlan, Target, plural


def terminate_jobs(jobs: Sequence[tuple[Job, TaskCounts | None]], reason: str | None = None) -> ActionPlan:
    running = sum(c.running for _, c in jobs if c is not None)
    active = sum(c.active for _, c in jobs if c is not None)
    parts = []
    if running:
        parts.append(f"{plural(running, 'running task')} stop")
    if active:
        parts.append(f"{plural(active, 'waiting task')} never run")
    consequence = "; ".join(parts) or "no task is running"
    if len(jobs) == 1 and parts:
        consequence = "its " + consequence.replace("1 running task stop", "1 running task stops")
    targets = tuple(_terminate_job(job.id or "", reason) for job, _ in jobs)
    ids = [j.id or "" for j, _ in jobs]
    return ActionPlan(
        "terminate job",
        targets,
        consequence,
        destructive=running > 0,
        confirm_text=ids[0] if len(ids) == 1 else str(len(ids)),
    )


def disable_job(job: Job, counts: TaskCounts | None, mode: actions.DisableTasks) -> ActionPlan:
    running = counts.running if counts else 0
    what = {
        "requeue": f"its {plural(running, 'running task')} are stopped and queued again",
        "terminate": f"its {plural(running, 'running task')} are stopped and fail",
        "wait": f"its {plural(running, 'running task')} finish; no new task starts",
    }[mode]
    target = Target(
        f"job {job.id}",
        lambda c: actions.disable_job(c, job.id or "", mode),
        lambda c: _job_state_in(c, job.id or "", ("disabling", "disabled")),
    )
    return ActionPlan(f"disable ({mode}) job", (target,), what)


def enable_job(job: Job) -> ActionPlan:
    target = Target(
        f"job {job.id}",
        lambda c: actions.enable_job(c, job.id or ""),
        lambda c: _job_state_in(c, job.id or "", ("enabling", "active")),
    )
    return ActionPlan("enable job", (target,), "its waiting tasks may start again")


def terminate_tasks(job_id: str, tasks: Sequence[Task], running_ranks: int | None = None) -> ActionPlan:
    targets = tuple(_terminate_task(job_id, t.id or "") for t in tasks)
    if len(tasks) == 1 and tasks[0].is_multi_instance:
        mis = tasks[0].multi_instance_settings
        n = mis.number_of_instances if mis else None
        ranks = f"its {n} ranks stop" if n else "its ranks stop"
        consequence = f"{ranks}; {running_ranks} are running" if running_ranks is not None else ranks
    else:
        running = sum(1 for t in tasks if t.state in ("running", "preparing"))
        consequence = f"{plural(running, 'running task')} stop" if running else "they complete"
        if len(tasks) == 1:
            consequence = "it stops" if running else "it completes without running"
    return ActionPlan("terminate task", targets, consequence)


def reactivate_tasks(job_id: str, tasks: Sequence[Task]) -> ActionPlan:
    targets = tuple(_reactivate_task(job_id, t.id or "") for t in tasks)
    consequence = ("it runs" if len(tasks) == 1 else "they run") + " again, retry count reset to 0"
    return ActionPlan("reactivate task", targets, consequence)


def delete_task(job_id: str, task: Task) -> ActionPlan:
    target = Target(
        f"task {task.id} of {job_id}",
        lambda c: actions.delete_task(c, job_id, task.id or ""),
        lambda c: _task_gone(c, job_id, task.id or ""),
    )
    return ActionPlan(
        "delete task",
        (target,),
        "it and its files on the node are gone for good",
        destructive=True,
        confirm_text=task.id or "",
    )


# ---------------------------------------------------------------------- one target each


def _terminate_job(job_id: str, reason: str | None) -> Target:
    return Target(
        f"job {job_id}",
        lambda c: actions.terminate_job(c, job_id, reason),
        lambda c: _job_state_in(c, job_id, ("terminating", "completed")),
    )


def _terminate_task(job_id: str, task_id: str) -> Target:
    return Target(
        f"task {task_id} of {job_id}",
        lambda c: actions.terminate_task(c, job_id, task_id),
        lambda c: _task_state_in(c, job_id, task_id, ("completed",)),
    )


def _reactivate_task(job_id: str, task_id: str) -> Target:
    return Target(
        f"task {task_id} of {job_id}",
        lambda c: actions.reactivate_task(c, job_id, task_id),
        lambda c: _task_state_in(c, job_id, task_id, ("active", "preparing", "running")),
    )


# ---------------------------------------------------------------------- re-reads


async def _job_state_in(client: BatchClient, job_id: str, states: tuple[str, ...]) -> bool:
    job = await client.get_job(job_id, select=("id", "state"))
    return job.state in states


async def _task_state_in(client: BatchClient, job_id: str, task_id: str, states: tuple[str, ...]) -> bool:
    task = await client.get_task(job_id, task_id, select=("id", "state"))
    return task.state in states


async def _task_gone(client: BatchClient, job_id: str, task_id: str) -> bool:
    from batchtui.batch.errors import BatchServiceError

    try:
        await client.get_task(job_id, task_id, select=("id",))
    except BatchServiceError as exc:
        if exc.status == 404:
            return True
        raise
    return False
