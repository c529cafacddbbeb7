"""``f`` on the log screen: the files of the task's (or the rank's) directory, to open any.

A modal over the log: a table of every file (``stdout.txt``, ``stderr.txt``, ``wd/...``, the
rest) with its size and last modified time, kept live while it is open (a task writes new
files as it runs). ``enter`` opens the selected file in the log screen; directories are listed
for what they hold but open nothing. A refusal (not started, node gone, cleaned up) is shown
in place in the service's words.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from batchtui.batch.files import FileRef
from batchtui.refresh.engine import PollHandle
from batchtui.refresh.file_list import FileEntry, FileListPoller, FileListSnapshot
from batchtui.ui.app import BatchApp
from batchtui.ui.text import clean, literal
from batchtui.ui.when import when_text
from batchtui.ui.widgets.keyed_table import KeyedTable, Row
from batchtui.ui.widgets.log_header import fmt_size

COLUMNS: tuple[tuple[str, str], ...] = (("name", "File"), ("size", "Size"), ("modified", "Modified"))
NAME_LIMIT = 80


class FileListScreen(ModalScreen[FileRef | None]):
    """The files next to ``near``; dismissed with the one chosen (or None)."""

    DEFAULT_CSS = """
    FileListScreen {
        align: center middle;
        background: $background 60%;
    }
    FileListScreen > Vertical {
        width: 90%;
        max-width: 120;
        height: 80%;
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $foreground-muted;
        background: $surface;
    }
    FileListScreen #file-list-note {
        height: auto;
        padding: 0 1;
        color: $foreground-muted;
    }
    FileListScreen #file-list-note.-error { color: $error; text-style: bold; }
    FileListScreen KeyedTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the selected file in the log view"),
        Binding("escape", "close", "Close", tooltip="Back to the log"),
        Binding("q", "close", "Close", show=False),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False),
    ]

    class Listed(Message):
        def __init__(self, snapshot: FileListSnapshot | None, error: BaseException | None) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.error = error

    def __init__(self, near: FileRef, task_state: str | None = None, where: str = "") -> None:
        super().__init__()
        self.near = near
        self.task_state = task_state
        self.where = where
        self.entries: dict[str, FileEntry] = {}
        self.snapshot: FileListSnapshot | None = None
        self.handle: PollHandle[FileListSnapshot] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("listing the files…"), id="file-list-note")
            yield KeyedTable(id="file-list")

    def on_mount(self) -> None:
        box = self.query_one(Vertical)
        box.border_title = Content(f"files of {clean(self.where)}" if self.where else "files")
        box.border_subtitle = "enter: open · escape: back"
        table = self.query_one(KeyedTable)
        table.set_columns(COLUMNS)
        table.set_quiet_columns(["modified", "size"])
        table.focus()
        app = self.app
        if isinstance(app, BatchApp):
            self.handle = app.engine.open(
                FileListPoller(app.client, self.near, task_state=self.task_state),
                lambda snap: self.post_message(self.Listed(snap, None)),
                lambda error, _at: self.post_message(self.Listed(None, error)),
            )

    def on_unmount(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def on_file_list_screen_listed(self, message: FileListScreen.Listed) -> None:
        note = self.query_one("#file-list-note", Static)
        snap = message.snapshot
        if snap is None:
            note.update(Content(f"could not list the files: {clean(message.error)}"))
            note.add_class("-error")
            return
        self.snapshot = snap
        if snap.error:
            note.update(Content(f"⚠ {clean(snap.error)}"))
            note.add_class("-error")
        else:
            files = sum(1 for e in snap.entries if not e.is_directory)
            text = f"{files:,} file{'s' if files != 1 else ''}"
            if snap.truncated:
                text += f" (the first {len(snap.entries):,} entries only)"
            note.update(Content(text))
            note.remove_class("-error")
        if snap.error and not snap.entries and self.entries:
            return  # a refusal now: the files listed before stay (they may open still)
        self.entries = {e.name: e for e in snap.entries}
        table = self.query_one(KeyedTable)
        first = not table.total_count
        table.apply_rows([self._row(e) for e in snap.entries], flash=not first)
        if first:
            current = next((e.name for e in snap.entries if e.ref == self.near), None)
            if current is not None:
                table.select_key(current)

    def _row(self, entry: FileEntry) -> Row:
        style = self.query_one(KeyedTable).state_style
        if entry.is_directory:
            name = literal(entry.name + "/", limit=NAME_LIMIT)
            name.stylize(style("dim"))
        else:
            name = literal(entry.name, limit=NAME_LIMIT)
        if entry.ref == self.near:
            name.append(" (open)", style=style("dim"))
        return Row(
            key=entry.name,
            cells=(
                name,
                Text(fmt_size(entry.size), justify="right"),
                Text(when_text(self, entry.last_modified)),
            ),
            sort_values={"name": entry.name.lower()},
            search=entry.name,
        )

    def on_keyed_table_chosen(self, message: KeyedTable.Chosen) -> None:
        message.stop()
        self._open(message.key)

    def action_open(self) -> None:
        key = self.query_one(KeyedTable).selected_key
        if key is not None:
            self._open(key)

    def _open(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is None or entry.ref is None:
            self.notify("A directory: its files are listed below it.", markup=False)
            return
        self.dismiss(entry.ref)

    def action_refresh_now(self) -> None:
        if self.handle is not None:
            self.handle.refresh_now()

    def action_close(self) -> None:
        self.dismiss(None)
