"""What the nodes screen and a node's screen do to nodes: ``B`` reboots, ``D`` disables
scheduling, ``E`` enables it, ``X`` removes the node from its pool. Each acts on the marked
nodes (or the selected one; on a node's screen, that node), asks which way where the service
offers a choice (ChooseOption), then asks to confirm (ConfirmAction: `y`, or the id typed for a
removal). Under read-only the footer says "read-only" instead and the keys only say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from batchtui.batch import actions
from batchtui.batch.pools import Node
from batchtui.refresh.actions import ActionPlan
from batchtui.ui import node_plans
from batchtui.ui.acting import confirm_then_run, say_read_only
from batchtui.ui.screens.base import PollingScreen
from batchtui.ui.screens.choose_option import ChooseOption

KEYS = (
    ("B", "reboot", "Reboot", "Reboot the selected (or marked) nodes; asks how, then to confirm"),
    ("D", "disable_scheduling", "Sched off", "No new task on the selected (or marked) nodes; asks how"),
    ("E", "enable_scheduling", "Sched on", "The selected (or marked) nodes take tasks again"),
    ("X", "remove_nodes", "Remove", "Remove the selected (or marked) nodes from the pool (type the id)"),
)
NODE_ACTIONS = frozenset(action for _, action, _, _ in KEYS)


class NodeActionsScreen(PollingScreen):
    """The node actions of a screen showing one pool's nodes (or one node)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, action, label, tooltip=tip) for key, action, label, tip in KEYS
    ]

    pool_id: str
    #: one footer entry for the four keys (a screen whose footer has no room for them all)
    compact_footer: ClassVar[bool] = False

    def chosen_nodes(self) -> list[Node]:
        """What the actions act on, as last read (the screen says)."""
        raise NotImplementedError

    def nodes_acted_on(self) -> None:
        """A confirmed action took the chosen nodes (the nodes screen spends its marks)."""

    def on_mount(self) -> None:
        readonly = self.batch_app.readonly
        if readonly or self.compact_footer:
            # Under read-only the footer says so where the keys would be (the keys still
            # answer, saying so too); a compact footer names the four keys at once.
            for i, (key, action, label, tip) in enumerate(KEYS):
                if readonly:
                    label = "read-only"
                elif i == 0:
                    label = "Reboot, sched, remove"  # ? still lists each key on its own
                self._bindings.key_to_bindings[key] = [
                    Binding(
                        key,
                        action,
                        label,
                        show=i == 0,
                        key_display="B D E X" if i == 0 else None,
                        tooltip=tip,
                    )
                ]
            self.refresh_bindings()

    # ------------------------------------------------------------------ keys

    def action_reboot(self) -> None:
        self._ask(
            "Reboot how? (what becomes of the tasks running on it)",
            [(o, node_plans.OPTION_HINTS[o]) for o in actions.REBOOT_OPTIONS],
            lambda nodes, o: node_plans.reboot_nodes(self.pool_id, nodes, o),
        )

    def action_disable_scheduling(self) -> None:
        self._ask(
            "Disable scheduling how? (what becomes of the tasks running on it)",
            [(o, node_plans.OPTION_HINTS[o]) for o in actions.DISABLE_SCHEDULING_OPTIONS],
            lambda nodes, o: node_plans.disable_scheduling(self.pool_id, nodes, o),
        )

    def action_enable_scheduling(self) -> None:
        self._ask(None, [], lambda nodes, _o: node_plans.enable_scheduling(self.pool_id, nodes))

    def action_remove_nodes(self) -> None:
        self._ask(
            "Remove from the pool how? (what becomes of the tasks running on it)",
            [(o, node_plans.OPTION_HINTS[o]) for o in actions.DEALLOCATION_OPTIONS],
            lambda nodes, o: node_plans.remove_nodes(self.pool_id, nodes, o),
        )

    def _ask(
        self,
        question: str | None,
        options: list[tuple[str, str]],
        build: Callable[[list[Node], str], ActionPlan],
        option: str | None = None,
    ) -> None:
        """Which way (unless ``option`` is given or there is no choice), then confirm."""
        app = self.batch_app
        if app.readonly:
            say_read_only(app)
            return
        nodes = self.chosen_nodes()
        if not nodes:
            return

        def chosen(picked: str | None) -> None:
            if picked is not None:
                confirm_then_run(app, build(nodes, picked), on_confirmed=self.nodes_acted_on)

        if question is None or option is not None:
            chosen(option or "")
        else:
            app.push_screen(ChooseOption(question, options), chosen)

    # ------------------------------------------------------------------ the palette

    def _node_commands(self, where: str) -> Iterator[SystemCommand]:
        if self.batch_app.readonly:
            return

        def run(build: Callable[[list[Node], str], ActionPlan], option: str) -> Callable[[], None]:
            return lambda: self._ask("", [], build, option)

        for o in actions.REBOOT_OPTIONS:
            yield SystemCommand(
                f"Reboot node ({o})",
                f"Reboot the {where} node: {node_plans.OPTION_HINTS[o]} (B)",
                run(lambda nodes, opt: node_plans.reboot_nodes(self.pool_id, nodes, opt), o),
            )
        for o in actions.DISABLE_SCHEDULING_OPTIONS:
            yield SystemCommand(
                f"Disable scheduling on node ({o})",
                f"No new task on the {where} node: {node_plans.OPTION_HINTS[o]} (D)",
                run(lambda nodes, opt: node_plans.disable_scheduling(self.pool_id, nodes, opt), o),
            )
        yield SystemCommand(
            "Enable scheduling on node (E)",
            f"The {where} node takes tasks again",
            self.action_enable_scheduling,
        )
        for o in actions.DEALLOCATION_OPTIONS:
            yield SystemCommand(
                f"Remove node from pool ({o})…",
                f"The {where} node leaves the pool: {node_plans.OPTION_HINTS[o]} (X; type the id)",
                run(lambda nodes, opt: node_plans.remove_nodes(self.pool_id, nodes, opt), o),
            )
