"""The service's refusals of a file read, as the operator can act on them (NEXT-APIS §1d).

The codes are partly UNCONFIRMED (which 409 a task not yet started gets, which 404 a gone node
gives), so the mapping reads the message as well as the code, and falls back on what
BatchExplorer does (any other 404 on a task file: the node is gone; any other 409: the files
were cleaned from the node).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from batchtui.batch.errors import BatchServiceError


@dataclass(eq=False)
class FileUnavailable(BatchServiceError):
    """The service refused a file read for a reason the operator can act on.

    ``reason`` is one of: ``not-started`` (no node yet), ``not-found`` (not written yet, or no
    such file), ``node-gone``, ``cleaned-up``, ``node-busy``, ``range`` (past the end),
    ``no-task`` (the job or task is gone). ``advice`` says what to do."""

    reason: str = "other"
    advice: str = ""

    def __str__(self) -> str:
        head = f"{self.code or f'HTTP {self.status}'}: {self.message}" if self.message else str(self.status)
        text = f"{head} ({self.advice})" if self.advice else head
        return f"{text} [request-id {self.request_id}]" if self.request_id else text

    @property
    def retry_later(self) -> bool:
        """Worth asking again while the task runs (it may yet write the file or start)."""
        return self.reason in ("not-started", "not-found", "node-busy")


_CURRENT_STATE = re.compile(r"current state", re.IGNORECASE)


def explain(exc: BatchServiceError, *, on_node: bool, start_task: bool = False) -> BatchServiceError:
    """The same refusal, with the reason and what to do when it is one files are known for.

    ``on_node``: the read went through the node-files API (a rank's file), not the task's;
    ``start_task``: it is the node's own start task output (``startup/``), not a task's."""
    code = exc.code or ""
    where = "the node" if on_node else "the task's node"
    reason = advice = None
    if exc.status == 416 or code == "InvalidRange":
        reason, advice = (
            "range",
            "the file is shorter than the range asked for: it was replaced or cut; reopen it",
        )
    elif code in ("TaskFilesCleanedup", "TaskFilesUnavailable"):
        reason = "cleaned-up"
        advice = (
            "the task's files were removed from the node (retention time passed, task deleted or node "
            "reimaged); keep logs with the task's outputFiles"
        )
    elif code == "NodeNotReady" or (start_task and exc.status == 409 and _CURRENT_STATE.search(exc.message)):
        # A node's own files have no task to wait for: a "current state" 409 is the node's.
        reason, advice = (
            "node-busy",
            f"{where} cannot serve files in its current state (starting, rebooting, unusable, "
            "preempted...); they can be read once it is up again",
        )
    elif exc.status == 409 and (
        code == "OperationInvalidForCurrentState" or _CURRENT_STATE.search(exc.message)
    ):
        # The code of this 409 is UNCONFIRMED; the message text is what batch-shipyard matches.
        reason, advice = (
            "not-started",
            "the task has not started on a node yet; its files appear once it runs",
        )
    elif code == "FileNotFound":
        reason = "not-found"
        advice = (
            "no such file (yet): the start task writes startup/stdout.txt and stderr.txt once it runs "
            "(a pool without a start task has none)"
            if start_task
            else "no such file (yet): a task writes stdout.txt and stderr.txt once it runs"
        )
    elif code in ("JobNotFound", "TaskNotFound"):
        reason, advice = "no-task", "the job or task does not exist (was it deleted?)"
    elif exc.status == 404 and (code in ("NodeNotFound", "PoolNotFound") or not on_node):
        # UNCONFIRMED which code a gone node gives on the task-files API; BatchExplorer reads
        # any other 404 there as "the node the task ran on doesn't exist anymore".
        reason = "node-gone"
        advice = (
            "the node is gone (removed, resized away or its pool deleted), and its files with it"
            if start_task
            else "the node it ran on is gone (removed, resized away or its pool deleted), and its files with it"
        )
    elif exc.status == 409:
        # Any other 409 on a file: BatchExplorer reads it as "cleaned from the node".
        reason, advice = "cleaned-up", "the file is not available from the node in its current state"
    if reason is None:
        return exc
    fields = {f.name: getattr(exc, f.name) for f in dataclasses.fields(BatchServiceError)}
    return FileUnavailable(**fields, reason=reason, advice=advice or "")
