"""Log bytes -> lines that are safe to show: SGR colours kept as styled ranges, everything else
that a terminal would act on made visible.

A task's stdout is whatever its program wrote: invalid UTF-8, NUL padding, progress bars
redrawn with carriage returns, colours, and now and then a title (OSC 0), a clipboard write
(OSC 52), a screen clear or a cursor move that would take over the operator's terminal. Only
SGR (``ESC [ ... m``) is interpreted, into a :class:`SgrStyle` the UI turns into its own styles;
every other control character is replaced by a visible stand-in (``␛`` for ESC, the Unicode
control pictures for C0, ``\\x9b`` for C1, ``\\u202e`` for bidi and invisible characters), so no
:class:`Line` ever holds a character a terminal would interpret. No Textual or Rich here.

Lines are cut from bytes at ``\\n`` (0x0A never occurs inside a UTF-8 sequence), so a
:class:`LineDecoder` fed in any chunks yields the same lines as one fed everything at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

#: A line longer than this many bytes is split (the next piece marked as its continuation).
MAX_LINE_BYTES = 4096
_TAB = 8
_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


@dataclass(frozen=True, slots=True)
class SgrStyle:
    """What SGR asked for. Colours are in Rich's syntax: ``red``, ``bright_red``,
    ``color(208)``, ``#ff8800``, so ``rich.style.Style(color=s.fg, bgcolor=s.bg, ...)`` takes them."""

    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    strike: bool = False
    fg: str | None = None
    bg: str | None = None


PLAIN = SgrStyle()


@dataclass(frozen=True, slots=True)
class StyledRange:
    start: int
    end: int
    style: SgrStyle


@dataclass(frozen=True, slots=True)
class Line:
    """One line to show. ``text`` holds no control character; ``styles`` cover parts of it."""

    text: str
    styles: tuple[StyledRange, ...] = ()
    #: the line goes on in the next one (it was too long, or the program wrote a bare CR)
    continued: bool = False


# --------------------------------------------------------------------------- SGR


def _colour(codes: list[int], i: int) -> tuple[str | None, int]:
    """The colour of ``38;5;n`` / ``38;2;r;g;b`` starting at codes[i] (the 5 or 2); next index."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        return f"color({min(codes[i + 1], 255)})", i + 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = (min(c, 255) for c in codes[i + 1 : i + 4])
        return f"#{r:02x}{g:02x}{b:02x}", i + 4
    return None, len(codes)  # malformed: ignore the rest, as terminals do


_ATTRS: dict[int, Callable[[SgrStyle], SgrStyle]] = {
    1: lambda s: replace(s, bold=True),
    2: lambda s: replace(s, dim=True),
    3: lambda s: replace(s, italic=True),
    4: lambda s: replace(s, underline=True),
    7: lambda s: replace(s, reverse=True),
    9: lambda s: replace(s, strike=True),
    22: lambda s: replace(s, bold=False, dim=False),
    23: lambda s: replace(s, italic=False),
    24: lambda s: replace(s, underline=False),
    27: lambda s: replace(s, reverse=False),
    29: lambda s: replace(s, strike=False),
}


def apply_sgr(style: SgrStyle, params: str) -> SgrStyle:
    """The style after ``ESC [ params m``."""
    codes = [int(p) if p.isdigit() else 0 for p in re.split("[;:]", params)] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        i += 1
        if c == 0:
            style = PLAIN
        elif c in _ATTRS:
            style = _ATTRS[c](style)
        elif 30 <= c <= 37:
            style = replace(style, fg=_COLOURS[c - 30])
        elif 90 <= c <= 97:
            style = replace(style, fg=f"bright_{_COLOURS[c - 90]}")
        elif 40 <= c <= 47:
            style = replace(style, bg=_COLOURS[c - 40])
        elif 100 <= c <= 107:
            style = replace(style, bg=f"bright_{_COLOURS[c - 100]}")
        elif c in (38, 48):
            colour, i = _colour(codes, i)
            if colour is not None:
                style = replace(style, fg=colour) if c == 38 else replace(style, bg=colour)
        elif c == 39:
            style = replace(style, fg=None)
        elif c == 49:
            style = replace(style, bg=None)
    return style


# --------------------------------------------------------------------------- one raw line

# SGR, or any single character a terminal (or a bidi-aware renderer) would act on.
_TOKEN = re.compile(
    r"\x1b\[([0-9;:]{0,64})m|[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _visible(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ␇ ␛ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"  # C1 (0x9b is an 8-bit CSI)
    return f"\\u{code:04x}"  # bidi overrides, zero-width and invisible characters


def render_line(raw: bytes, style: SgrStyle = PLAIN) -> tuple[list[Line], SgrStyle]:
    """The display lines of one raw line (no ``\\n``), and the style in force after it."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]  # CRLF
    text = raw.decode("utf-8", errors="replace")
    if text.isprintable():
        # Most lines: nothing to interpret or neutralise (every character _TOKEN matches is
        # one that str.isprintable() rejects: Cc, Cf, Zl, Zp).
        return [Line(text, (StyledRange(0, len(text), style),) if style != PLAIN and text else ())], style
    out: list[Line] = []
    parts: list[str] = []
    ranges: list[StyledRange] = []
    col = 0

    def put(s: str) -> None:
        nonlocal col
        if not s:
            return
        if style != PLAIN:
            if ranges and ranges[-1].end == col and ranges[-1].style == style:
                ranges[-1] = StyledRange(ranges[-1].start, col + len(s), style)
            else:
                ranges.append(StyledRange(col, col + len(s), style))
        parts.append(s)
        col += len(s)

    def close(continued: bool) -> None:
        nonlocal col
        out.append(Line("".join(parts), tuple(ranges), continued))
        parts.clear()
        ranges.clear()
        col = 0

    pos = 0
    for m in _TOKEN.finditer(text):
        put(text[pos : m.start()])
        pos = m.end()
        if m.group(1) is not None:
            style = apply_sgr(style, m.group(1))
            continue
        ch = m.group()
        if ch == "\t":
            put(" " * (_TAB - col % _TAB))
        elif ch == "\r":
            close(True)  # a progress bar's redraw: each state on its own line, none hidden
        else:
            put(_visible(ch))
    put(text[pos:])
    close(False)
    return out, style


def _utf8_cut(data: bytes, start: int, limit: int) -> int:
    """An index at most ``limit`` bytes past ``start`` that does not split a UTF-8 sequence."""
    cut = start + limit
    for back in range(4):
        if cut - back > start and (data[cut - back] & 0xC0) != 0x80:
            return cut - back
    return cut


# --------------------------------------------------------------------------- a stream of bytes


class LineDecoder:
    """Bytes in any chunks -> complete :class:`Line` s; the SGR style carries across lines.

    ``offset`` is the file offset the decoder starts at; :meth:`feed_at` says at which byte
    offset each line's raw line began (a raw line split in pieces gives each piece its own)."""

    def __init__(
        self, max_line_bytes: int = MAX_LINE_BYTES, style: SgrStyle = PLAIN, offset: int = 0
    ) -> None:
        self.max_line_bytes = max(16, max_line_bytes)
        self.style = style
        self._pending = b""
        self._base = offset  # the file offset of the first pending byte

    @property
    def pending(self) -> bytes:
        """The bytes after the last newline: a line not finished yet."""
        return self._pending

    @property
    def offset(self) -> int:
        """The file offset where the unfinished line starts (everything before is complete)."""
        return self._base

    @property
    def end(self) -> int:
        """The file offset just past the last byte fed."""
        return self._base + len(self._pending)

    def feed(self, data: bytes) -> list[Line]:
        return [line for _, line in self.feed_at(data)]

    def feed_at(self, data: bytes) -> list[tuple[int, Line]]:
        out: list[tuple[int, Line]] = []
        buf = self._pending + data if self._pending else data
        style = self.style
        limit = self.max_line_bytes
        at = self._base
        raws = buf.split(b"\n")
        for k, raw in enumerate(raws):
            last = k == len(raws) - 1
            start = 0
            # A line too long is cut in pieces of at most `limit` bytes (the last piece of the
            # unfinished line stays pending: more of it may come).
            while len(raw) - start > limit:
                cut = _utf8_cut(raw, start, limit)
                lines, style = render_line(raw[start:cut], style)
                lines[-1] = replace(lines[-1], continued=True)
                out.extend([(at + start, line) for line in lines])
                start = cut
            if last:
                self._pending = raw[start:] if start else raw
                self._base = at + start
                break
            lines, style = render_line(raw[start:] if start else raw, style)
            if len(lines) == 1:
                out.append((at + start, lines[0]))
            else:
                out.extend([(at + start, line) for line in lines])
            at += len(raw) + 1
        self.style = style
        return out

    def partial(self) -> list[Line]:
        """How the unfinished last line looks now (without consuming it)."""
        if not self._pending:
            return []
        return render_line(self._pending, self.style)[0]

    def finish(self) -> list[Line]:
        """The unfinished last line as complete: the end of the file has been reached."""
        if not self._pending:
            return []
        lines, self.style = render_line(self._pending, self.style)
        self._base += len(self._pending)
        self._pending = b""
        return lines


def decode(data: bytes, max_line_bytes: int = MAX_LINE_BYTES) -> list[Line]:
    """Every line of ``data`` (a last line without a newline included)."""
    decoder = LineDecoder(max_line_bytes)
    return decoder.feed(data) + decoder.finish()


# --------------------------------------------------------------------------- binary files

_BINARY_BYTES = re.compile(rb"[\x00-\x06\x0e-\x1a\x1c-\x1f]")


def looks_binary(sample: bytes) -> bool:
    """Whether a file's first bytes look like a binary file rather than text.

    A few NULs (a log padded after a crash) do not make a file binary; more than 10% of
    bytes that no text has, or more than 10% of characters that are not UTF-8, do."""
    sample = sample[:8192]
    if not sample:
        return False
    if len(_BINARY_BYTES.findall(sample)) * 10 > len(sample):
        return True
    # (a sequence cut by the sample's end is not held against it)
    decoded = sample.decode("utf-8", errors="replace").rstrip("\ufffd")
    return decoded.count("\ufffd") * 10 > max(1, len(decoded))


# --------------------------------------------------------------------------- to a terminal


def _sgr_codes(style: SgrStyle) -> str:
    codes = [str(c) for c, on in ((1, style.bold), (2, style.dim), (3, style.italic)) if on]
    codes += [str(c) for c, on in ((4, style.underline), (7, style.reverse), (9, style.strike)) if on]
    for colour, base in ((style.fg, 30), (style.bg, 40)):
        if colour is None:
            continue
        name = colour.removeprefix("bright_")
        if name in _COLOURS:
            codes.append(str(base + _COLOURS.index(name) + (60 if colour != name else 0)))
        elif colour.startswith("color("):
            codes.append(f"{base + 8};5;{int(colour[6:-1])}")
        elif colour.startswith("#"):
            r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
            codes.append(f"{base + 8};2;{r};{g};{b}")
    return ";".join(codes)


def to_ansi(line: Line) -> str:
    """The line for a terminal: its text, with SGR this module writes itself (and resets)."""
    if not line.styles:
        return line.text
    out: list[str] = []
    pos = 0
    for r in line.styles:
        out.append(line.text[pos : r.start])
        codes = _sgr_codes(r.style)
        out.append(
            f"\x1b[{codes}m{line.text[r.start : r.end]}\x1b[0m" if codes else line.text[r.start : r.end]
        )
        pos = r.end
    out.append(line.text[pos:])
    return "".join(out)
