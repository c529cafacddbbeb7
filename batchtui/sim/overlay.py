"""What operators did through the API, kept as timed records beside the seeded world.

The world is a pure function of (seed, sim time); an operator's terminate, disable, enable or
reactivate is not. Each accepted one is recorded here with the sim instant it happened at, and
the views read the world at time t with every record up to t applied (history.py), so the
world stays deterministic: the same requests at the same instants give the same world, and a
view of an instant before a request still shows the world as it was then.
"""

from __future__ import annotations

from dataclasses import dataclass

# Job operations.
TERMINATE = "terminate"
DISABLE = "disable"
ENABLE = "enable"
# Task operations (TERMINATE too).
REACTIVATE = "reactivate"

# How a disable treats the tasks running under it (the service's disableTasks values).
REQUEUE = "requeue"
TERMINATE_TASKS = "terminate"
WAIT = "wait"
DISABLE_MODES = (REQUEUE, TERMINATE_TASKS, WAIT)


@dataclass(frozen=True, slots=True)
class JobOp:
    at: float
    kind: str  # TERMINATE / DISABLE / ENABLE
    arg: str = ""  # TERMINATE: the terminateReason; DISABLE: one of DISABLE_MODES
    settle: float = 0.0  # how long the job stays terminating / disabling


@dataclass(frozen=True, slots=True)
class TaskOp:
    at: float
    kind: str  # TERMINATE / REACTIVATE


class Overlay:
    """Every operator action accepted so far, by job and by task, in the order they happened."""

    def __init__(self) -> None:
        self._jobs: dict[str, tuple[JobOp, ...]] = {}
        self._tasks: dict[tuple[str, str], tuple[TaskOp, ...]] = {}
        self._touched: dict[str, int] = {}  # job id -> how many records it and its tasks have

    def job_ops(self, job_id: str) -> tuple[JobOp, ...]:
        return self._jobs.get(job_id, ())

    def task_ops(self, job_id: str, task_id: str) -> tuple[TaskOp, ...]:
        return self._tasks.get((job_id, task_id), ())

    def touched(self, job_id: str) -> int:
        """How many records concern the job or its tasks (0: the job is as planned)."""
        return self._touched.get(job_id, 0)

    def add_job_op(self, job_id: str, op: JobOp) -> None:
        self._jobs[job_id] = (*self._jobs.get(job_id, ()), op)
        self._touched[job_id] = self._touched.get(job_id, 0) + 1

    def add_task_op(self, job_id: str, task_id: str, op: TaskOp) -> None:
        key = (job_id, task_id)
        self._tasks[key] = (*self._tasks.get(key, ()), op)
        self._touched[job_id] = self._touched.get(job_id, 0) + 1
