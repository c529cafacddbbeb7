"""Desktop notifications (issue 16, NEXT-APIS §6a): the exact bytes of OSC 9, 777 and 99, tmux
passthrough, the terminal detected, text from the service neutralised; and the one private
Textual call they go through, which this test pins down: if Textual renames or changes
``App._driver.write`` (or stops using it for the bell), it fails here first."""

from __future__ import annotations

import inspect

import pytest
from textual.app import App

from batchtui.ui import osc


def test_the_three_protocols_byte_for_byte() -> None:
    assert osc.sequence("osc9", "batchtui", "job job-1 failed") == "\x1b]9;batchtui: job job-1 failed\x07"
    assert osc.sequence("osc777", "batchtui", "job a;b done") == "\x1b]777;notify;batchtui;job a,b done\x07"
    assert osc.sequence("osc99", "batchtui", "Hello world", ident=3) == (
        "\x1b]99;i=3:d=0;batchtui\x1b\\\x1b]99;i=3:d=1:p=body;Hello world\x1b\\"
    )


def test_osc9_never_starts_with_a_number_and_a_semicolon() -> None:
    # ConEmu and Windows Terminal read "OSC 9 ; 4 ;" as taskbar progress.
    assert osc.sequence("osc9", "", "4;2 tasks failed") == "\x1b]9;batchtui: 4;2 tasks failed\x07"
    assert osc.sequence("osc9", "4; x", "y").startswith("\x1b]9;batchtui: 4; x: y")


def test_inside_tmux_every_escape_is_doubled_in_a_dcs_passthrough() -> None:
    assert osc.sequence("osc9", "t", "b", tmux=True) == "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"
    wrapped = osc.sequence("osc99", "t", "b", tmux=True, ident=1)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]99;") and wrapped.endswith("\x1b\x1b\\\x1b\\")


@pytest.mark.parametrize(
    "hostile",
    ["job\x07\x1b]0;pwned\x07", "job\x1b\\\x1b]52;c;Y2F0\x07", "job\x9c\x9d", "job\u202e", "a\nb\rc"],
)
@pytest.mark.parametrize("protocol", ["osc9", "osc777", "osc99"])
def test_an_id_cannot_end_the_sequence_or_start_its_own(hostile: str, protocol: osc.Protocol) -> None:
    seq = osc.sequence(protocol, "batchtui", f"job {hostile} failed")
    # The only controls left are the sequence's own framing.
    framing = {"osc9": 2, "osc777": 2, "osc99": 4}[protocol]  # ESC ] ... BEL, or twice ESC ] ... ESC \\
    controls = [c for c in seq if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    assert len(controls) == framing, repr(seq)
    assert "\u202e" not in seq


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"TERM_PROGRAM": "WezTerm"}, "osc9"),
        ({"TERM_PROGRAM": "ghostty"}, "osc9"),
        ({"TERM": "xterm-kitty"}, "osc99"),
        (
            {"TERM": "tmux-256color", "TERM_PROGRAM": "tmux", "KITTY_WINDOW_ID": "1", "TMUX": "/tmp/t,1,0"},
            "osc99",
        ),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "rxvt-unicode-256color"}, "osc777"),
        ({"TERM": "xterm-256color"}, None),
        ({}, None),
    ],
)
def test_the_terminal_is_told_by_the_usual_signs(env: dict[str, str], expected: str | None) -> None:
    assert osc.detect(env) == expected


def test_textual_still_writes_the_bell_through_the_private_driver_we_use() -> None:
    # App.bell is where Textual itself writes raw bytes: the same guard and the same call.
    source = inspect.getsource(App.bell)
    assert "self._driver.write(" in source and "is_headless" in source
    assert isinstance(App.is_headless, property) and isinstance(App.is_web, property)


async def test_write_to_terminal_uses_the_driver_and_is_silent_headless() -> None:
    app: App[None] = App()
    async with app.run_test() as pilot:
        driver = app._driver
        assert driver is not None and callable(driver.write)
        written: list[str] = []
        driver.write = written.append  # type: ignore[method-assign]
        assert osc.write_to_terminal(app, "x") is False  # headless: nothing written
        assert written == []

        class Terminal(App[None]):
            @property
            def is_headless(self) -> bool:  # a real terminal, as far as the guard can tell
                return False

        await pilot.pause()
    real = Terminal()
    async with real.run_test() as pilot:
        driver = real._driver
        assert driver is not None
        written = []
        driver.write = written.append  # type: ignore[method-assign]
        assert osc.desktop_notify(real, "batchtui", "job x\x1b failed", "osc9") is True
        assert written == ["\x1b]9;batchtui: job x\\x1b failed\x07"]
        assert osc.desktop_notify(real, "batchtui", "x", None) is False
        await pilot.pause()
