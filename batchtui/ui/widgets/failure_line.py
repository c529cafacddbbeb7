"""The one line that sums up a job's (or a task's ranks') failures, and calls out a bad node.

"tasks: 18 failed · 15 on tvm-…-07 (exit 137) ⚠ likely bad node (b opens it) · 3 exit 1 on 3 nodes".
Node ids and failure codes are service text: cleaned, never markup.
"""

from __future__ import annotations

from textual.content import Content

from batchtui.refresh.failures import FailureSummary
from batchtui.ui.text import clean

Part = Content | str | tuple[str, str]


def failure_line(summary: FailureSummary | None, *, label: str = "tasks: ", key: str = "b") -> list[Part]:
    """The parts of the line (empty when there is nothing to say)."""
    if summary is None or not summary.total:
        return []
    parts: list[Part] = [(label, "$text-muted")]
    for i, (text, kind) in enumerate(summary.parts()):
        if i:
            parts.append((" · ", "$text-muted"))
        if kind == "bad":
            parts.append((clean(text), "bold $error"))
            parts.append((f" ⚠ likely bad node ({key} opens it)", "bold $error"))
        else:
            parts.append((clean(text), "bold $state-failed" if kind == "total" else "$state-failed"))
    return parts
