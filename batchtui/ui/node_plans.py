"""What each node action means, in the operator's words, from the nodes the screen shows.

Pure (no Textual), as action_plans.py: reboot (requeue, terminate, taskcompletion,
retaineddata), disable scheduling (requeue, terminate, taskcompletion), enable scheduling, and
remove nodes from their pool (destructive: the node's id, or the number of nodes, is typed).
Each plan names its nodes and what becomes of the tasks running on them ("reboot (requeue)
node tvm-…_7 of pool p: its 3 running tasks are stopped and queued again"), and knows how to tell
from a re-read whether an unanswered request took effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from batchtui.batch import actions
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import BatchServiceError
from batchtui.batch.pools import Node
from batchtui.refresh.actions import ActionPlan, Target, plural

#: what each option does to the tasks running on the node, in words ("are ..." / "is ...")
REBOOT_WORDS: dict[str, str] = {
    "requeue": "stopped and queued again (other nodes run them)",
    "terminate": "stopped and fail",
    "taskcompletion": "left to finish first; then it reboots",
    "retaineddata": "left to finish and their data retention to expire first; then it reboots",
}
DISABLE_WORDS: dict[str, str] = {
    "requeue": "stopped and queued again (other nodes run them)",
    "terminate": "stopped and fail",
    "taskcompletion": "left to finish; then it is offline",
}
REMOVE_WORDS: dict[str, str] = {
    **REBOOT_WORDS,
    "taskcompletion": "left to finish first",
    "retaineddata": ("left to finish and their data retention to expire first"),
}
#: the palette's one-line descriptions of the options
OPTION_HINTS: dict[str, str] = {
    "requeue": "running tasks stop and are queued again",
    "terminate": "running tasks stop and fail",
    "taskcompletion": "running tasks finish first",
    "retaineddata": "running tasks finish and their data retention expires first",
}


def _running(nodes: Sequence[Node]) -> int:
    return sum(n.running_tasks_count or 0 for n in nodes)


def _tasks(nodes: Sequence[Node], words: str) -> str:
    """ "its 3 running tasks are stopped and fail" / "it runs no task now"."""
    running = _running(nodes)
    one = len(nodes) == 1
    if not running:
        return "it runs no task now" if one else "they run no task now"
    whose = "its" if one else "their"
    verb = "is" if running == 1 else "are"
    return f"{whose} {plural(running, 'running task')} {verb} {words}"


def node_label(pool_id: str, node_id: str) -> str:
    return f"node {node_id} of pool {pool_id}"


def reboot_nodes(pool_id: str, nodes: Sequence[Node], option: str) -> ActionPlan:
    _check(option, actions.REBOOT_OPTIONS)
    targets = tuple(_reboot(pool_id, n.id or "", option) for n in nodes)
    return ActionPlan(f"reboot ({option}) node", targets, _tasks(nodes, REBOOT_WORDS[option]))


def disable_scheduling(pool_id: str, nodes: Sequence[Node], option: str) -> ActionPlan:
    _check(option, actions.DISABLE_SCHEDULING_OPTIONS)
    targets = tuple(_disable(pool_id, n.id or "", option) for n in nodes)
    consequence = f"no new task starts on {'it' if len(nodes) == 1 else 'them'}; " + _tasks(
        nodes, DISABLE_WORDS[option]
    )
    if not _running(nodes):
        consequence += "; offline until enabled again"
    return ActionPlan(f"disable scheduling ({option}) on node", targets, consequence)


def enable_scheduling(pool_id: str, nodes: Sequence[Node]) -> ActionPlan:
    targets = tuple(_enable(pool_id, n.id or "") for n in nodes)
    return ActionPlan(
        "enable scheduling on node", targets, f"{'it takes' if len(nodes) == 1 else 'they take'} tasks again"
    )


def remove_nodes(pool_id: str, nodes: Sequence[Node], option: str) -> ActionPlan:
    """One removenodes request per hundred nodes (the service's limit); destructive."""
    _check(option, actions.DEALLOCATION_OPTIONS)
    ids = [n.id or "" for n in nodes]
    chunks = [
        ids[i : i + actions.MAX_NODES_PER_REMOVE] for i in range(0, len(ids), actions.MAX_NODES_PER_REMOVE)
    ]
    targets = tuple(_remove(pool_id, chunk, option) for chunk in chunks)
    leaves = "it leaves" if len(nodes) == 1 else f"{len(nodes)} nodes leave"
    consequence = f"{leaves} the pool for good and its target shrinks; " + _tasks(nodes, REMOVE_WORDS[option])
    return ActionPlan(
        f"remove ({option}) node",
        targets,
        consequence,
        destructive=True,
        confirm_text=ids[0] if len(ids) == 1 else str(len(ids)),
    )


# ---------------------------------------------------------------------- one target each


def _check(option: str, allowed: tuple[str, ...]) -> None:
    if option not in allowed:
        raise ValueError(f"{option!r} is not one of {', '.join(allowed)}")


def _reboot(pool_id: str, node_id: str, option: str) -> Target:
    kind = cast(actions.NodeRebootOption, option)
    return Target(
        node_label(pool_id, node_id),
        lambda c: actions.reboot_node(c, pool_id, node_id, kind),
        lambda c: _rebooting(c, pool_id, node_id),
    )


def _disable(pool_id: str, node_id: str, option: str) -> Target:
    kind = cast(actions.NodeDisableSchedulingOption, option)
    return Target(
        node_label(pool_id, node_id),
        lambda c: actions.disable_node_scheduling(c, pool_id, node_id, kind),
        lambda c: _scheduling_is(c, pool_id, node_id, "disabled"),
    )


def _enable(pool_id: str, node_id: str) -> Target:
    return Target(
        node_label(pool_id, node_id),
        lambda c: actions.enable_node_scheduling(c, pool_id, node_id),
        lambda c: _scheduling_is(c, pool_id, node_id, "enabled"),
    )


def _remove(pool_id: str, node_ids: list[str], option: str) -> Target:
    kind = cast(actions.NodeDeallocationOption, option)
    if len(node_ids) == 1:
        label = node_label(pool_id, node_ids[0])
    else:
        shown = ", ".join(node_ids[:3]) + (f" and {len(node_ids) - 3} more" if len(node_ids) > 3 else "")
        label = f"nodes {shown} of pool {pool_id}"
    return Target(
        label,
        lambda c: actions.remove_nodes(c, pool_id, node_ids, kind),
        lambda c: _all_leaving(c, pool_id, node_ids),
    )


# ---------------------------------------------------------------------- re-reads


async def _rebooting(client: BatchClient, pool_id: str, node_id: str) -> bool:
    node = await client.get_node(pool_id, node_id, select=("id", "state"))
    return node.state in ("rebooting", "starting", "waitingforstarttask")


async def _scheduling_is(client: BatchClient, pool_id: str, node_id: str, wanted: str) -> bool:
    node = await client.get_node(pool_id, node_id, select=("id", "schedulingState"))
    return node.scheduling_state == wanted


async def _all_leaving(client: BatchClient, pool_id: str, node_ids: list[str]) -> bool:
    for node_id in node_ids:
        try:
            node = await client.get_node(pool_id, node_id, select=("id", "state"))
        except BatchServiceError as exc:
            if exc.status == 404:
                continue  # already gone
            raise
        if node.state != "leavingpool":
            return False
    return True
