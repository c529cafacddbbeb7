"""Detail panes for one rank of a multi-instance task, and the field layout they share.

Every value shown here comes from the service (URLs, paths, failure messages, container
errors) and goes through ``batchtui.ui.text.clean`` into plain ``Content`` spans: nothing is
ever parsed as markup, control characters are made visible. Only the labels and section
headings, which are ours, carry styles, and those styles are theme variables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len, chop_cells
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from batchtui.batch.models import FailureInfo
from batchtui.batch.task_models import ContainerInfo, NodeInfo, Subtask, Task
from batchtui.timefmt import fmt_when
from batchtui.ui.text import clean, fmt_duration, runtime
from batchtui.ui.when import when_text

LABEL_WIDTH = 18
HEADING_STYLE = "bold $accent"
LABEL_STYLE = "$text-muted"
FAILURE_HEADING_STYLE = "bold $error"


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    fields: tuple[tuple[str, object], ...]  # (our label, service value); None values are skipped
    alarm: bool = False  # a failure: the heading is drawn in the error colour


#: longest value shown: wrapping a megabyte-long message would stall the screen for seconds
VALUE_LIMIT = 32_768


def _full_date(when: datetime) -> str:
    return fmt_when(when, date=True)


def _value(value: object, moment: Callable[[datetime], str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return moment(value)
    text = clean(value, single_line=False)
    if len(text) > VALUE_LIMIT:
        text = f"{text[:VALUE_LIMIT]}… ({len(text) - VALUE_LIMIT:,} more characters)"
    return text


def _wrap(text: str, width: int | None) -> str:
    """Hang long values under the value column instead of wrapping back to the margin."""
    indent = "\n" + " " * (LABEL_WIDTH + 2)
    if width is None:
        return text.replace("\n", indent)
    room = max(width - LABEL_WIDTH - 2, 16)
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(chop_cells(line, room) if cell_len(line) > room else [line])
    return indent.join(lines)


def render_sections(
    sections: Sequence[Section],
    *,
    width: int | None = None,
    empty: str = "(nothing to show)",
    moment: Callable[[datetime], str] = _full_date,
) -> Content:
    """Label/value lines under headings. Values are literal service text; multi-line values
    (failure messages) keep their lines, and with ``width`` long ones are cut to hang under
    the value column. ``moment`` writes a time (local with its date, unless told otherwise)."""
    parts: list[Content | str | tuple[str, str]] = []
    for section in sections:
        fields = section.fields
        lines = [(label, text) for label, raw in fields if (text := _value(raw, moment)) is not None]
        if not lines:
            continue
        if parts:
            parts.append("\n")
        heading = FAILURE_HEADING_STYLE if section.alarm else HEADING_STYLE
        parts.append((section.title, heading))
        parts.append("\n")
        for label, text in lines:
            parts.append((f"  {label:<{LABEL_WIDTH - 1}} ", LABEL_STYLE))
            parts.append(Content(_wrap(text, width), strip_control_codes=False))
            parts.append("\n")
    if not parts:
        return Content.styled(empty, LABEL_STYLE)
    return Content.assemble(*parts).rstrip("\n")


def node_section(node: NodeInfo | None, title: str = "Node") -> Section:
    if node is None:
        return Section(title, ())
    return Section(
        title,
        (
            ("pool", node.pool_id),
            ("node id", node.node_id),
            ("affinity id", node.affinity_id),
            ("node URL", node.node_url),
            ("task root dir", node.task_root_directory),
            ("task root dir URL", node.task_root_directory_url),
        ),
    )


def container_section(container: ContainerInfo | None) -> Section:
    if container is None:
        return Section("Container", ())
    return Section(
        "Container",
        (("container id", container.container_id), ("state", container.state), ("error", container.error)),
    )


def failure_section(failure: FailureInfo | None) -> Section:
    if failure is None:
        return Section("Failure", ())
    fields: list[tuple[str, object]] = [
        ("category", failure.category),
        ("code", failure.code),
        ("message", failure.message),
    ]
    # Every detail, in the service's order; a detail name is service text too.
    for detail in failure.details:
        fields.append((clean(detail.name) or "(unnamed)", detail.value if detail.value else "(empty)"))
    return Section("Failure", tuple(fields), alarm=True)


def subtask_sections(subtask: Subtask, now: datetime) -> list[Section]:
    ran = runtime(subtask.start_time, subtask.end_time, now)
    general = Section(
        f"Subtask {subtask.id if subtask.id is not None else '?'}",
        (
            ("state", subtask.state),
            ("since", subtask.state_transition_time),
            ("previous state", subtask.previous_state),
            ("previous since", subtask.previous_state_transition_time),
            ("result", subtask.result),
            ("exit code", subtask.exit_code),
            ("start", subtask.start_time),
            ("end", subtask.end_time),
            ("runtime", fmt_duration(ran) if ran is not None else None),
        ),
    )
    # The failure first: it is why anyone opens this pane (the border names the rank).
    return [
        failure_section(subtask.failure_info),
        general,
        node_section(subtask.node_info),
        container_section(subtask.container_info),
    ]


def task_run_fields(task: Task, now: datetime) -> tuple[tuple[str, object], ...]:
    """State and execution rows of a task: the same in the task modal and for rank 0."""
    info = task.execution_info
    start = info.start_time if info else None
    end = info.end_time if info else None
    ran = runtime(start, end, now)
    return (
        ("state", task.state),
        ("since", task.state_transition_time),
        ("previous state", task.previous_state),
        ("result", info.result if info else None),
        ("exit code", info.exit_code if info else None),
        ("start", start),
        ("end", end),
        ("runtime", fmt_duration(ran) if ran is not None else None),
        ("retries", info.retry_count if info else None),
    )


def primary_sections(task: Task, now: datetime) -> list[Section]:
    """Rank 0 when the service does not list it: the task's own execution describes it."""
    info = task.execution_info
    mis = task.multi_instance_settings
    general = Section(
        "Primary (rank 0, from the task)",
        (
            *task_run_fields(task, now),
            ("command line", task.command_line),
            ("coordination", mis.coordination_command_line if mis else None),
        ),
    )
    return [
        failure_section(info.failure_info if info else None),
        general,
        node_section(task.node_info),
        container_section(info.container_info if info else None),
    ]


class SubtaskDetail(VerticalScroll):
    """Everything known about the selected rank, scrollable when it does not fit."""

    DEFAULT_CSS = """
    SubtaskDetail {
        height: 1fr;
        border: round $panel;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    SubtaskDetail:focus-within, SubtaskDetail:focus {
        border: round $accent;
    }
    SubtaskDetail > Static {
        width: 1fr;
    }
    """

    can_focus = True

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._sections: Sequence[Section] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("select a subtask", LABEL_STYLE), id="subtask-detail-body")

    def on_mount(self) -> None:
        self.border_title = "detail"

    def _body(self) -> Static:
        return self.query_one("#subtask-detail-body", Static)

    def show_sections(self, sections: Sequence[Section]) -> None:
        self._sections = sections
        self._paint()

    def _paint(self) -> None:
        sections = self._sections
        if sections is None:
            return
        width = self.scrollable_content_region.width or None

        def moment(when: datetime) -> str:  # in the app's zone
            return when_text(self, when, date=True)

        self._body().update(render_sections(sections, width=width, moment=moment))

    def on_resize(self) -> None:
        self._paint()

    def show_subtask(self, subtask: Subtask, now: datetime) -> None:
        self.show_sections(subtask_sections(subtask, now))

    def show_primary(self, task: Task, now: datetime) -> None:
        self.show_sections(primary_sections(task, now))

    def show_nothing(self, why: str = "select a subtask") -> None:
        self._sections = None
        self._body().update(Content.styled(why, LABEL_STYLE))

    @property
    def plain(self) -> str:
        """What the pane shows, as plain text (tests and screen dumps read it)."""
        visual = self._body().visual
        return visual.plain if isinstance(visual, Content) else str(visual)
