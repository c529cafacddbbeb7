"""The shapes the world is made of: plans and schedules (fixed), and views (state at an instant)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from batchtui.sim.catalog import Kind

INF = math.inf

# A job's fate: what ends (or suspends) it.
OPEN = "open"  # onAllTasksComplete noaction: stays active when its tasks are done
ALL_TASKS = "AllTasksComplete"
TASK_FAILED = "TaskFailed"
WALL_CLOCK = "MaxWallClockTimeExpiry"
USER_TERMINATE = "UserTerminate"
DISABLED = "disabled"

# How a task (attempt) ends.
SUCCESS = "success"
EXIT = "exit"  # FailureExitCode
BLOB = "blob"  # ResourceFileDownloadFailed / BlobNotFound
CMD = "cmd"  # CommandProgramNotFound
TIMEOUT = "timeout"  # TaskEnded: the task's maxWallClockTime
TERMINATED = "terminated"  # TaskEnded: the job (or the operator) terminated it
REQUEUED = "requeued"  # cut short by a disable (requeue): the task waits to run again, no retry

# Multi-instance modes.
MI_OK = "ok"
MI_RANK_FAILS = "rank-fails"
MI_STRAGGLER = "straggler"
MI_ALL_FAIL = "all-fail"


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True, slots=True)
class Attempt:
    prep: float  # becomes preparing
    run: float  # becomes running
    end: float  # becomes completed (or active again, awaiting a retry)
    outcome: str  # SUCCESS / EXIT / BLOB / CMD / TIMEOUT / TERMINATED / REQUEUED
    exit_code: int | None
    ran: bool = True  # False: terminated while waiting to run (it never reached a node)
    node: int = -1  # the node it ran on when an operator's node action moved it (-1: the task's own)

    def on(self, home: int) -> int:
        """The node this attempt runs on (``home``: the task's planned node)."""
        return home if self.node < 0 else self.node


@dataclass(frozen=True, slots=True)
class MultiInstance:
    instances: int
    mode: str
    bad_rank: int  # the rank that fails or straggles (0 = none)
    node_base: int


@dataclass(frozen=True, slots=True)
class TaskSpec:
    index: int
    id: str
    display_name: str
    command_line: str
    created: float
    slots: int
    max_retries: int
    wall_clock: float | None  # the task's maxWallClockTime, seconds
    attempts: tuple[Attempt, ...]
    node: int  # index into the pool's nodes (primary for multi-instance)
    resource_file: tuple[str, str] | None  # (filePath, httpUrl)
    mi: MultiInstance | None = None


@dataclass(frozen=True, slots=True)
class SubtaskSpec:
    id: int
    node: int
    prep: float
    run: float
    end: float
    outcome: str
    exit_code: int | None


@dataclass(slots=True)
class JobPlan:
    index: int
    id: str
    kind: Kind
    display_name: str
    topic: str
    priority: int
    created: float
    start: float
    n_tasks: int
    parallel: int
    wave: float  # seconds per wave of tasks
    slots: int
    max_retries: int
    fate: str
    term: float  # when it starts terminating (INF: never); TASK_FAILED: computed lazily
    term_delay: float  # terminating -> completed
    wall_clock: float | None  # job maxWallClockTime, seconds
    disable_at: float
    enable_at: float
    disable_delay: float
    delete_at: float
    vanish_at: float
    node_offset: int
    failing_task: int  # TASK_FAILED: the task whose failure terminates the job (-1 = none)
    mi_modes: tuple[str, ...] = ()
    tasks: list[TaskSpec] | None = None
    terminated_at: float | None = field(default=None)

    @property
    def planned(self) -> float:
        return math.ceil(self.n_tasks / self.parallel) * self.wave


@dataclass(frozen=True, slots=True)
class JobView:
    plan: JobPlan
    state: str
    state_time: float
    previous_state: str | None
    previous_time: float | None
    last_modified: float
    end_time: float | None
    terminate_reason: str | None


@dataclass(frozen=True, slots=True)
class TaskView:
    spec: TaskSpec
    state: str
    state_time: float
    previous_state: str | None
    previous_time: float | None
    start_time: float | None
    end_time: float | None
    exit_code: int | None
    outcome: str | None  # set when completed
    retry_count: int
    last_retry: float | None
    node: int | None
    requeue_count: int = 0
    modified: float | None = None  # lastModified, once an operator changed the task


@dataclass(frozen=True, slots=True)
class SubtaskView:
    spec: SubtaskSpec
    state: str
    state_time: float
    previous_state: str | None
    previous_time: float | None
    end_time: float | None
    exit_code: int | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Counts:
    active: int = 0
    running: int = 0
    completed: int = 0
    succeeded: int = 0
    failed: int = 0
