"""The log screen's header: which file, how big, when last written, and whether the view
follows it; what the lines loaded cover, the search and the wrap."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from batchtui.batch.files import FileRef, NodeFileRef
from batchtui.refresh.logs import LogSnapshot
from batchtui.ui.text import clean
from batchtui.ui.when import when_text
from batchtui.ui.widgets.log_view import LogView

STDOUT = "stdout.txt"
STDERR = "stderr.txt"


def fmt_size(n: int | None) -> str:
    """A file size for people: ``955 B``, ``36.0 KiB``, ``1.2 GiB``."""
    if n is None:
        return ""
    if n < 1024:
        return f"{n:,} B"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return f"{size:,.1f} {unit}"
    return f"{n:,} B"  # pragma: no cover - the loop always returns


def file_name(ref: FileRef) -> str:
    """The file's path relative to the task's (or the rank's) directory."""
    path = ref.path
    if isinstance(ref, NodeFileRef) and ref.root:
        root = ref.root
        if path.lower().startswith(root.lower()) and len(path) > len(root) + 1:
            return path[len(root) + 1 :]
    return path


def mode(snap: LogSnapshot | None, following: bool) -> tuple[str, str]:
    """Whether the view follows the file, and the style to say it in."""
    if snap is None:
        return "○ opening", "$text-muted"
    if snap.binary:
        return "■ binary", "$text-muted"
    if snap.reason in ("not-started", "not-found", "node-busy"):
        return "○ waiting for it", "$text-muted"
    if snap.error:
        return "■ unavailable", "bold $error"
    if not snap.live:
        return "■ complete", "$text-muted"
    if following:
        return "● following", "bold $success"
    return "‖ paused: end follows", "bold $warning"


class LogHeader(Static):
    """Which file, how big, when last written, and whether the view follows it."""

    DEFAULT_CSS = """
    LogHeader {
        height: 2;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(self, file: FileRef, where: str, snap: LogSnapshot | None, view: LogView, found: str) -> None:
        state, state_style = mode(snap, view.following)
        line1: list[Content | str | tuple[str, str]] = [
            (clean(file_name(file)), "bold"),
            ("  " + clean(where), "$text-muted"),
        ]
        if snap is not None and snap.size is not None:
            line1 += ["  ", fmt_size(snap.size)]
        if snap is not None and snap.last_modified is not None:
            line1 += [("  modified ", "$text-muted"), when_text(self, snap.last_modified)]
        line1 += ["  ", (state, state_style)]
        line2: list[Content | str | tuple[str, str]] = []
        rows = view.rows
        if snap is not None and not snap.binary and (rows.complete or not snap.error):
            held = rows.complete
            line2.append(f"{held:,} line{'s' if held != 1 else ''}")
            if snap.at_top:
                line2.append(("  from the top of the file", "$text-muted"))
            else:
                line2.append((f"  from byte {snap.start:,} (scroll up for earlier)", "$text-muted"))
        if rows.term:
            line2 += [("  search ", "$text-muted"), (f'"{clean(rows.term)}"', "bold"), f" {found}"]
        if view.wrap:
            line2.append(("  wrap", "$text-muted"))
        other = STDOUT if file_name(file) == STDERR else STDERR
        line2.append((f"  · o {other} · f files", "$text-muted"))
        self.update(Content.assemble(*line1, "\n", *line2))
