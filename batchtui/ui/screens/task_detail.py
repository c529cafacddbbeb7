"""A modal with everything about one (non-MPI) task: state, exit, failure, node, command line.

It opens at once with what the task list already holds, then fetches the whole task once
(the list is $select'ed and leaves out the command line). It does not poll: it is a look,
not a monitor, and the tasks screen underneath keeps refreshing.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from batchtui.batch.task_models import Task
from batchtui.refresh.engine import PollHandle
from batchtui.refresh.views import TaskPoller, TaskSnapshot, is_gone
from batchtui.ui.app import BatchApp
from batchtui.ui.text import clean, fmt_duration
from batchtui.ui.widgets.subtask_detail import (
    LABEL_STYLE,
    Section,
    SubtaskDetail,
    container_section,
    failure_section,
    node_section,
    task_run_fields,
)


def task_sections(task: Task, now: datetime) -> list[Section]:
    info = task.execution_info
    mis = task.multi_instance_settings
    constraints = task.constraints
    general = Section(
        "Task",
        (
            ("id", task.id),
            ("display name", task.display_name),
            ("created", task.creation_time),
            *task_run_fields(task, now),
            ("last retry", info.last_retry_time if info else None),
            ("requeues", info.requeue_count if info and info.requeue_count else None),
            ("required slots", task.required_slots),
            ("max wall clock", fmt_duration(constraints.max_wall_clock_time) if constraints else None),
            ("max retries", constraints.max_task_retry_count if constraints else None),
            ("instances", mis.number_of_instances if mis else None),
        ),
    )
    commands = Section(
        "Command line",
        (
            ("command", task.command_line),
            ("coordination", mis.coordination_command_line if mis else None),
        ),
    )
    return [
        failure_section(info.failure_info if info else None),
        general,
        commands,
        node_section(task.node_info),
        container_section(info.container_info if info else None),
    ]


class TaskDetailScreen(ModalScreen[None]):
    """One task, in full; escape or q closes it."""

    DEFAULT_CSS = """
    TaskDetailScreen {
        align: center middle;
    }
    TaskDetailScreen > Vertical {
        width: 90%;
        max-width: 120;
        height: 85%;
        background: $surface;
    }
    TaskDetailScreen SubtaskDetail {
        height: 1fr;
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $text-muted;
    }
    TaskDetailScreen #task-detail-note {
        color: $text-muted;
        height: auto;
        padding: 0 1;
    }
    TaskDetailScreen #task-detail-note.-error {
        color: $error;
    }
    """

    BINDINGS = [
        Binding("escape", "close", "close", id="task-detail.close", tooltip="Back to the task list"),
        Binding("q", "close", "close", show=False, id="task-detail.q"),
        Binding("l", "logs", "logs", id="task-detail.logs", tooltip="This task's stdout (o: stderr)"),
        Binding("n", "node", "node", tooltip="The node this task ran or runs on"),
        Binding("j", "scroll_down", "down", show=False),
        Binding("k", "scroll_up", "up", show=False),
    ]

    class Fetched(Message):
        def __init__(self, task: Task | None, error: BaseException | None) -> None:
            super().__init__()
            self.task = task
            self.error = error

    def __init__(self, job_id: str, task: Task, now: datetime) -> None:
        super().__init__()
        self.job_id = job_id
        self.task_snapshot = task
        self._now = now
        self.handle: PollHandle[TaskSnapshot] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("loading the full task…", LABEL_STYLE), id="task-detail-note")
            yield SubtaskDetail(id="task-detail-body")

    def on_mount(self) -> None:
        pane = self.query_one(SubtaskDetail)
        # A str title is parsed as markup: a task id holding "[...]" would restyle it or fail.
        pane.border_title = Content(f"task {clean(self.task_snapshot.id)}")
        pane.border_subtitle = "escape: back"
        pane.show_sections(task_sections(self.task_snapshot, self._now))
        pane.focus()
        app = self.app
        if self.task_snapshot.id and isinstance(app, BatchApp):
            # Kept live while open: the engine re-reads the task on its pace.
            self.handle = app.engine.open(
                TaskPoller(app.client, self.job_id, self.task_snapshot.id, app.now),
                lambda snap: self.post_message(self.Fetched(snap.task, None)),
                lambda error, _at: self.post_message(self.Fetched(None, error)),
            )

    def on_unmount(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def on_task_detail_screen_fetched(self, message: TaskDetailScreen.Fetched) -> None:
        note = self.query_one("#task-detail-note", Static)
        if message.task is not None:
            self.task_snapshot = message.task
            app = self.app
            if isinstance(app, BatchApp):
                self._now = app.now()
            self.query_one(SubtaskDetail).show_sections(task_sections(message.task, self._now))
            note.display = False
            return
        error = message.error
        if error is not None and is_gone(error):
            text = "this task no longer exists (it or its job was deleted); showing what the list had"
        else:
            text = f"could not load the full task ({clean(error)}); showing what the list had"
        note.update(Content(text))
        note.add_class("-error")

    def action_scroll_down(self) -> None:
        self.query_one(SubtaskDetail).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one(SubtaskDetail).scroll_up()

    def action_logs(self) -> None:
        from batchtui.ui.screens.logs import open_task_log

        open_task_log(self.app, self.job_id, self.task_snapshot)

    def action_node(self) -> None:
        from batchtui.ui.screens.node_detail import open_node

        task = self.task_snapshot
        open_node(self, task.node_info, f"Task {clean(task.id)}")

    def action_close(self) -> None:
        self.dismiss(None)
