"""Rows are rebuilt only where their inputs changed, and only listed keys are kept."""

from __future__ import annotations

from batchtui.ui.row_model import Row
from batchtui.ui.row_reuse import RowReuse


def test_equal_inputs_give_back_the_same_row_and_gone_keys_are_forgotten() -> None:
    built: list[tuple[str, int]] = []

    def build(inputs: tuple[str, int]) -> Row:
        built.append(inputs)
        return Row(key=inputs[0], cells=(inputs[0], str(inputs[1])))

    reuse: RowReuse[tuple[str, int]] = RowReuse()
    first = reuse.rows([("a", ("a", 1)), ("b", ("b", 2))], build)
    again = reuse.rows([("a", ("a", 1)), ("b", ("b", 3))], build)
    assert again[0] is first[0] and again[1] is not first[1]
    assert built == [("a", 1), ("b", 2), ("b", 3)]
    reuse.rows([("b", ("b", 3))], build)  # a leaves the list
    reuse.rows([("a", ("a", 1)), ("b", ("b", 3))], build)  # and comes back: built again
    assert built[-1] == ("a", 1) and len(built) == 4
    reuse.clear()
    reuse.rows([("b", ("b", 3))], build)
    assert len(built) == 5
