"""The log screen: a task's (or a rank's) stdout, stderr or any file of its directory, live.

``l`` on a task (tasks screen, task details) or a rank (subtasks screen) opens its
``stdout.txt`` at the end; ``o`` switches to ``stderr.txt`` and back; ``f`` lists the files of
its directory to open any other. The file is read by a :class:`~batchtui.refresh.logs.LogTail`
(a HEAD a tick, a ranged GET of only what is new) and shown by a
:class:`~batchtui.ui.widgets.log_view.LogView`; the task's state is read alongside
(:class:`~batchtui.refresh.task_state.TaskStatePoller`) so following ends when it completes.
The service's refusals (not started, no such file, node gone, cleaned up) are shown in place,
in its words with what to do, above the lines already read. A node's start task output is the
same screen over a node file (:mod:`batchtui.ui.screens.node_log`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Static

from batchtui.batch.errors import BatchClientError
from batchtui.batch.files import FileRef, NodeFileRef, TaskFileRef, rank_file
from batchtui.refresh.engine import Poller, PollHandle
from batchtui.refresh.logs import LogSnapshot, LogTail
from batchtui.refresh.task_state import StartTaskState, TaskState, TaskStatePoller
from batchtui.ui.messages import FetchFailed
from batchtui.ui.screens.base import PollingScreen, Refreshed
from batchtui.ui.text import clean
from batchtui.ui.widgets.log_header import STDERR, STDOUT, LogHeader, file_name, fmt_size
from batchtui.ui.widgets.log_view import LogView

if TYPE_CHECKING:
    from batchtui.batch.task_models import Subtask, Task


def open_task_log(app: App[object], job_id: str, task: Task) -> None:
    """``l`` on a task: its stdout (a multi-instance task's is its primary's, rank 0)."""
    if task.id:
        app.push_screen(LogScreen(job_id, task.id, TaskFileRef(job_id, task.id, STDOUT), state=task.state))


def open_rank_log(
    app: App[object], job_id: str, task: Task | None, task_id: str, rank: int, subtask: Subtask | None
) -> None:
    """``l`` on a rank: the primary's through the task, any other's through its node."""
    if rank == 0:
        state = task.state if task is not None else None
        app.push_screen(LogScreen(job_id, task_id, TaskFileRef(job_id, task_id, STDOUT), state=state, rank=0))
        return
    try:
        ref = rank_file(subtask.node_info if subtask is not None else None, STDOUT, rank=rank)
    except BatchClientError as exc:
        app.notify(f"Rank {rank}: {clean(str(exc))}", severity="warning", markup=False)
        return
    state = subtask.state if subtask is not None else None
    app.push_screen(LogScreen(job_id, task_id, ref, state=state, rank=rank))


class LogScreen(PollingScreen, inherit_bindings=False):
    """One file of a task or rank, followed while the task runs."""

    help_title: ClassVar[str] = "log"

    DEFAULT_CSS = """
    LogScreen #log-error {
        display: none;
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $error 15%;
        color: $error;
        text-style: bold;
    }
    LogScreen.-refused #log-error { display: block; }
    LogScreen #log-notice {
        display: none;
        height: auto;
        padding: 1 2;
        color: $foreground-muted;
    }
    LogScreen.-notice #log-notice { display: block; }
    LogScreen.-stale LogView { tint: $background 35%; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "other_stream", "stdout/stderr", tooltip="Switch between stdout.txt and stderr.txt"),
        Binding("f", "files", "Files", tooltip="The files of the task's directory, to open any other"),
        Binding("slash", "search", "Search", key_display="/", tooltip="Search the lines loaded"),
        Binding("n", "find(False)", "Next match", show=False),
        Binding("N", "find(True)", "Previous match", key_display="N", show=False),
        Binding("w", "wrap", "Wrap", tooltip="Wrap long lines (again: scroll them sideways)"),
        Binding("ctrl+r", "refresh_now", "Refresh", tooltip="Refresh now", show=False),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("p", "pause", "Pause", tooltip="Pause or resume reading the file"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("escape", "back", "Back / clear search", show=False),
        Binding("q", "quit_or_back", "Back"),
    ]

    #: Who writes the file, as the notices say it (the node log screen: "the start task").
    writer: ClassVar[str] = "the task"

    class StateRead(Message):
        """The state of what writes the file (a task, a rank, a start task): running, completed."""

        def __init__(self, state: str | None) -> None:
            super().__init__()
            self.state = state

    def __init__(
        self, job_id: str, task_id: str, file: FileRef, *, state: str | None = None, rank: int | None = None
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.task_id = task_id
        self.rank = rank
        self.file = file
        self.task_state = state
        self.snapshot: LogSnapshot | None = None
        self.tail: LogTail | None = None
        self._state_handle: PollHandle[TaskState | StartTaskState] | None = None
        self._found: str = ""  # what the last search said ("3 of 17", "not in the lines loaded")
        self._search_from: int | None = None  # the line a search starts from (None: the end)

    # ------------------------------------------------------------------ layout

    def compose_body(self) -> ComposeResult:
        yield LogHeader(id="log-header")
        yield Static(id="log-error")
        yield Static(id="log-notice")
        yield LogView(id="log")

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def crumbs(self) -> tuple[str, ...]:
        rank = (f"rank {self.rank}",) if self.rank is not None else ()
        return ("jobs", self.job_id, "tasks", self.task_id, *rank, file_name(self.file))

    def on_mount(self) -> None:
        box = self.query_one("#filter-box", Input)
        box.placeholder = "search: type to find; enter keeps it (n/N next/previous), escape clears it"
        self.view.focus()
        self._show_header()
        self._show_notice()
        app = self.batch_app
        self._state_handle = app.engine.open(
            self.state_poller(),
            lambda read: self.post_message(self.StateRead(read.state)),
            lambda _error, _at: None,  # the tail reports the same trouble, in place
        )

    def state_poller(self) -> Poller[TaskState | StartTaskState]:
        """What reads the state of the file's writer (following ends once it completes)."""
        return TaskStatePoller(self.batch_app.client, self.job_id, self.task_id, self.rank)

    def on_unmount(self) -> None:
        if self._state_handle is not None:
            self._state_handle.close()

    # ------------------------------------------------------------------ the pollers

    def make_poller(self) -> LogTail:
        self.tail = LogTail(self.batch_app.client, self.file, task_state=self.task_state)
        return self.tail

    def _open(self, file: FileRef) -> None:
        """Show another file: a tail of its own (a poll of the old one may still be on its way)."""
        if self.handle is not None:
            self.handle.close()
        self.file = file
        self.snapshot = None
        self.view.clear()
        self.handle = self.batch_app.engine.open(
            self.make_poller(),
            lambda snapshot: self.post_message(Refreshed(snapshot)),
            lambda error, at: self.post_message(FetchFailed(error, at)),
            on_pace=self._show_pace,
            active=lambda: not self._covered(),
        )
        self.update_title()
        self._show_header()
        self._show_error()
        self._show_notice()

    def apply(self, snapshot: object) -> None:
        assert isinstance(snapshot, LogSnapshot)
        if snapshot.file != self.file:
            return  # the file the operator has just left
        self.snapshot = snapshot
        self.status.interval = self.refresh_interval()
        self.view.show(snapshot)
        if self.view.rows.term:
            self._count_matches()
        self._show_header()
        self._show_error()
        self._show_notice()
        self.status.ok(self.now())
        self.status.note("" if snapshot.live else "finished: reading it slowly")

    def on_log_screen_state_read(self, message: LogScreen.StateRead) -> None:
        self.task_state = message.state
        if self.tail is not None:
            self.tail.set_task_state(self.task_state)

    def on_fetch_failed(self, message: FetchFailed) -> None:
        self.view.earlier_failed()

    def on_log_view_follow_changed(self, message: LogView.FollowChanged) -> None:
        if self.tail is not None:
            self.tail.follow(message.following)
            if message.following:
                self.refresh_now("follow")
        self._show_header()

    def on_log_view_earlier_wanted(self, message: LogView.EarlierWanted) -> None:
        if self.tail is not None:
            self.tail.load_earlier()
            self.refresh_now("earlier")

    # ------------------------------------------------------------------ header, error, notice

    def _where(self) -> str:
        if isinstance(self.file, NodeFileRef):
            return f"rank {self.file.rank} · node {self.file.node_id}"
        if self.rank is not None:
            return f"rank {self.rank} (primary) · task {self.task_id}"
        return f"task {self.task_id}"

    def _show_header(self) -> None:
        self.query_one(LogHeader).show(self.file, self._where(), self.snapshot, self.view, self._found)

    def _show_error(self) -> None:
        snap = self.snapshot
        error = snap.error if snap is not None else None
        box = self.query_one("#log-error", Static)
        if error:
            kept = " (the lines read before are kept below)" if snap is not None and snap.lines else ""
            box.update(Content(f"⚠ {clean(error)}{kept}"))
        else:
            box.update("")
        self.set_class(bool(error), "-refused")

    def _show_notice(self) -> None:
        snap = self.snapshot
        text = ""
        if snap is None:
            text = f"reading the end of {file_name(self.file)}…"
        elif snap.binary:
            size = f" ({fmt_size(snap.size)})" if snap.size is not None else ""
            text = (
                f"This is a binary file{size}: it is not shown. f lists the files beside it to open another."
            )
        elif not snap.lines and not snap.partial and not snap.error and snap.size == 0:
            text = "The file is empty" + (
                f" so far: its lines appear as {self.writer} writes them." if snap.live else "."
            )
        notice = self.query_one("#log-notice", Static)
        notice.update(Content(clean(text)) if text else "")
        self.set_class(bool(text), "-notice")

    # ------------------------------------------------------------------ search

    def action_search(self) -> None:
        box = self.query_one("#filter-box", Input)
        box.value = self.view.rows.term
        # Following the end, the latest line holding it is the one wanted; reading further
        # up, the next one down from the top of the view.
        self._search_from = None if self.view.following else self.view.top_line()
        self.add_class("-filtering")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter-box":
            return
        event.stop()
        event.prevent_default()  # the base screen's handler filters a table; here it searches
        view = self.view
        view.search(event.value)
        if event.value:
            start = self._search_from
            if start is None:
                view.find(backwards=True, start=view.rows.end)
            else:
                view.find(start=start - 1)
        self._count_matches()
        self._show_header()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter-box":
            return
        event.stop()
        event.prevent_default()
        self._close_search_box()

    def _close_search_box(self) -> None:
        self.remove_class("-filtering")
        self.view.focus()

    def _count_matches(self) -> None:
        rows = self.view.rows
        n = len(rows.matches)
        if not rows.term:
            self._found = ""
        elif not n:
            self._found = "not in the lines loaded"
        else:
            at = self.view.match_index()
            self._found = f"{at} of {n:,}" if at else f"{n:,} line{'s' if n != 1 else ''}"

    def action_find(self, backwards: bool) -> None:
        if not self.view.rows.term:
            self.notify("Nothing to find yet: / searches.", severity="information", markup=False)
            return
        self.view.find(backwards=backwards)
        self._count_matches()
        self._show_header()

    def _clear_search(self) -> None:
        self.view.search("")
        self._count_matches()
        self._show_header()

    # ------------------------------------------------------------------ actions

    def action_other_stream(self) -> None:
        """stdout.txt <-> stderr.txt (from any other file: back to stdout.txt)."""
        name = STDERR if file_name(self.file) == STDOUT else STDOUT
        self._open(self.file.sibling(name))

    def action_files(self) -> None:
        from batchtui.ui.screens.file_list import FileListScreen

        def chosen(ref: FileRef | None) -> None:
            if ref is not None and ref != self.file:
                self._open(ref)

        self.app.push_screen(FileListScreen(self.file, self.task_state, self._where()), chosen)

    def action_wrap(self) -> None:
        self.view.wrap = not self.view.wrap
        self._show_header()

    def action_back(self) -> None:
        """escape: leave the search box (clearing it), then clear the search, then go back."""
        if self.has_class("-filtering"):
            self._close_search_box()
            self._clear_search()
        elif self.view.rows.term:
            self._clear_search()
        else:
            self.app.pop_screen()

    def action_quit_or_back(self) -> None:
        self.app.pop_screen()

    def system_commands(self) -> Iterator[SystemCommand]:
        yield SystemCommand("Refresh now", "Read the file again now (ctrl+r)", self.action_refresh_now)
        yield SystemCommand("Pause / resume", "Stop or resume reading the file (p)", self.action_pause)
        yield SystemCommand(
            "stdout / stderr", "Switch between stdout.txt and stderr.txt (o)", self.action_other_stream
        )
        yield SystemCommand("Files", "The files of the task's directory (f)", self.action_files)
        yield SystemCommand("Search", "Search the lines loaded (/)", self.action_search)
        yield SystemCommand("Wrap", "Wrap long lines, or not (w)", self.action_wrap)
        yield SystemCommand("Follow", "The end of the file, following it (end)", self.view.action_bottom)
        yield SystemCommand("Keys", "The keys of the log screen (?)", self.action_help)
