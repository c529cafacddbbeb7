"""What the tasks screen asks the service for: the state filters, $select and the load cap.

Pure (no Textual). A job can hold 100,000 tasks; listing them all every five seconds would
freeze the screen and hammer the account. So the screen asks only for the columns it shows
($select), lets the service filter by state ($filter), pages at the service's maximum page
size, and stops after a cap it raises only when the operator scrolls near the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from batchtui.batch.models import TaskCounts

# The largest page the service hands out (maxresults 1..1000).
PAGE_SIZE = 1000
# Rows loaded up front, and how many more each time the operator nears the bottom.
INITIAL_CAP = 5000
CAP_STEP = 5000
# "Near the bottom": the cursor is within this many rows of the last loaded row.
LOAD_MORE_MARGIN = 50

# Only what the table and the task detail need. executionInfo carries state times, exit code,
# result, retries and failure info; nodeInfo the node; multiInstanceSettings marks MPI tasks.
TASK_SELECT: tuple[str, ...] = (
    "id",
    "displayName",
    "state",
    "stateTransitionTime",
    "creationTime",
    "executionInfo",
    "nodeInfo",
    "multiInstanceSettings",
    "requiredSlots",
)


@dataclass(frozen=True, slots=True)
class StateFilter:
    name: str
    key: str  # the single key that selects it on the tasks screen
    label: str
    odata: str | None  # $filter, None for "all"


STATE_FILTERS: tuple[StateFilter, ...] = (
    StateFilter("all", "a", "all", None),
    StateFilter("active", "1", "active", "state eq 'active'"),
    # The service's task counts put preparing tasks under running; the list does the same.
    StateFilter("running", "2", "running", "state eq 'running' or state eq 'preparing'"),
    StateFilter("completed", "3", "completed", "state eq 'completed'"),
    # A task can complete with exit code 0 and still fail (e.g. a file upload error):
    # `result` is the service's verdict, so that is what "failed" means here.
    StateFilter("failed", "4", "failed", "executionInfo/result eq 'failure'"),
)
_BY_NAME = {f.name: f for f in STATE_FILTERS}


def state_filter(name: str) -> StateFilter:
    """The filter called ``name``; raises KeyError for an unknown one."""
    return _BY_NAME[name]


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """One listing of a job's tasks: which state, and how many rows at most.

    ``first`` is the cap a new listing starts with and ``step`` what each "more" adds; the
    defaults suit a terminal (thousands of rows), tests use small ones.
    """

    filter_name: str = "all"
    first: int = INITIAL_CAP
    step: int = CAP_STEP
    cap: int = 0  # 0: start at ``first``

    def __post_init__(self) -> None:
        state_filter(self.filter_name)  # fail early on a typo
        if self.first < 1 or self.step < 1 or self.cap < 0:
            raise ValueError("caps must be positive")
        if self.cap == 0:
            object.__setattr__(self, "cap", self.first)

    @property
    def state(self) -> StateFilter:
        return state_filter(self.filter_name)

    @property
    def odata_filter(self) -> str | None:
        return self.state.odata

    @property
    def select(self) -> tuple[str, ...]:
        return TASK_SELECT

    @property
    def max_results(self) -> int:
        # No point asking for a full page when the cap is smaller.
        return min(PAGE_SIZE, self.cap)

    def with_filter(self, name: str) -> TaskQuery:
        """Another state: the cap goes back to its start, the rows are a new set."""
        return TaskQuery(filter_name=name, first=self.first, step=self.step)

    def grown(self) -> TaskQuery:
        return replace(self, cap=self.cap + self.step)


def expected_total(filter_name: str, counts: TaskCounts | None) -> int | None:
    """How many tasks the job's counts say match the filter (the counts may lag)."""
    if counts is None:
        return None
    return {
        "all": counts.total,
        "active": counts.active,
        "running": counts.running,
        "completed": counts.completed,
        "failed": counts.failed,
    }.get(filter_name)


def load_note(loaded: int, has_more: bool, expected: int | None) -> str:
    """The status-line note saying what is on screen, e.g.
    "showing 5,000 of ~100,000 tasks: scroll down for more"."""
    if not has_more:
        return ""
    if expected is not None and expected > loaded:
        return f"showing {loaded:,} of ~{expected:,} tasks: scroll down for more"
    return f"showing the first {loaded:,} tasks (more on the service): scroll down for more"


def near_bottom(cursor_row: int, loaded: int, margin: int = LOAD_MORE_MARGIN) -> bool:
    """Whether the cursor is close enough to the last loaded row to load the next block.

    The margin shrinks for small blocks, so a short list does not count as "near the
    bottom" from its first row."""
    margin = min(margin, max(loaded // 10, 1))
    return loaded > 0 and cursor_row >= loaded - margin
