"""Typed messages workers post to their screen ("messages up, attributes down").

Fields hold immutable snapshots (tuples, frozen dataclasses, read-only mappings). Messages
cannot be frozen dataclasses themselves: Textual's ``Message.__post_init__`` sets
bookkeeping attributes. Screens apply them in handlers on the main thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from batchtui.batch.models import TaskCountsResult
from batchtui.refresh.failures import FailuresSnapshot
from batchtui.refresh.pools import PoolHealth


@dataclass
class FetchFailed(Message):
    """A refresh failed; the last good data stays on screen and the status line says why."""

    error: BaseException
    at: datetime


@dataclass
class RecountProgress(Message):
    """An exact recount of a job's tasks has listed ``listed`` tasks so far."""

    job_id: str
    listed: int
    pages: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RecountProgress) and message.job_id == self.job_id


@dataclass
class RecountDone(Message):
    """An exact recount finished: counts computed from listing every task."""

    job_id: str
    result: TaskCountsResult
    at: datetime
    listed: int = 0
    pages: int = 0


@dataclass
class RecountFailed(Message):
    job_id: str
    error: BaseException


@dataclass
class FailuresRead(Message):
    """A job's failures, read and grouped (by code and exit code, and by node)."""

    snapshot: FailuresSnapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FailuresRead)


@dataclass
class PoolHealthRead(Message):
    """The pool under a job whose tasks wait, read to say why nothing of it runs."""

    health: PoolHealth
