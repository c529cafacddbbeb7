"""Desktop notifications through the terminal: OSC 9, OSC 777 or OSC 99, chosen by detection.

Facts from NEXT-APIS §6a: iTerm2, WezTerm and Ghostty show ``ESC ] 9 ; text BEL``; urxvt, foot
and patched VTE terminals ``ESC ] 777 ; notify ; title ; body BEL`` (a semicolon in either
breaks it); kitty ``ESC ] 99 ; i=N:d=0 ; title ESC \\`` then ``... d=1:p=body ; body ESC \\``.
Inside tmux a sequence goes through as DCS passthrough (``ESC P tmux;`` + the sequence with
every ESC doubled + ``ESC \\``; tmux 3.3+ also needs ``set -g allow-passthrough on``). ConEmu
and Windows Terminal read ``OSC 9 ; <number> ;`` as taskbar progress, so an OSC 9 text never
starts with a number and a semicolon. Terminals drop OSC frames they do not know.

The text is the service's (job ids) and the operator's: it is neutralised (every control
character shown as text, no ESC, BEL or ST left), so an id cannot end the sequence early and
inject its own. Under textual-serve (``is_web``) none of these do anything, and in tests
(``is_headless``) nothing is written.

Textual has no public API for writing bytes to the terminal; :func:`write_to_terminal` is the
one place that uses the private ``App._driver.write``, as ``App.bell`` itself does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal

from batchtui.sanitize import clean

Protocol = Literal["osc9", "osc777", "osc99"]
PROTOCOLS: tuple[str, ...] = ("osc9", "osc777", "osc99")
#: longer texts are cut: notification centres show a line or two
MAX_TEXT = 200
ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"


def detect(env: Mapping[str, str] | None = None) -> Protocol | None:
    """The notification protocol the terminal speaks, by the usual signs; None: the bell only.

    Inside tmux, TERM and TERM_PROGRAM name tmux, but variables the outer terminal set when
    tmux started (KITTY_WINDOW_ID, ITERM_SESSION_ID, LC_TERMINAL, WEZTERM_PANE...) remain.
    """
    e = os.environ if env is None else env
    term = e.get("TERM", "").lower()
    program = e.get("TERM_PROGRAM", "")
    if "kitty" in term or e.get("KITTY_WINDOW_ID"):
        return "osc99"
    if (
        program in ("iTerm.app", "WezTerm", "ghostty")
        or e.get("LC_TERMINAL") == "iTerm2"
        or e.get("ITERM_SESSION_ID")
        or e.get("WEZTERM_PANE")
        or e.get("GHOSTTY_RESOURCES_DIR")
        or "ghostty" in term
    ):
        return "osc9"
    if term.startswith("foot") or "rxvt" in term:
        return "osc777"
    if e.get("VTE_VERSION"):
        return "osc777"  # VTE with the notify patch (Fedora, Ubuntu); others drop it silently
    return None


def in_tmux(env: Mapping[str, str] | None = None) -> bool:
    e = os.environ if env is None else env
    return bool(e.get("TMUX"))


def neutral(text: object, limit: int = MAX_TEXT) -> str:
    """One line of plain text with no character a terminal would act on."""
    s = " ".join(clean(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


_LEADING_NUMBER = re.compile(r"^\s*\d+\s*;")


def sequence(protocol: Protocol, title: str, body: str, *, tmux: bool = False, ident: int = 1) -> str:
    """The escape sequence that shows ``title`` and ``body`` (both neutralised here)."""
    t, b = neutral(title, 80), neutral(body)
    if protocol == "osc9":
        text = f"{t}: {b}" if t else b
        if _LEADING_NUMBER.match(text):
            text = "batchtui: " + text  # never "4;..." (taskbar progress in ConEmu/Windows Terminal)
        seq = f"{ESC}]9;{text}{BEL}"
    elif protocol == "osc777":
        seq = f"{ESC}]777;notify;{t.replace(';', ',')};{b.replace(';', ',')}{BEL}"
    else:
        # kitty: metadata before the first ';' (':'-separated keys), the payload after it.
        n = max(int(ident), 0) % 1_000_000
        seq = f"{ESC}]99;i={n}:d=0;{t}{ST}{ESC}]99;i={n}:d=1:p=body;{b}{ST}"
    return passthrough(seq) if tmux else seq


def passthrough(seq: str) -> str:
    """``seq`` wrapped for tmux's DCS passthrough (every ESC inside doubled)."""
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ST}"


def write_to_terminal(app: Any, data: str) -> bool:
    """Write ``data`` to the app's terminal as it is; False when there is none to write to.

    The one use of Textual's private ``App._driver`` (tests/test_osc.py fails if Textual
    changes it): guarded as ``App.bell`` guards it, and never in a browser (textual-serve's
    terminal ignores these sequences) or headless (tests).
    """
    driver = getattr(app, "_driver", None)
    if driver is None or app.is_headless or app.is_web:
        return False
    driver.write(data)
    return True


def desktop_notify(
    app: Any, title: str, body: str, protocol: Protocol | None, *, tmux: bool = False, ident: int = 1
) -> bool:
    """A desktop notification, if the terminal speaks a protocol; True when one was written."""
    if protocol is None:
        return False
    return write_to_terminal(app, sequence(protocol, title, body, tmux=tmux, ident=ident))
