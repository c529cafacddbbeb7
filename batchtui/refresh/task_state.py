"""The state of the task (or rank) whose log is open: the log tail follows while it runs.

A log view covers the screen that listed the task, and a covered screen is not refreshed, so
the log screen reads the state itself: the task with ``$select=id,state`` (a few hundred
bytes), or for a rank of a multi-instance task its subtask list. Once it has completed it is
read only slowly (a completed task changes only if it is reactivated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchtui.refresh.views import done_interval

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient


@dataclass(frozen=True, slots=True)
class TaskState:
    job_id: str
    task_id: str
    rank: int | None  # None: the task itself (or the primary of a multi-instance one)
    state: str | None  # None: the rank is not listed (yet)


class TaskStatePoller:
    """Reads one task's (or rank's) state."""

    def __init__(self, client: BatchClient, job_id: str, task_id: str, rank: int | None = None) -> None:
        self.client = client
        self.job_id = job_id
        self.task_id = task_id
        self.rank = rank or None  # rank 0 is the primary: the task's own state
        self.state: str | None = None

    def __repr__(self) -> str:
        rank = f", rank {self.rank}" if self.rank is not None else ""
        return f"TaskStatePoller({self.job_id!r}, {self.task_id!r}{rank})"

    def interval(self, base: float) -> float:
        return done_interval(base) if self.state == "completed" else base

    async def poll(self, reason: str) -> TaskState:
        if self.rank is None:
            task = await self.client.get_task(self.job_id, self.task_id, select=("id", "state"))
            self.state = task.state
        else:
            subtasks = await self.client.list_subtasks(self.job_id, self.task_id, select=("id", "state"))
            self.state = next((s.state for s in subtasks if s.id == self.rank), None)
        return TaskState(self.job_id, self.task_id, self.rank, self.state)
