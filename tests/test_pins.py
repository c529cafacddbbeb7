"""Pinned jobs (issue 16): kept in order, saved at each change, bounded, a broken file ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchtui.refresh.pins import MAX_PINS, PinStore


def test_a_pin_is_saved_at_once_and_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "acct" / "pins.json"
    pins = PinStore.load(path)
    assert len(pins) == 0
    assert pins.toggle("job-b") and pins.toggle("job-a")
    assert list(PinStore.load(path)) == ["job-b", "job-a"]
    assert not pins.toggle("job-b")
    assert list(PinStore.load(path)) == ["job-a"] and "job-a" in pins and "job-b" not in pins


def test_bounds_and_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text(json.dumps({"version": 1, "pinned": ["ok", 7, "x" * 65, "", "also-ok"]}))
    assert list(PinStore.load(path)) == ["ok", "also-ok"]
    path.write_text("{torn")
    assert list(PinStore.load(path)) == []
    pins = PinStore([f"j{i}" for i in range(MAX_PINS + 5)])
    assert len(pins) == MAX_PINS
    with pytest.raises(ValueError, match="at most"):
        pins.toggle("one-more")
