"""From a key to the wire and back: ask (ConfirmAction), run the confirmed plan in a worker
through the app's ActionRunner, and say how it went in the service's words.

Under read-only nothing is asked or sent: the key only says "read-only".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from textual.app import SystemCommand

from batchtui.batch.actions import DISABLE_TASKS, DisableTasks
from batchtui.batch.models import Job, TaskCounts
from batchtui.refresh.actions import ActionPlan, ActionRecord, plural
from batchtui.ui import action_plans
from batchtui.ui.screens.confirm import ConfirmAction, Confirmed
from batchtui.ui.text import clean

if TYPE_CHECKING:
    from batchtui.ui.app import BatchApp

Severity = Literal["information", "warning", "error"]
SHOWN_REFUSALS = 3
READ_ONLY = "read-only: this batchtui changes nothing in the account (--readonly)"


def say_read_only(app: BatchApp) -> None:
    app.notify(READ_ONLY, title="read-only", severity="warning", markup=False)


def confirm_then_run(
    app: BatchApp,
    plan: ActionPlan,
    *,
    with_reason: Callable[[str | None], ActionPlan] | None = None,
    reason_hint: str = "",
    on_confirmed: Callable[[], object] | None = None,
) -> None:
    """Ask about ``plan``; once confirmed, run it (rebuilt ``with_reason`` the operator typed)
    and call ``on_confirmed`` (the screen spends its marks)."""
    if app.readonly:
        say_read_only(app)
        return

    def answered(result: Confirmed | None) -> None:
        if result is not None:
            app.run_plan(with_reason(result.reason) if with_reason is not None else plan)
            if on_confirmed is not None:
                on_confirmed()

    app.push_screen(
        ConfirmAction(plan, ask_reason=with_reason is not None, reason_hint=reason_hint), answered
    )


def describe_outcome(plan: ActionPlan, records: Sequence[ActionRecord]) -> tuple[str, str, Severity]:
    """(title, text, severity) of a notification: what happened, refusals in the service's words."""
    title = plan.verb[:1].upper() + plan.verb[1:]
    done = [r for r in records if r.outcome == "done"]
    trouble = [r for r in records if r.outcome != "done"]
    if len(records) == 1:
        r = records[0]
        word = {"done": "", "refused": "refused: ", "unknown": "", "read-only": ""}[r.outcome]
        text = clean(f"{r.target}: {word}{r.message}")
    else:
        counts = [
            f"{len(done)} accepted" if done else "",
            f"{sum(r.outcome == 'refused' for r in records)} refused",
            f"{sum(r.outcome == 'unknown' for r in records)} outcome unknown",
            f"{sum(r.outcome == 'read-only' for r in records)} not sent (read-only)",
        ]
        head = f"{plural(len(records), plan.verb.split()[-1])}: " + ", ".join(
            c for c in counts if c and not c.startswith("0 ")
        )
        # one line per refusal: each cleaned on its own, so no service text can add lines
        lines = [clean(f"{r.target}: {r.message}") for r in trouble[:SHOWN_REFUSALS]]
        if len(trouble) > SHOWN_REFUSALS:
            lines.append(f"and {len(trouble) - SHOWN_REFUSALS} more (action history: H)")
        text = "\n".join([clean(head), *lines])
    severity: Severity = "information" if not trouble else "error" if not done else "warning"
    return clean(title), text, severity


# ------------------------------------------------------------------------------ the palette

#: the screens' actions that change the account (hidden from help and palette under read-only)
ACTING = frozenset(
    {"terminate", "reactivate", "reboot", "disable_scheduling", "enable_scheduling", "remove_nodes"}
)

JobsGetter = Callable[[], list[tuple[Job, TaskCounts | None]]]


def job_commands(
    app: BatchApp,
    chosen: JobsGetter,
    *,
    where: str = "selected",
    on_confirmed: Callable[[], object] | None = None,
) -> Iterator[SystemCommand]:
    """The palette's job actions, on the jobs ``chosen()`` returns when one is picked."""
    if app.readonly:
        return

    def act(build: Callable[[list[tuple[Job, TaskCounts | None]]], ActionPlan | None]) -> Callable[[], None]:
        def run() -> None:
            jobs = chosen()
            plan = build(jobs) if jobs else None
            if plan is not None:
                confirm_then_run(app, plan, on_confirmed=on_confirmed)

        return run

    def with_reason() -> None:
        jobs = chosen()
        if jobs:
            confirm_then_run(
                app,
                action_plans.terminate_jobs(jobs),
                with_reason=lambda reason: action_plans.terminate_jobs(jobs, reason),
                reason_hint="reason, shown as the job's terminateReason (empty: UserTerminate)",
                on_confirmed=on_confirmed,
            )

    yield SystemCommand(
        "Terminate job (ctrl+k)",
        f"Terminate the {where} job: its running tasks stop",
        act(action_plans.terminate_jobs),
    )
    yield SystemCommand("Terminate job with a reason…", f"Terminate the {where} job, saying why", with_reason)

    def disable(mode: DisableTasks) -> Callable[[list[tuple[Job, TaskCounts | None]]], ActionPlan]:
        return lambda jobs: action_plans.disable_jobs(jobs, mode)

    what_becomes = {
        "requeue": "its running tasks stop and are queued again",
        "terminate": "its running tasks stop and fail",
        "wait": "its running tasks finish first",
    }
    for mode in DISABLE_TASKS:
        what = what_becomes[mode]
        yield SystemCommand(
            f"Disable job ({mode})", f"No new task of the {where} job starts; {what}", act(disable(mode))
        )
    yield SystemCommand(
        "Enable job",
        f"Tasks of the {where} disabled job may start again",
        act(lambda jobs: action_plans.enable_jobs([job for job, _ in jobs])),
    )
