"""What the node details show, as sections: its errors, its start task, and the node itself.

Every value is service text and goes through the same literal rendering as a rank's details
(:func:`~batchtui.ui.widgets.subtask_detail.render_sections`): nothing is parsed as markup.
"""

from __future__ import annotations

from datetime import datetime

from batchtui.batch.pools import Node, NodeError
from batchtui.batch.task_models import NodeInfo
from batchtui.ui.text import clean, fmt_age
from batchtui.ui.widgets.subtask_detail import Section, failure_section


def error_sections(errors: tuple[NodeError, ...]) -> list[Section]:
    """One section per error: code, message and every detail, in the service's order."""
    out = []
    for i, error in enumerate(errors, 1):
        fields: list[tuple[str, object]] = [("code", error.code), ("message", error.message)]
        for detail in error.details:
            fields.append((clean(detail.name) or "(unnamed)", detail.value if detail.value else "(empty)"))
        title = "Error" if len(errors) == 1 else f"Error {i} of {len(errors)}"
        out.append(Section(title, tuple(fields), alarm=True))
    return out


def start_task_sections(node: Node) -> list[Section]:
    info = node.start_task_info
    fields: list[tuple[str, object]] = [("command line", node.start_task_command_line)]
    if info is not None:
        fields = [
            ("state", info.state),
            ("result", info.result),
            ("exit code", info.exit_code),
            ("start", info.start_time),
            ("end", info.end_time),
            ("retries", info.retry_count if info.retry_count else None),
            ("last retry", info.last_retry_time),
            *fields,
        ]
    sections = [Section("Start task", tuple(fields), alarm=bool(info and info.failed))]
    if info is not None and info.failure_info is not None:
        failure = failure_section(info.failure_info)
        sections.insert(0, Section("Start task failure", failure.fields, alarm=True))
    return sections


def node_sections(node: Node, now: datetime) -> list[Section]:
    kind = "dedicated" if node.is_dedicated else "spot (low priority)" if node.is_dedicated is False else None
    endpoints = [
        f"{e.name} {e.protocol} {e.public_ip or e.public_fqdn}:{e.frontend_port} -> {e.backend_port}"
        for e in node.endpoints
    ]
    since = node.state_transition_time
    general = Section(
        "Node",
        (
            ("id", node.id),
            ("state", node.state),
            ("since", since),
            ("in this state", fmt_age(since, now) if since else None),
            ("scheduling", node.scheduling_state),
            ("kind", kind),
            ("running tasks", node.running_tasks_count),
            ("running slots", node.running_task_slots_count),
            ("tasks run", node.total_tasks_run),
            ("tasks succeeded", node.total_tasks_succeeded),
            ("last boot", node.last_boot_time),
            ("allocated", node.allocation_time),
        ),
    )
    machine = Section(
        "Machine",
        (
            ("VM size", node.vm_size),
            ("agent version", node.agent_version),
            ("agent updated", node.agent_updated),
            ("image", node.image),
            ("IP address", node.ip_address),
            ("IPv6 address", node.ipv6_address),
            ("endpoints", "\n".join(endpoints) if endpoints else None),
            ("affinity id", node.affinity_id),
            ("URL", node.url),
        ),
    )
    return [*error_sections(node.errors), *start_task_sections(node), general, machine]


def known_sections(info: NodeInfo | None) -> list[Section]:
    """What the task that ran there knew of a node that is gone."""
    if info is None:
        return []
    return [
        Section(
            "As the task knew it",
            (
                ("pool", info.pool_id),
                ("node id", info.node_id),
                ("affinity id", info.affinity_id),
                ("node URL", info.node_url),
                ("task root dir", info.task_root_directory),
            ),
        )
    ]
