"""Make service text safe to print, without importing any UI library.

Used by the dashboard (through ``batchtui.ui.text``) and by ``--once -o table``: ids,
display names and messages from the service may hold ANSI escapes or other control
characters; they are shown as visible ``\\xNN`` escapes instead of being acted upon.
"""

from __future__ import annotations

import re

# C0 controls except TAB/LF, DEL, and C1 controls (which include the 8-bit CSI 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Characters that change layout or direction without being visible, and lone surrogates: valid
# JSON ("\udfff") decodes to them, but no terminal, file or pipe can be written one as UTF-8.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def clean(value: object, *, single_line: bool = True) -> str:
    """Plain text with every control character shown as ``\\xNN``.

    Tabs and newlines are kept when ``single_line`` is False (detail panes); in table cells
    they become visible escapes so one value cannot take several rows.
    """
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = _CONTROL.sub(_escape_control, s)
    s = _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
    if single_line:
        s = s.replace("\t", "\\t").replace("\n", "\\n")
    return s
