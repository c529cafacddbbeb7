"""The shared formatters: what an operator reads in cells and on the status line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from batchtui.ui.text import clean, fmt_duration, fmt_interval, literal


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.2, "0.2s"), (0.25, "0.2s"), (1.5, "1.5s"), (5, "5s"), (5.0, "5s"), (90, "1m30s"), (3600, "1h00m")],
)
def test_refresh_interval(seconds: float, shown: str) -> None:
    assert fmt_interval(seconds) == shown


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=12, seconds=3), "12m03s"),
        (timedelta(hours=3, minutes=5), "3h05m"),
        (timedelta(days=4, hours=2), "4d02h"),
        (timedelta(days=10675199, hours=2), "unlimited"),
        (timedelta(seconds=-5), "0s"),
        (None, ""),
    ],
)
def test_duration(delta: timedelta | None, shown: str) -> None:
    assert fmt_duration(delta) == shown


def test_literal_keeps_markup_and_escapes_controls() -> None:
    text = literal("[bold red]x[/]\x1b[2J\x07\u202eevil\nnext")
    assert text.plain == "[bold red]x[/]\\x1b[2J\\x07\\u202eevil\\nnext"
    assert text.spans == []
    assert clean("a\tb\nc", single_line=False) == "a\tb\nc"


def test_literal_limit_adds_an_ellipsis() -> None:
    assert literal("abcdefghij", limit=5).plain == "abcd…"
