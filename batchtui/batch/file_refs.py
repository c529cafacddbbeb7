"""Where a task's or a node's file is: the small typed value every file call takes.

A :class:`TaskFileRef` is read through the task-files API (its path relative to the task's
directory); a :class:`NodeFileRef` through the node-files API (its path relative to the node
root): a rank's files under its ``taskRootDirectory`` (NEXT-APIS §2b), and the node's own, such
as its start task's output under ``startup`` (:func:`start_task_file`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import unquote

from batchtui.batch.errors import BatchClientError
from batchtui.batch.task_models import NodeInfo

#: The start task's directory under the node root, as the recorded listings show it.
START_TASK_DIR = "startup"


@dataclass(frozen=True, slots=True)
class TaskFileRef:
    """A file of a task, through the task-files API (the path is relative to the task root)."""

    job_id: str
    task_id: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.job_id}/{self.task_id}/{self.path}"

    def sibling(self, path: str) -> TaskFileRef:
        return TaskFileRef(self.job_id, self.task_id, path)


@dataclass(frozen=True, slots=True)
class NodeFileRef:
    """A file of a node, through the node-files API (the path is relative to the node root).

    ``root`` is the directory the path was made from (a rank's task root, or ``startup`` for
    the start task's), kept so that a sibling (stderr next to stdout) is one call away; ``rank``
    says which rank's it is (None: the node's own, such as its start task's)."""

    pool_id: str
    node_id: str
    path: str
    root: str = ""
    rank: int | None = None

    @property
    def label(self) -> str:
        where = f"rank {self.rank} " if self.rank is not None else ""
        return f"{where}{self.node_id}:{self.path}"

    def sibling(self, name: str) -> NodeFileRef:
        return dataclasses.replace(self, path=join_root(self.root, name) if self.root else name)

    @property
    def of_start_task(self) -> bool:
        return self.rank is None and self.root.lower() == START_TASK_DIR


FileRef = TaskFileRef | NodeFileRef


def join_root(root: str, name: str) -> str:
    """``taskRootDirectory`` + a name, with the root's own separator (NEXT-APIS §2b).

    The root may start with ``\\`` (spec example) or not (recordings); Windows roots use ``\\``
    and Linux ones ``/`` (Linux is UNCONFIRMED for real traffic, so both are handled)."""
    root = root.strip().lstrip("\\/")
    sep = "\\" if "\\" in root else "/"
    name = name.replace("/", sep).replace("\\", sep).lstrip(sep)
    return f"{root.rstrip(sep)}{sep}{name}" if root else name


def rank_file(node_info: NodeInfo | None, name: str, rank: int | None = None) -> NodeFileRef:
    """The node file ``name`` (e.g. ``stdout.txt``) of a subtask, under its task root."""
    if node_info is None or not node_info.pool_id or not node_info.node_id:
        raise BatchClientError(
            "this rank has no node yet (it has not been scheduled): its files appear once it runs"
        )
    root = node_info.task_root_directory or _root_from_url(node_info.task_root_directory_url)
    if not root:
        raise BatchClientError("the service did not say where this rank's files are (no taskRootDirectory)")
    root = root.strip().lstrip("\\/")
    return NodeFileRef(node_info.pool_id, node_info.node_id, join_root(root, name), root, rank)


def _root_from_url(url: str | None) -> str | None:
    # taskRootDirectoryUrl = {nodeUrl}/files/{root}; the spec example has a doubled slash.
    if not url or "/files/" not in url:
        return None
    return unquote(url.split("/files/", 1)[1]).strip("/") or None


def start_task_file(pool_id: str, node_id: str, name: str) -> NodeFileRef:
    """The node file ``name`` (``stdout.txt``, ``stderr.txt``) of the node's start task, which
    is ``startup/{name}`` on every node (the recorded listings, Linux and Windows, have the
    ``startup`` directory at the root). ``/`` is the separator of the Linux recording; that a
    Windows node takes it as well as ``\\`` is UNCONFIRMED."""
    return NodeFileRef(pool_id, node_id, join_root(START_TASK_DIR, name), root=START_TASK_DIR)
