"""Every pool's node counts by state (``/nodecounts``, NEXT-APIS §3): tolerant models of the wire.

``/nodecounts`` spells its states in camelCase (``startTaskFailed``, ``waitingForStartTask``),
unlike a node's ``state`` (``starttaskfailed``), and its counts are kept here as spelled, in the
order received. Apart from the pools' and nodes' models (pools.py) because ``--once`` prints
these and reads no pool or node: those classes are not built at its every start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from batchtui.batch.wire import Bad, Page, WireModel, an_object, integer, model_page, text, wire

#: /nodecounts keys of the sick states, as that call spells them
SICK_COUNT_KEYS = ("unusable", "startTaskFailed", "unknown", "offline", "preempted")


@dataclass(frozen=True, slots=True)
class NodeCounts:
    """One side (dedicated or low priority) of a pool's ``/nodecounts``, as spelled on the wire."""

    counts: tuple[tuple[str, int], ...] = ()  # every key but total, in the order received
    total: int = 0

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str = "nodeCounts") -> NodeCounts:
        try:
            return _node_counts(d)
        except Bad as bad:
            raise bad.at(where) from None

    def get(self, key: str) -> int:
        """The count under its /nodecounts key (``startTaskFailed``, not ``starttaskfailed``)."""
        return next((n for k, n in self.counts if k == key), 0)

    @property
    def sick(self) -> int:
        return sum(self.get(k) for k in SICK_COUNT_KEYS)

    def items(self) -> tuple[tuple[str, int], ...]:
        """(state as /nodecounts spells it, count), total left out: every node once."""
        return self.counts

    def to_wire(self) -> dict[str, int]:
        return {**dict(self.counts), "total": self.total}


def _node_counts(value: object) -> NodeCounts:
    """Its keys are states, some to come: read every one, not a fixed list of fields."""
    counts = []
    total = 0
    for key, count in an_object(value).items():
        try:
            n = 0 if count is None else integer(count)
        except Bad as bad:
            bad.path.append(f".{key}")
            raise
        if key == "total":
            total = n
        else:
            counts.append((str(key), n))
    return NodeCounts(tuple(counts), total)


@dataclass(frozen=True, slots=True)
class PoolNodeCounts(WireModel):
    where: ClassVar[str] = "poolNodeCounts"
    pool_id: str | None = wire("poolId", conv=text)
    dedicated: NodeCounts = wire("dedicated", conv=_node_counts, default=NodeCounts())
    low_priority: NodeCounts = wire("lowPriority", conv=_node_counts, default=NodeCounts())

    def get(self, key: str) -> int:
        return self.dedicated.get(key) + self.low_priority.get(key)

    @property
    def total(self) -> int:
        return self.dedicated.total + self.low_priority.total

    @property
    def sick(self) -> int:
        return self.dedicated.sick + self.low_priority.sick


def parse_node_counts_page(body: object) -> Page[PoolNodeCounts]:
    return model_page(body, PoolNodeCounts, "poolNodeCounts")
