"""Which jobs a listing asks for, and in what order it shows them.

Shared by the dashboard's monitor and ``--once``; kept apart from the monitor so that
``--once`` (which races the SDK in bench/once_vs_sdk.py) does not import the refresh engine.
"""

from __future__ import annotations

from collections.abc import Iterable

from batchtui.batch.models import Job

# Display order of job states in the default sort: live work first, finished last.
_STATE_RANK = {
    s: i
    for i, s in enumerate(
        ("active", "terminating", "disabling", "enabling", "disabled", "deleting", "completed")
    )
}


def state_filter(states: str | None) -> str | None:
    """``--state active,terminating`` as an OData ``$filter`` (quotes escaped)."""
    if not states:
        return None
    parts = [s.strip() for s in states.split(",") if s.strip()]
    if not parts:
        return None
    clauses = [f"state eq '{p.replace(chr(39), chr(39) * 2)}'" for p in parts]
    return clauses[0] if len(clauses) == 1 else "(" + " or ".join(clauses) + ")"


def job_rank(job: Job) -> tuple[int, float]:
    """Default order: active (and other unfinished) jobs first, then newest first."""
    rank = _STATE_RANK.get(job.state or "", len(_STATE_RANK) - 1)
    created = job.creation_time.timestamp() if job.creation_time else 0.0
    return (0 if rank < _STATE_RANK["completed"] else 1, -created)


def default_job_order(jobs: Iterable[Job]) -> list[Job]:
    return sorted(jobs, key=lambda j: (job_rank(j), j.id or ""))
