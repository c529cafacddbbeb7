"""The state of the task (or rank, or node start task) whose log is open: the log tail follows
while it runs.

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


@dataclass(frozen=True, slots=True)
class StartTaskState:
    """A node's start task, as its ``startTaskInfo`` says (``state``: running, completed)."""

    pool_id: str
    node_id: str
    node_state: str | None
    state: str | None  # None: no start task has run on the node (yet)


class StartTaskStatePoller:
    """Reads a node's start task state (``$select=id,state,startTaskInfo``): the log of its
    output follows while it runs. A reboot runs it again, so a completed one is still read,
    slowly."""

    def __init__(self, client: BatchClient, pool_id: str, node_id: str) -> None:
        self.client = client
        self.pool_id = pool_id
        self.node_id = node_id
        self.state: str | None = None

    def __repr__(self) -> str:
        return f"StartTaskStatePoller({self.pool_id!r}, {self.node_id!r})"

    def interval(self, base: float) -> float:
        return done_interval(base) if self.state == "completed" else base

    async def poll(self, reason: str) -> StartTaskState:
        node = await self.client.get_node(self.pool_id, self.node_id, select=("id", "state", "startTaskInfo"))
        info = node.start_task_info
        self.state = info.state if info is not None else None
        return StartTaskState(self.pool_id, self.node_id, node.state, self.state)
