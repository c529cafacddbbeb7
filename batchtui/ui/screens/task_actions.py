"""What the tasks screen does to tasks: ctrl+k terminates, R reactivates the failed ones, and
the palette deletes one; each asks first (ConfirmAction) and says "read-only" under --readonly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from batchtui.batch.models import Job, TaskCounts, TaskCountsResult
from batchtui.batch.task_models import Task
from batchtui.ui import action_plans
from batchtui.ui.acting import confirm_then_run, say_read_only
from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.text import clean


class TaskActionsScreen(PollingScreen):
    """The task actions of a screen listing one job's tasks (the tasks screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+k",
            "terminate",
            "Terminate",
            show=False,
            tooltip="Terminate the selected task, or the marked ones (asks first)",
        ),
        Binding(
            "R",
            "reactivate",
            "Reactivate",
            show=False,
            tooltip="Run the selected (or marked) failed tasks again, retry count reset (asks first)",
        ),
    ]

    # what the screen shows, set by it
    job_id: str
    job: Job | None
    counts: TaskCountsResult | None
    tasks: dict[str, Task]

    def chosen_tasks(self) -> list[Task]:
        """The marked tasks (or the selected one), as last read."""
        return [self.tasks[key] for key in self.chosen_keys() if key in self.tasks]

    def chosen_job(self) -> list[tuple[Job, TaskCounts | None]]:
        return [(self.job, self.counts.task_counts if self.counts else None)] if self.job else []

    def action_terminate(self) -> None:
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        tasks = self.chosen_tasks()
        if tasks:
            confirm_then_run(
                app, action_plans.terminate_tasks(self.job_id, tasks), on_confirmed=self.marks_acted_on
            )

    def action_reactivate(self) -> None:
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        chosen = self.chosen_tasks()
        failed, skipped = action_plans.failed_only(chosen)
        if not failed:
            if chosen:
                which = (
                    f"task {clean(chosen[0].id)} has"
                    if len(chosen) == 1
                    else f"none of the {len(chosen)} has"
                )
                self.notify(
                    f"Nothing to reactivate: {which} failed (only failed tasks run again).",
                    title="Reactivate",
                    severity="warning",
                    markup=False,
                )
            return
        confirm_then_run(
            app, action_plans.reactivate_tasks(self.job_id, failed, skipped), on_confirmed=self.marks_acted_on
        )

    def action_delete_task(self) -> None:
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        key = self.table.selected_key
        task = self.tasks.get(key) if key is not None else None
        if task is not None:
            confirm_then_run(app, action_plans.delete_task(self.job_id, task))

    def _task_commands(self) -> Iterator[SystemCommand]:
        if self.batch_app.readonly:
            return
        yield SystemCommand(
            "Terminate task (ctrl+k)", "Terminate the selected (or marked) tasks", self.action_terminate
        )
        yield SystemCommand(
            "Reactivate failed tasks (R)",
            "Run the selected (or marked) failed tasks again, retry count reset to 0",
            self.action_reactivate,
        )
        yield SystemCommand(
            "Delete task…",
            "Delete the selected task and its files (type its id to confirm)",
            self.action_delete_task,
        )
