"""The files of a task's (or a rank's) directory, for the log view's file picker.

A task's are listed through the task-files API (``recursive``); a rank's through its node,
``$filter=startswith(name,'<taskRootDirectory>')``, which is how BatchExplorer browses a hook
task's files. Names come back relative to the directory either way, and every entry that is a
file carries the :class:`~batchtui.batch.files.FileRef` that opens it in a
:class:`~batchtui.refresh.logs.LogTail`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchtui.batch.files import FileRef, FileUnavailable, NodeFileRef, TaskFileRef
from batchtui.refresh.views import done_interval

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

#: Entries listed at most (a task's wd/ can hold a whole run's output).
MAX_ENTRIES = 2000


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str  # relative to the task's (or rank's) directory, as the service spells it
    ref: FileRef | None  # what opens it; None for a directory
    size: int | None
    last_modified: datetime | None

    @property
    def is_directory(self) -> bool:
        return self.ref is None


@dataclass(frozen=True, slots=True)
class FileListSnapshot:
    directory: FileRef  # the stdout.txt ref the list was made from (its siblings are listed)
    entries: tuple[FileEntry, ...]  # files first by name, then directories
    truncated: bool  # more than MAX_ENTRIES
    error: str | None  # a refusal in the operator's words (not started, node gone, ...)
    reason: str | None


class FileListPoller:
    """Lists the directory of ``near`` (a task's or a rank's stdout.txt, say)."""

    def __init__(self, client: BatchClient, near: FileRef, *, task_state: str | None = None) -> None:
        self.client = client
        self.near = near
        self.task_state = task_state

    def set_task_state(self, state: str | None) -> None:
        self.task_state = state

    def interval(self, base: float) -> float:
        return done_interval(base) if self.task_state == "completed" else base

    async def poll(self, reason: str) -> FileListSnapshot:
        try:
            entries = await self._list()
        except FileUnavailable as exc:
            return FileListSnapshot(self.near, (), False, str(exc), exc.reason)
        truncated = len(entries) > MAX_ENTRIES
        entries = entries[:MAX_ENTRIES]
        entries.sort(key=lambda e: (e.is_directory, e.name.lower()))
        return FileListSnapshot(self.near, tuple(entries), truncated, None, None)

    async def _list(self) -> list[FileEntry]:
        near = self.near
        if isinstance(near, TaskFileRef):
            files = await self.client.list_task_files(near.job_id, near.task_id, recursive=True)
            return [
                FileEntry(
                    f.name,
                    None if f.is_directory else near.sibling(f.name),
                    f.content_length,
                    f.last_modified,
                )
                for f in files
            ]
        root = near.root
        sep = "\\" if "\\" in root else "/"
        prefix = f"{root}{sep}" if root else ""
        # The filter names the directory without a separator: a root with none of its own
        # (``startup``) cannot tell which one the node's names use (``\\`` on Windows).
        files = await self.client.list_node_files(
            near.pool_id, near.node_id, recursive=True, prefix=root or None
        )
        out: list[FileEntry] = []
        for f in files:
            # Either separator may come back (UNCONFIRMED for Linux nodes): compare loosely.
            plain = f.name.replace("/", sep).replace("\\", sep)
            if prefix and not plain.lower().startswith(prefix.lower()):
                continue
            name = plain[len(prefix) :]
            if not name:
                continue
            ref: NodeFileRef | None = None if f.is_directory else near.sibling(name)
            out.append(FileEntry(name, ref, f.content_length, f.last_modified))
        return out
