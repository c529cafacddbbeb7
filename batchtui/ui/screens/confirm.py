"""Asking before acting: what will be done, to which entities, and what follows from it.

`y` confirms and `n` or escape cancels. A destructive plan (delete a task, remove a node,
terminate a job whose tasks are running) asks for more than one key: the operator types the
entity's id (or, for several, their number), so a stray keystroke on a shared monitor cannot
act. A plan that takes a reason (terminate a job with a reason) has a box for it: enter goes
ahead from there (and `y` types a y). Nothing here sends anything: the dismissal value says
whether to go ahead, and with which reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from batchtui.refresh.actions import ActionPlan
from batchtui.ui.text import clean

SHOWN_TARGETS = 8
MAX_REASON = 200  # what the box takes: a reason is a line, not a document


Decision = TypeVar("Decision")


class DecisionDialog(ModalScreen[Decision]):
    """The frame of a dialog that asks the operator to decide before anything is sent (this
    confirmation, the option chooser): centred over the dimmed screen, a warning border."""

    DEFAULT_CSS = """
    DecisionDialog { align: center middle; background: $background 60%; }
    DecisionDialog > Vertical {
        width: 80%;
        max-width: 100;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    """


@dataclass(frozen=True)
class Confirmed:
    """The operator said go ahead (with this reason, if the plan asked for one)."""

    reason: str | None = None


class ConfirmAction(DecisionDialog[Confirmed | None]):
    DEFAULT_CSS = """
    ConfirmAction.-destructive > Vertical { border: thick $error; }
    ConfirmAction #confirm-title { text-style: bold; }
    ConfirmAction #confirm-keys { color: $text-muted; margin-top: 1; }
    ConfirmAction Input { margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Confirm", show=False),
        Binding("n", "cancel", "Cancel", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, plan: ActionPlan, *, ask_reason: bool = False, reason_hint: str = "") -> None:
        """``ask_reason``: show a box for a free-text reason (``reason_hint`` is its placeholder)."""
        super().__init__(classes="-destructive" if plan.destructive else "")
        self.plan = plan
        self.ask_reason = ask_reason
        self.reason_hint = reason_hint or "a reason (optional)"

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical():
            yield Static(Content(clean(plan.summary)), id="confirm-title")
            names = [clean(t.label) for t in plan.targets[:SHOWN_TARGETS]]
            more = len(plan.targets) - SHOWN_TARGETS
            if more > 0:
                names.append(f"and {more} more")
            if len(plan.targets) > 1:
                yield Static(Content("\n".join(f"  · {n}" for n in names)), id="confirm-targets")
            if self.ask_reason:
                yield Input(placeholder=self.reason_hint, max_length=MAX_REASON, id="confirm-reason")
            if plan.destructive:
                ask = f"This cannot be undone. Type {clean(plan.confirm_text)} and press enter to go ahead"
                yield Static(Content(ask + "; escape cancels."), id="confirm-keys")
                yield Input(placeholder=plan.confirm_text, id="confirm-typed")
            elif self.ask_reason:
                yield Static(Content("enter: go ahead    escape: cancel"), id="confirm-keys")
            else:
                yield Static(Content("y: go ahead    n or escape: cancel"), id="confirm-keys")

    def on_mount(self) -> None:
        if self.ask_reason:
            self.query_one("#confirm-reason", Input).focus()
        elif self.plan.destructive:
            self.query_one("#confirm-typed", Input).focus()

    def _reason(self) -> str | None:
        if not self.ask_reason:
            return None
        return clean(self.query_one("#confirm-reason", Input).value).strip() or None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-reason":
            if self.plan.destructive:
                self.query_one("#confirm-typed", Input).focus()  # the id still has to be typed
            else:
                self.dismiss(Confirmed(self._reason()))
            return
        if event.value.strip() == self.plan.confirm_text:
            self.dismiss(Confirmed(self._reason()))
        else:
            self.query_one("#confirm-keys", Static).update(
                Content(f"That is not {clean(self.plan.confirm_text)}: type it exactly, or escape to cancel.")
            )

    def action_confirm(self) -> None:
        # In a destructive plan `y` only types into the box: one key is not enough.
        if not self.plan.destructive:
            self.dismiss(Confirmed(self._reason()))

    def action_cancel(self) -> None:
        self.dismiss(None)
