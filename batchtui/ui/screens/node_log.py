"""``l`` on a node's details: its start task's stdout and stderr, through the node-files API.

The log screen (:class:`~batchtui.ui.screens.logs.LogScreen`) on ``startup/stdout.txt`` of the
node, with everything it does for a task's log: ``o`` the other stream, ``f`` the files of the
start task's directory, follow, search, wrap; the header says the size and when it was last
written. What it follows is the start task (``startTaskInfo.state``, read with ``$select``):
while it runs (the node is ``waitingforstarttask``) the lines come as it writes them. A start
task that failed opens at its stderr, where it says why. A node that is gone, one in no state
to serve files (rebooting, unusable...) and a file not written yet say so in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchtui.batch.files import NodeFileRef, start_task_file
from batchtui.refresh.engine import Poller
from batchtui.refresh.task_state import StartTaskState, StartTaskStatePoller, TaskState
from batchtui.ui.screens.logs import LogScreen
from batchtui.ui.widgets.log_header import STDERR, STDOUT, file_name

if TYPE_CHECKING:
    from textual.app import App

    from batchtui.batch.pools import Node


def open_start_task_log(app: App[object], pool_id: str, node_id: str, node: Node | None) -> None:
    """The start task's stdout (its stderr when it failed: that is where it says why)."""
    info = node.start_task_info if node is not None else None
    name = STDERR if info is not None and info.failed else STDOUT
    state = info.state if info is not None else None
    app.push_screen(NodeLogScreen(start_task_file(pool_id, node_id, name), state=state))


class NodeLogScreen(LogScreen):
    """The output of a node's start task, followed while it runs."""

    writer = "the start task"

    def __init__(self, file: NodeFileRef, *, state: str | None = None) -> None:
        super().__init__("", "", file, state=state)  # no job or task: the node's own files
        self.pool_id = file.pool_id
        self.node_id = file.node_id

    def crumbs(self) -> tuple[str, ...]:
        return ("pools", self.pool_id, "nodes", self.node_id, "start task", file_name(self.file))

    def _where(self) -> str:
        # The pool is in the title: a header line this long would lose its end (● following).
        return f"start task · node {self.node_id}"

    def state_poller(self) -> Poller[TaskState | StartTaskState]:
        return StartTaskStatePoller(self.batch_app.client, self.pool_id, self.node_id)
