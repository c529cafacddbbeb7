"""What each action means, in the operator's words, built from what the screen already shows.

Pure (no Textual): a plan names its entities and its consequence ("terminate task solver-00
of mpi-cfd-0001: its 8 ranks stop; 7 are running"), says whether it is destructive, and knows
how to tell from a re-read whether an unanswered request took effect.
"""

from __future__ import annotations

from collections.abc import Sequence

from batchtui.batch import actions
from batchtui.batch.client import BatchClient
from batchtui.batch.models import Job, TaskCounts
from batchtui.batch.task_models import Task
from batchtui.refresh.actions import ActionPlan, Target, plural


def _says(n: int, noun: str, one: str, many: str) -> str:
    """'1 running task stops' / '3 running tasks stop'."""
    return f"{plural(n, noun)} {one if n == 1 else many}"


def terminate_jobs(jobs: Sequence[tuple[Job, TaskCounts | None]], reason: str | None = None) -> ActionPlan:
    """Terminate each job (with ``reason`` as its terminateReason; the service's default is
    UserTerminate). Destructive when tasks are running: they are killed."""
    running = sum(c.running for _, c in jobs if c is not None)
    active = sum(c.active for _, c in jobs if c is not None)
    parts = []
    if running:
        parts.append(_says(running, "running task", "stops", "stop"))
    if active:
        parts.append(_says(active, "waiting task", "never runs", "never run"))
    consequence = "; ".join(parts) or "no task of it is running"
    if len(jobs) == 1 and parts:
        consequence = "its " + consequence
    elif len(jobs) > 1 and not parts:
        consequence = "no task of theirs is running"
    if reason:
        consequence += f" (reason: {reason})"
    targets = tuple(_terminate_job(job.id or "", reason) for job, _ in jobs)
    ids = [j.id or "" for j, _ in jobs]
    return ActionPlan(
        "terminate job",
        targets,
        consequence,
        destructive=running > 0,
        confirm_text=ids[0] if len(ids) == 1 else str(len(ids)),
    )


def disable_jobs(jobs: Sequence[tuple[Job, TaskCounts | None]], mode: actions.DisableTasks) -> ActionPlan:
    """Disable each job: no new task starts; its running tasks are requeued, terminated or let be."""
    running = sum(c.running for _, c in jobs if c is not None)
    whose = "its" if len(jobs) == 1 else "their"
    tasks = f"{whose} {plural(running, 'running task')}" if running else ""
    what = {
        "requeue": f"{tasks} {'is' if running == 1 else 'are'} stopped and queued again",
        "terminate": f"{tasks} {'is' if running == 1 else 'are'} stopped and fail",
        "wait": f"{tasks} {'finishes' if running == 1 else 'finish'}",
    }[mode]
    consequence = "no new task starts" + (f"; {what}" if running else "")
    targets = tuple(_disable_job(job.id or "", mode) for job, _ in jobs)
    return ActionPlan(f"disable ({mode}) job", targets, consequence)


def disable_job(job: Job, counts: TaskCounts | None, mode: actions.DisableTasks) -> ActionPlan:
    return disable_jobs([(job, counts)], mode)


def enable_jobs(jobs: Sequence[Job]) -> ActionPlan:
    targets = tuple(_enable_job(job.id or "") for job in jobs)
    whose = "its" if len(jobs) == 1 else "their"
    return ActionPlan("enable job", targets, f"{whose} waiting tasks may start again")


def enable_job(job: Job) -> ActionPlan:
    return enable_jobs([job])


def terminate_tasks(job_id: str, tasks: Sequence[Task], running_ranks: int | None = None) -> ActionPlan:
    """Terminate each of ``tasks``; ``running_ranks``: how many ranks of a lone MPI task run now."""
    targets = tuple(_terminate_task(job_id, t.id or "") for t in tasks)
    running = sum(1 for t in tasks if t.state in ("running", "preparing"))
    done = sum(1 for t in tasks if t.state == "completed")
    waiting = len(tasks) - running - done
    if len(tasks) == 1:
        task = tasks[0]
        mis = task.multi_instance_settings
        if task.state == "completed":
            consequence = "it has already completed (the service will refuse)"
        elif task.is_multi_instance:
            n = mis.number_of_instances if mis else None
            ranks = f"its {n} ranks stop" if n else "its ranks stop"
            if running_ranks is not None:
                ranks += f"; {running_ranks} {'is' if running_ranks == 1 else 'are'} running"
            consequence = ranks
        else:
            consequence = "it stops" if running else "it completes without running"
    else:
        parts = [
            f"{running} running {'stops' if running == 1 else 'stop'}" if running else "",
            f"{waiting} waiting never {'runs' if waiting == 1 else 'run'}" if waiting else "",
            f"{done} already completed (refused)" if done else "",
        ]
        consequence = "; ".join(p for p in parts if p)
    return ActionPlan("terminate task", targets, consequence)


def failed_only(tasks: Sequence[Task]) -> tuple[list[Task], int]:
    """The tasks that can be reactivated (completed and failed), and how many others were left out."""
    from batchtui.ui.task_rows import task_failed

    failed = [t for t in tasks if task_failed(t)]
    return failed, len(tasks) - len(failed)


def reactivate_tasks(job_id: str, tasks: Sequence[Task], skipped: int = 0) -> ActionPlan:
    """Reactivate ``tasks`` (failed ones: see failed_only); ``skipped``: marked ones left out."""
    targets = tuple(_reactivate_task(job_id, t.id or "") for t in tasks)
    consequence = ("it runs" if len(tasks) == 1 else "they run") + " again, retry count reset to 0"
    if skipped:
        consequence += f"; {plural(skipped, 'task')} not failed {'is' if skipped == 1 else 'are'} skipped"
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


def _disable_job(job_id: str, mode: actions.DisableTasks) -> Target:
    return Target(
        f"job {job_id}",
        lambda c: actions.disable_job(c, job_id, mode),
        lambda c: _job_state_in(c, job_id, ("disabling", "disabled")),
    )


def _enable_job(job_id: str) -> Target:
    return Target(
        f"job {job_id}",
        lambda c: actions.enable_job(c, job_id),
        lambda c: _job_state_in(c, job_id, ("enabling", "active")),
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
