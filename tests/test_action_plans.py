"""Plans and outcomes in the operator's words (pure: no app, no wire): what a confirmation says,
which plans ask for the id, and how a notification words accepted, refused and unknown results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from batchtui.batch.models import Job, TaskCounts
from batchtui.batch.task_models import Task
from batchtui.refresh.actions import ActionPlan, ActionRecord, Outcome
from batchtui.ui import action_plans
from batchtui.ui.acting import describe_outcome

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def task(task_id: str, state: str, **info: Any) -> Task:
    body: dict[str, Any] = {"id": task_id, "state": state}
    if info:
        body["executionInfo"] = info
    return Task.parse(body)


def mpi(task_id: str, state: str, instances: int) -> Task:
    return Task.parse(
        {"id": task_id, "state": state, "multiInstanceSettings": {"numberOfInstances": instances}}
    )


def job(job_id: str, running: int = 0, active: int = 0) -> tuple[Job, TaskCounts]:
    counts = TaskCounts.parse(
        {"active": active, "running": running, "completed": 0, "succeeded": 0, "failed": 0}
    )
    return Job.parse({"id": job_id, "state": "active"}), counts


def test_terminating_tasks_says_what_stops() -> None:
    assert action_plans.terminate_tasks("j", [mpi("solver-00", "running", 8)], running_ranks=7).summary == (
        "terminate task solver-00 of j: its 8 ranks stop; 7 are running"
    )
    assert action_plans.terminate_tasks("j", [mpi("s", "running", 2)], running_ranks=1).consequence == (
        "its 2 ranks stop; 1 is running"
    )
    assert (
        action_plans.terminate_tasks("j", [task("t", "running")]).summary == "terminate task t of j: it stops"
    )
    assert (
        action_plans.terminate_tasks("j", [task("t", "active")]).consequence == "it completes without running"
    )
    several = action_plans.terminate_tasks(
        "j", [task("a", "running"), task("b", "active"), task("c", "completed"), task("d", "completed")]
    )
    assert (
        several.summary
        == "terminate 4 tasks: 1 running stops; 1 waiting never runs; 2 already completed (refused)"
    )
    assert not several.destructive


def test_reactivate_only_failed_and_say_how_many_were_skipped() -> None:
    tasks = [
        task("ok", "completed", exitCode=0, result="success"),
        task("bad", "completed", exitCode=1, result="failure"),
        task("run", "running"),
        task("worse", "completed", exitCode=137, result="failure"),
    ]
    failed, skipped = action_plans.failed_only(tasks)
    assert [t.id for t in failed] == ["bad", "worse"] and skipped == 2
    plan = action_plans.reactivate_tasks("j", failed, skipped)
    assert (
        plan.summary
        == "reactivate 2 tasks: they run again, retry count reset to 0; 2 tasks not failed are skipped"
    )
    assert [t.label for t in plan.targets] == ["task bad of j", "task worse of j"]


def test_terminating_a_job_is_destructive_only_when_tasks_run() -> None:
    busy = action_plans.terminate_jobs([job("j1", running=3, active=1)])
    assert busy.summary == "terminate job j1: its 3 running tasks stop; 1 waiting task never runs"
    assert busy.destructive and busy.confirm_text == "j1"
    idle = action_plans.terminate_jobs([job("j2")])
    assert not idle.destructive and idle.summary == "terminate job j2: no task of it is running"
    two = action_plans.terminate_jobs([job("a", running=1), job("b", running=1)], reason="bad input")
    assert two.destructive and two.confirm_text == "2"
    assert two.summary == "terminate 2 jobs: 2 running tasks stop (reason: bad input)"


def test_disable_and_enable_in_words() -> None:
    j, counts = job("j", running=1)
    assert action_plans.disable_job(j, counts, "requeue").summary == (
        "disable (requeue) job j: no new task starts; its 1 running task is stopped and queued again"
    )
    assert (
        action_plans.disable_job(j, counts, "wait").consequence
        == "no new task starts; its 1 running task finishes"
    )
    assert action_plans.enable_job(j).summary == "enable job j: its waiting tasks may start again"


def test_deleting_a_task_asks_for_its_id() -> None:
    plan = action_plans.delete_task("j", task("t-7", "completed"))
    assert plan.destructive and plan.confirm_text == "t-7"


def record(target: str, outcome: Outcome, message: str) -> ActionRecord:
    return ActionRecord(AT, "terminate task", target, outcome, message, "rid")


def test_outcomes_in_the_services_words() -> None:
    plan = ActionPlan("terminate task", (), "")
    assert describe_outcome(plan, [record("task t of j", "done", "accepted (204)")]) == (
        "Terminate task",
        "task t of j: accepted (204)",
        "information",
    )
    refused = record(
        "task u of j", "refused", "TaskCompleted: The specified task is already in a completed state."
    )
    assert describe_outcome(plan, [refused])[1:] == (
        "task u of j: refused: TaskCompleted: The specified task is already in a completed state.",
        "error",
    )
    many = [record(f"task {i} of j", "done", "accepted (204)") for i in range(3)] + [refused] * 5
    title, text, severity = describe_outcome(plan, many)
    lines = text.split("\n")
    assert lines[0] == "8 tasks: 3 accepted, 5 refused" and severity == "warning"
    assert lines[1:4] == [f"task u of j: {refused.message}"] * 3
    assert lines[4] == "and 2 more (action history: H)"


def test_service_text_cannot_reach_the_terminal_or_add_lines() -> None:
    plan = ActionPlan("terminate task", (), "")
    hostile = record("task t of j", "refused", "Bad\x1b[2J\nRequestId: fake\x07")
    _, text, _ = describe_outcome(plan, [hostile, hostile])
    assert "\x1b" not in text and "\x07" not in text
    assert len(text.split("\n")) == 3  # the head and one line per refusal, however the text is made
