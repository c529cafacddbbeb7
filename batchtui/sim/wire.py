"""World views -> the service's JSON: property names, formats and quirks as recorded.

Times carry 7 fractional digits and end in Z, durations are .NET TimeSpan ISO strings, int64
statistics are strings, ETags are .NET tick counts in hex (which is what the real ones are).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

from batchtui.sim import world as w

UNLIMITED = "P10675199DT2H48M5.4775807S"  # TimeSpan.MaxValue: the service's "no limit"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOTNET_EPOCH_TICKS = 621_355_968_000_000_000  # 0001-01-01 -> 1970-01-01 in 100 ns ticks


class Timebase:
    """Turns world seconds (floats since the world's start) into the wire's time formats."""

    def __init__(self, start: datetime) -> None:
        delta = start.astimezone(UTC) - _UNIX_EPOCH
        self._start_ticks = (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10

    def ticks(self, t: float) -> int:
        """100 ns ticks since the Unix epoch."""
        return self._start_ticks + round(t * 10_000_000)

    def iso(self, t: float) -> str:
        return iso_ticks(self.ticks(t))

    def etag(self, t: float) -> str:
        return f"0x{self.ticks(t) + _DOTNET_EPOCH_TICKS:X}"

    def http_date(self, t: float) -> str:
        return formatdate(self.ticks(t) // 10_000_000, usegmt=True)

    def epoch(self, t: float) -> float:
        return self.ticks(t) / 10_000_000


_SECOND_PREFIX: dict[int, str] = {}


def iso_ticks(ticks: int) -> str:
    secs, frac = divmod(ticks, 10_000_000)
    # Formatting dates is the hot spot of a large listing; whole seconds repeat a lot.
    prefix = _SECOND_PREFIX.get(secs)
    if prefix is None:
        if len(_SECOND_PREFIX) > 200_000:
            _SECOND_PREFIX.clear()
        prefix = f"{_UNIX_EPOCH + timedelta(seconds=secs):%Y-%m-%dT%H:%M:%S}"
        _SECOND_PREFIX[secs] = prefix
    return f"{prefix}.{frac:07d}Z"


def iso_wall(epoch: float) -> str:
    return iso_ticks(round(epoch * 10_000_000))


def duration(seconds: float | None) -> str:
    """ISO-8601 the way .NET writes a TimeSpan: P1DT2H3M4.5S, PT15M, PT0S."""
    if seconds is None or math.isinf(seconds):
        return UNLIMITED
    ticks = max(0, round(seconds * 10_000_000))
    days, rem = divmod(ticks, 86_400 * 10_000_000)
    hours, rem = divmod(rem, 3_600 * 10_000_000)
    minutes, rem = divmod(rem, 60 * 10_000_000)
    secs, frac = divmod(rem, 10_000_000)
    out = "P" + (f"{days}D" if days else "")
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if secs or frac:
        clock += f"{secs}.{frac:07d}".rstrip("0").rstrip(".") + "S"
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"


# --------------------------------------------------------------------------- versions


def job_version(view: w.JobView) -> float:
    """When the job last changed in any way a reader can see: what its ETag is made from.

    lastModified only moves on API-made changes, but a conditional GET must not answer 304
    across a state change, so the ETag also follows the state.
    """
    return max(view.last_modified, view.state_time)


def task_modified(view: w.TaskView) -> float:
    """lastModified: when the task was added, or last changed by an operator."""
    return view.modified if view.modified is not None else view.spec.created + 0.31


def task_version(view: w.TaskView) -> float:
    return max(task_modified(view), view.state_time)


# --------------------------------------------------------------------------- failure info

FAILURES: dict[str, tuple[str, str, str]] = {
    w.EXIT: ("usererror", "FailureExitCode", "The task process exited with an unexpected exit code"),
    w.BLOB: ("usererror", "ResourceFileDownloadFailed", "One or more resource files failed to download"),
    w.CMD: ("usererror", "CommandProgramNotFound", "The specified command program is not found"),
    w.TIMEOUT: (
        "servererror",
        "TaskEnded",
        "The task was ended because it exceeded the maximum wall clock time in its constraints",
    ),
    w.TERMINATED: ("usererror", "TaskEnded", "Task Was Ended by User Request"),
}


def failure_info(outcome: str | None, resource_file: tuple[str, str] | None = None) -> dict[str, Any] | None:
    if outcome is None or outcome == w.SUCCESS:
        return None
    category, code, message = FAILURES[outcome]
    if outcome == w.EXIT:
        details = [{"name": "Message", "value": message}]
    elif outcome == w.BLOB:
        path, url = resource_file or (
            "input.dat",
            "https://stdemodata.blob.core.windows.net/inputs/input.dat",
        )
        details = [
            {"name": "FilePath", "value": path},
            {"name": "ResourceFileUrl", "value": url},
            {"name": "BlobNotFound", "value": "One of the specified Azure Blob(s) is not found."},
        ]
    elif outcome == w.CMD:
        details = [{"name": "Message", "value": "No such file or directory"}]
    else:
        details = None
    out: dict[str, Any] = {"category": category, "code": code, "message": message}
    if details:
        out["details"] = details
    return out


# --------------------------------------------------------------------------- entities


class Renderer:
    """Everything needed to render URLs: the endpoint the client used, the world's timebase."""

    def __init__(self, world: w.World, timebase: Timebase, base_url: str) -> None:
        self.world = world
        self.tb = timebase
        self.base = base_url.rstrip("/")

    def metadata(self, fragment: str) -> str:
        return f"{self.base}/$metadata#{fragment}"

    def node_info(self, pool_id: str, node: int, root: str) -> dict[str, Any]:
        node_id = self.world.pools[pool_id].node_ids[node]
        node_url = f"{self.base}/pools/{pool_id}/nodes/{node_id}"
        return {
            "affinityId": f"TVM:{node_id}",
            "nodeUrl": node_url,
            "poolId": pool_id,
            "nodeId": node_id,
            "taskRootDirectory": root.replace("/", "\\"),
            "taskRootDirectoryUrl": f"{node_url}/files/{root}",
        }

    def job(self, view: w.JobView, t: float, *, stats: bool = False) -> dict[str, Any]:
        p = view.plan
        iso = self.tb.iso
        d: dict[str, Any] = {
            "id": p.id,
            "displayName": p.display_name,
            "url": f"{self.base}/jobs/{p.id}",
            "eTag": self.tb.etag(job_version(view)),
            "lastModified": iso(view.last_modified),
            "creationTime": iso(p.created),
            "state": view.state,
            "stateTransitionTime": iso(view.state_time),
        }
        if view.previous_state is not None and view.previous_time is not None:
            d["previousState"] = view.previous_state
            d["previousStateTransitionTime"] = iso(view.previous_time)
        d["priority"] = p.priority
        d["maxParallelTasks"] = -1
        d["usesTaskDependencies"] = False
        d["allowTaskPreemption"] = False
        d["constraints"] = {"maxWallClockTime": duration(p.wall_clock), "maxTaskRetryCount": p.max_retries}
        d["poolInfo"] = {"poolId": p.kind.pool}
        info: dict[str, Any] = {"startTime": iso(p.start)}
        if view.end_time is not None:
            info["endTime"] = iso(view.end_time)
        info["poolId"] = p.kind.pool
        if view.terminate_reason is not None:
            info["terminateReason"] = view.terminate_reason
        d["executionInfo"] = info
        d["onAllTasksComplete"] = "terminatejob" if p.fate == w.ALL_TASKS else "noaction"
        d["onTaskFailure"] = "performexitoptionsjobaction" if p.fate == w.TASK_FAILED else "noaction"
        d["metadata"] = [{"name": "owner", "value": f"team-{p.kind.prefix.split('-')[0]}"}]
        if stats:
            d["stats"] = self.job_stats(view, t)
        return d

    def job_stats(self, view: w.JobView, t: float) -> dict[str, Any]:
        p = view.plan
        succeeded = failed = retries = 0
        wall = 0.0
        wait = 0.0
        for spec in self.world.visible_tasks(p, t):
            tv = self.world.task_view(p, spec, t)
            retries += tv.retry_count
            if tv.state == "completed":
                if tv.outcome == w.SUCCESS:
                    succeeded += 1
                else:
                    failed += 1
            for a in self.world.effective_attempts(p, spec):
                if a.run <= t:
                    wall += min(a.end, t) - a.run
            if tv.start_time is not None:
                wait += max(0.0, tv.start_time - spec.created)
        io = int(wall * 37)
        return {
            "url": f"{self.base}/jobs/{p.id}/stats",
            "startTime": self.tb.iso(p.start),
            "lastUpdateTime": self.tb.iso(t),
            "userCPUTime": duration(wall * 0.92),
            "kernelCPUTime": duration(wall * 0.04),
            "wallClockTime": duration(wall),
            "readIOps": str(io),
            "writeIOps": str(io // 3),
            "readIOGiB": round(wall * 0.0021, 6),
            "writeIOGiB": round(wall * 0.0007, 6),
            "numSucceededTasks": str(succeeded),
            "numFailedTasks": str(failed),
            "numTaskRetries": str(retries),
            "waitTime": duration(wait),
        }

    def task(self, plan: w.JobPlan, view: w.TaskView, t: float, *, stats: bool = False) -> dict[str, Any]:
        s = view.spec
        iso = self.tb.iso
        d: dict[str, Any] = {
            "id": s.id,
            "displayName": s.display_name,
            "url": f"{self.base}/jobs/{plan.id}/tasks/{s.id}",
            "eTag": self.tb.etag(task_version(view)),
            "creationTime": iso(s.created),
            "lastModified": iso(task_modified(view)),
            "state": view.state,
            "stateTransitionTime": iso(view.state_time),
        }
        if view.previous_state is not None and view.previous_time is not None:
            d["previousState"] = view.previous_state
            d["previousStateTransitionTime"] = iso(view.previous_time)
        d["commandLine"] = s.command_line
        if plan.fate == w.TASK_FAILED:
            # what makes onTaskFailure=performexitoptionsjobaction end the job on a failure
            d["exitConditions"] = {"default": {"jobAction": "terminate", "dependencyAction": "satisfy"}}
        if s.resource_file is not None:
            d["resourceFiles"] = [{"httpUrl": s.resource_file[1], "filePath": s.resource_file[0]}]
        d["environmentSettings"] = [{"name": "JOB_TOPIC", "value": plan.topic}]
        if s.mi is not None:
            d["multiInstanceSettings"] = {
                "numberOfInstances": s.mi.instances,
                "coordinationCommandLine": w.COORDINATION,
            }
        d["userIdentity"] = {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
        d["constraints"] = {
            "maxWallClockTime": duration(s.wall_clock),
            "retentionTime": "P7D",
            "maxTaskRetryCount": s.max_retries,
        }
        d["requiredSlots"] = s.slots
        info: dict[str, Any] = {}
        if view.start_time is not None:
            info["startTime"] = iso(view.start_time)
        if view.end_time is not None:
            info["endTime"] = iso(view.end_time)
        if view.exit_code is not None:
            info["exitCode"] = view.exit_code
        fi = failure_info(view.outcome, s.resource_file)
        if fi is not None:
            info["failureInfo"] = fi
        info["retryCount"] = view.retry_count
        if view.last_retry is not None:
            info["lastRetryTime"] = iso(view.last_retry)
        info["requeueCount"] = view.requeue_count
        if view.outcome is not None:
            info["result"] = "success" if view.outcome == w.SUCCESS else "failure"
        d["executionInfo"] = info
        if view.node is not None:
            root = f"workitems/{plan.id}/job-1/{s.id}"
            d["nodeInfo"] = self.node_info(plan.kind.pool, view.node, root)
        if stats:
            d["stats"] = self.task_stats(plan, view, t)
        return d

    def task_stats(self, plan: w.JobPlan, view: w.TaskView, t: float) -> dict[str, Any]:
        wall = 0.0
        for a in self.world.effective_attempts(plan, view.spec):
            if a.run <= t:
                wall += min(a.end, t) - a.run
        io = int(wall * 41)
        return {
            "url": f"{self.base}/jobs/{plan.id}/tasks/{view.spec.id}/stats",
            "startTime": self.tb.iso(view.spec.created),
            "lastUpdateTime": self.tb.iso(t),
            "userCPUTime": duration(wall * 0.9),
            "kernelCPUTime": duration(wall * 0.05),
            "wallClockTime": duration(wall),
            "readIOps": str(io),
            "writeIOps": str(io // 4),
            "readIOGiB": round(wall * 0.002, 6),
            "writeIOGiB": round(wall * 0.0006, 6),
            "waitTime": duration(max(0.0, (view.start_time or t) - view.spec.created)),
        }

    def subtask(self, plan: w.JobPlan, task: w.TaskSpec, view: w.SubtaskView) -> dict[str, Any]:
        s = view.spec
        iso = self.tb.iso
        root = f"workitems/{plan.id}/job-1/{task.id}/{s.id}"
        d: dict[str, Any] = {"id": s.id}
        if view.state != "preparing":
            d["startTime"] = iso(s.run)
        if view.end_time is not None:
            d["endTime"] = iso(view.end_time)
        d["state"] = view.state
        d["stateTransitionTime"] = iso(view.state_time)
        if view.previous_state is not None and view.previous_time is not None:
            d["previousState"] = view.previous_state
            d["previousStateTransitionTime"] = iso(view.previous_time)
        if view.exit_code is not None:
            d["exitCode"] = view.exit_code
        fi = failure_info(view.outcome)
        if fi is not None:
            d["failureInfo"] = fi
        if view.outcome is not None:
            d["result"] = "success" if view.outcome == w.SUCCESS else "failure"
        d["nodeInfo"] = self.node_info(plan.kind.pool, s.node, root)
        return d

    def counts(self, counts: w.Counts, slots: w.Counts) -> dict[str, Any]:
        def c(x: w.Counts) -> dict[str, int]:
            return {
                "active": x.active,
                "running": x.running,
                "completed": x.completed,
                "succeeded": x.succeeded,
                "failed": x.failed,
            }

        return {
            "odata.metadata": self.metadata("taskcountsresult/@Element"),
            "taskCounts": c(counts),
            "taskSlotCounts": c(slots),
        }
