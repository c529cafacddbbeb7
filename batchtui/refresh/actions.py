"""The one place state-changing requests go through: refused when read-only, each target sent
once, an unknown outcome re-read (never sent blindly again), every result logged with its
request id and kept in a bounded history, and the open views re-read at once afterwards.

The UI builds an :class:`ActionPlan` (what, on which entities, the consequence in words) and
asks the operator; only a confirmed plan reaches :meth:`ActionRunner.run`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from batchtui.batch.actions import ActionDone, OutcomeUnknown, ReadOnlyError
from batchtui.batch.errors import BatchClientError, BatchServiceError

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.refresh.engine import RefreshEngine

log = logging.getLogger("batchtui.actions")

Outcome = Literal["done", "refused", "unknown", "read-only"]
HISTORY_LEN = 200


@dataclass(frozen=True)
class Target:
    """One entity an action is sent to."""

    label: str  # "task solver-00 of mpi-cfd-0001"
    send: Callable[[BatchClient], Awaitable[ActionDone]]
    #: after an unknown outcome: True when a re-read shows the change took effect
    took_effect: Callable[[BatchClient], Awaitable[bool]] | None = None


@dataclass(frozen=True)
class ActionPlan:
    verb: str  # "terminate task"
    targets: tuple[Target, ...]
    consequence: str  # "its 8 ranks stop; 7 are running"
    destructive: bool = False  # asks for more than `y` (the id typed, or the count)
    confirm_text: str = ""  # what a destructive plan asks the operator to type

    @property
    def summary(self) -> str:
        what = (
            self.targets[0].label
            if len(self.targets) == 1
            else f"{len(self.targets)} {self.verb.split()[-1]}s"
        )
        verb = doing(self.verb)
        return f"{verb} {what}: {self.consequence}" if self.consequence else f"{verb} {what}"


@dataclass(frozen=True)
class ActionRecord:
    """One line of the action history."""

    at: datetime
    verb: str
    target: str
    outcome: Outcome
    message: str
    request_id: str | None = None

    @property
    def action(self) -> str:
        """What was done to the target: the verb without its noun (the target names it)."""
        return doing(self.verb)

    @property
    def line(self) -> str:
        rid = f" (request-id {self.request_id})" if self.request_id else ""
        return f"{self.at:%H:%M:%S} {self.action} {self.target}: {self.outcome}, {self.message}{rid}"


class ActionRunner:
    """Runs confirmed plans for one account."""

    def __init__(
        self, client: BatchClient, engine: RefreshEngine | None, now: Callable[[], datetime]
    ) -> None:
        self.client = client
        self.engine = engine
        self.now = now
        self.history: deque[ActionRecord] = deque(maxlen=HISTORY_LEN)

    @property
    def readonly(self) -> bool:
        return self.client.readonly

    async def run(self, plan: ActionPlan) -> list[ActionRecord]:
        records = [await self._one(plan.verb, target) for target in plan.targets]
        if self.engine is not None:
            # What changed is re-read at once, not at the next tick.
            self.engine.refresh_all()
        return records

    async def _one(self, verb: str, target: Target) -> ActionRecord:
        try:
            done = await target.send(self.client)
        except ReadOnlyError as exc:
            return self._record(verb, target, "read-only", str(exc), None)
        except OutcomeUnknown as exc:
            return await self._settle(verb, target, exc)
        except BatchServiceError as exc:
            return self._record(verb, target, "refused", _service_words(exc), exc.request_id)
        except BatchClientError as exc:
            return self._record(verb, target, "refused", str(exc), None)
        return self._record(verb, target, "done", f"accepted ({done.status})", done.request_id)

    async def _settle(self, verb: str, target: Target, exc: OutcomeUnknown) -> ActionRecord:
        """An answer never came: look at the entity rather than send the change again."""
        rid = exc.cause.request_id if isinstance(exc.cause, BatchServiceError) else None
        if target.took_effect is not None:
            try:
                if await target.took_effect(self.client):
                    return self._record(
                        verb, target, "done", "no answer, but a re-read shows it happened", rid
                    )
            except BatchClientError as reread:
                return self._record(
                    verb, target, "unknown", f"{exc}; the re-read failed too ({reread}); not sent again", rid
                )
        return self._record(verb, target, "unknown", f"{exc}; a re-read shows no change; not sent again", rid)

    def _record(
        self, verb: str, target: Target, outcome: Outcome, message: str, request_id: str | None
    ) -> ActionRecord:
        record = ActionRecord(self.now(), verb, target.label, outcome, message, request_id)
        self.history.append(record)
        level = logging.INFO if outcome == "done" else logging.WARNING
        log.log(level, "action %s", record.line)
        return record


def _service_words(exc: BatchServiceError) -> str:
    """The service's own refusal: its code and message (a 403 for a reader role says so)."""
    if exc.status == 403 and exc.code not in (None, "AuthenticationFailed"):
        return f"{exc.code}: {exc.message} (the identity may only read this account)"
    return f"{exc.code or exc.status}: {exc.message}" if exc.message else str(exc.code or exc.status)


def doing(verb: str) -> str:
    """ "terminate task" -> "terminate", "disable (requeue) job" -> "disable (requeue)"."""
    head, _, _noun = verb.rpartition(" ")
    return head or verb


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def labels(targets: Sequence[Target]) -> str:
    return ", ".join(t.label for t in targets[:3]) + (
        f" and {len(targets) - 3} more" if len(targets) > 3 else ""
    )
