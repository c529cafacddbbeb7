"""Going somewhere by name: what ``:`` commands, the palette, tests and the screenshot script use.

One place knows which screens a destination needs (a task is reached through its job's tasks
screen, so escape goes back the way an operator expects).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from batchtui.ui.commands import Command, parse

if TYPE_CHECKING:
    from batchtui.ui.app import BatchApp


def go(app: BatchApp, text: str | Command) -> None:
    """Run a ``:`` command (raises CommandError for bad words)."""
    from batchtui.ui.screens.node_detail import NodeDetailScreen
    from batchtui.ui.screens.nodes import NodesScreen
    from batchtui.ui.screens.pools import PoolsScreen
    from batchtui.ui.screens.tasks import TasksScreen

    command = parse(text) if isinstance(text, str) else text
    name, args = command.spec.name, command.args
    home(app)
    if name == "job":
        app.push_screen(TasksScreen(args[0]))
    elif name == "task":
        app.push_screen(TasksScreen(args[0], open_task=args[1]))
    elif name in ("pools", "nodes", "node"):
        # A pool's nodes are reached through the pools, a node through its pool's nodes: escape
        # goes back the way an operator expects.
        app.push_screen(PoolsScreen())
        if name in ("nodes", "node"):
            app.push_screen(NodesScreen(args[0]))
        if name == "node":
            app.push_screen(NodeDetailScreen(args[0], args[1]))


def home(app: BatchApp) -> None:
    """Back to the jobs screen."""
    while len(app.screen_stack) > 1:
        app.pop_screen()


def known_ids(app: BatchApp, arg: str, before: Sequence[str]) -> Iterable[str]:
    """Ids the dashboard already holds, to complete an argument with (no request is made)."""
    from batchtui.ui.screens.jobs import JobsScreen
    from batchtui.ui.screens.nodes import NodesScreen
    from batchtui.ui.screens.pools import PoolsScreen
    from batchtui.ui.screens.tasks import TasksScreen

    for screen in app.screen_stack:
        if arg == "JOB" and isinstance(screen, JobsScreen) and screen.snapshot is not None:
            yield from (j.id for j in screen.snapshot.jobs if j.id)
        if arg == "TASK" and isinstance(screen, TasksScreen) and before and screen.job_id == before[-1]:
            yield from screen.tasks
        if arg == "POOL":
            if isinstance(screen, PoolsScreen):
                yield from screen.pool_ids()
            elif isinstance(screen, NodesScreen):
                yield screen.pool_id
            elif isinstance(screen, JobsScreen) and screen.snapshot is not None:
                yield from (p for j in screen.snapshot.jobs if (p := j.effective_pool_id))
        if arg == "NODE" and isinstance(screen, NodesScreen) and before and screen.pool_id == before[-1]:
            yield from screen.nodes
