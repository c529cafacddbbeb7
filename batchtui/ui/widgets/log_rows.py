"""What a log view holds and where each line falls on screen, without Textual: the lines of the
last :class:`~batchtui.refresh.logs.LogSnapshot`, their widths, the rows they take when wrapped,
and the lines a search matches.

A snapshot carries every line it holds (one tuple, shared, capped by the poller), plus what
changed since the one before. A snapshot that follows the one before by one version is applied
as a change (lines added at the bottom cost only those lines); any other (the first, a reset,
or a snapshot superseded in the message queue and so skipped) is taken whole. Lines are
numbered absolutely: a line keeps its number while lines are dropped above it or loaded
above it, so a view can keep its place.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from rich.cells import cell_len

from batchtui.logtext import Line
from batchtui.refresh.logs import LogSnapshot


def line_width(line: Line) -> int:
    """Cells the line takes (ASCII, nearly every log line, without a table look-up)."""
    text = line.text
    return len(text) if text.isascii() else cell_len(text)


@dataclass(frozen=True, slots=True)
class Shift:
    """How the lines moved in one :meth:`LogRows.apply`, for the view to keep its place."""

    whole: bool  # taken whole: nothing to keep (first open, reset, a skipped version)
    rows_above: int  # rows added (+) or removed (-) above the lines that were already held
    appended: int  # lines added at the bottom


class LogRows:
    """The lines of a log view by absolute number, and the rows they take at a wrap width."""

    def __init__(self) -> None:
        self.lines: Sequence[Line] = ()  # complete lines, then the unfinished one(s)
        self.complete = 0  # how many of ``lines`` are complete (the rest: the partial line)
        self.first = 0  # the absolute number of lines[0]
        self.version = -1
        # Per line held: 8 bytes in an array, not a 36-byte int object in a list.
        self._widths = array("q")
        self.max_width = 0
        self.wrap: int | None = None  # wrap width in cells, or None (one row per line)
        # With wrap: cumulative rows, less _base: the rows of lines[0..i] are _ends[i] - _base
        # (dropping lines from the top moves _base instead of rewriting every entry).
        self._ends = array("q")
        self._base = 0
        self.term = ""
        self._pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []  # absolute numbers of the complete lines holding the term

    # ------------------------------------------------------------------ lines

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def end(self) -> int:
        """The absolute number just past the last line held."""
        return self.first + len(self.lines)

    def line(self, number: int) -> Line | None:
        i = number - self.first
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def apply(self, snap: LogSnapshot) -> Shift:
        """Take a snapshot's lines; say how those already held moved."""
        lines = snap.lines + snap.partial if snap.partial else snap.lines
        old_complete = self.complete
        delta = snap.version == self.version + 1 and not snap.reset and self.version >= 0
        self.version = snap.version
        if not delta:
            self._take(lines, len(snap.lines), first=0)
            return Shift(True, 0, 0)
        # The previous partial line (if any) is replaced by what the snapshot holds after the
        # complete lines it had: drop it first, then apply the changes in the poller's order.
        if len(self.lines) > old_complete:
            self._cut_bottom(len(self.lines) - old_complete)
        rows_above = 0
        if snap.dropped_top:
            rows_above -= self._cut_top(snap.dropped_top)
        if snap.dropped_bottom:
            self._cut_bottom(snap.dropped_bottom)
        if snap.prepended:
            rows_above += self._add_top(snap.lines[: snap.prepended])
        kept = len(snap.lines) - snap.appended
        if len(self._widths) != kept:
            # Deltas that do not add up (cannot happen with one poller): start again.
            self._take(lines, len(snap.lines), first=self.first)
            return Shift(True, 0, 0)
        self.lines = lines
        self.complete = len(snap.lines)
        self._add_bottom(lines[kept:], new_complete=snap.lines[kept:])
        return Shift(False, rows_above, snap.appended)

    def _take(self, lines: Sequence[Line], complete: int, *, first: int) -> None:
        self.lines = lines
        self.complete = complete
        self.first = first
        self._widths = array("q", [line_width(line) for line in lines])
        self.max_width = max(self._widths, default=0)
        self._rebuild_rows()
        self._rebuild_matches()

    def _cut_top(self, n: int) -> int:
        """Forget the first ``n`` lines; the rows they took."""
        n = min(n, len(self._widths))
        rows = self._rows_before(n)
        del self._widths[:n]
        if self.wrap is not None and n:
            self._base = self._ends[n - 1]
            del self._ends[:n]
        self.first += n
        cut = bisect_right(self.matches, self.first - 1)
        del self.matches[:cut]
        return rows

    def _cut_bottom(self, n: int) -> None:
        n = min(n, len(self._widths))
        if n <= 0:
            return
        del self._widths[-n:]
        if self.wrap is not None:
            del self._ends[-n:]
        last = self.first + len(self._widths)
        while self.matches and self.matches[-1] >= last:
            self.matches.pop()

    def _add_top(self, lines: Sequence[Line]) -> int:
        """Lines loaded above the first; the rows they take."""
        widths = array("q", [line_width(line) for line in lines])
        self._widths[:0] = widths
        self.max_width = max(self.max_width, max(widths, default=0))
        self.first -= len(lines)
        added = self._rows_of(widths)
        if self.wrap is not None:
            self._rebuild_rows()
        if self._pattern is not None:
            self.matches[:0] = self._find(lines, self.first)
        return added

    def _add_bottom(self, lines: Sequence[Line], *, new_complete: Sequence[Line]) -> None:
        widths = [line_width(line) for line in lines]
        start = len(self._widths)
        self._widths.extend(widths)
        if widths:
            self.max_width = max(self.max_width, max(widths))
        if self.wrap is not None:
            base = self._ends[-1] if self._ends else self._base
            self._ends.extend(accumulate((self._rows(w) for w in widths), initial=base))
            del self._ends[start]  # the ``initial`` value
        if self._pattern is not None:
            self.matches.extend(self._find(new_complete, self.first + start))

    # ------------------------------------------------------------------ rows

    def _rows(self, width: int) -> int:
        wrap = self.wrap
        if wrap is None or width <= wrap:
            return 1
        return -(-width // wrap)

    def _rows_of(self, widths: Sequence[int]) -> int:
        if self.wrap is None:
            return len(widths)
        return sum(self._rows(w) for w in widths)

    def _rows_before(self, index: int) -> int:
        if self.wrap is None or index <= 0:
            return max(0, index)
        return self._ends[index - 1] - self._base

    def _rebuild_rows(self) -> None:
        self._base = 0
        if self.wrap is None:
            self._ends = array("q")
            return
        wrap = self.wrap
        self._ends = array("q", accumulate(1 if w <= wrap else -(-w // wrap) for w in self._widths))

    def set_wrap(self, width: int | None) -> None:
        """Wrap at ``width`` cells (None: one row per line, scrolled sideways)."""
        width = max(1, width) if width is not None else None
        if width != self.wrap:
            self.wrap = width
            self._rebuild_rows()

    @property
    def row_count(self) -> int:
        if self.wrap is None:
            return len(self._widths)
        return self._ends[-1] - self._base if self._ends else 0

    def locate(self, row: int) -> tuple[int, int] | None:
        """(absolute line number, row within the line) of a row, or None past the end."""
        if row < 0:
            return None
        if self.wrap is None:
            return (self.first + row, 0) if row < len(self._widths) else None
        i = bisect_right(self._ends, row + self._base)
        if i >= len(self._ends):
            return None
        return self.first + i, row - self._rows_before(i)

    def row_of(self, number: int) -> int:
        """The first row of an absolute line number (clamped to the lines held)."""
        i = min(max(number - self.first, 0), len(self._widths))
        return self._rows_before(i)

    # ------------------------------------------------------------------ search

    def search(self, term: str) -> None:
        """Find ``term`` literally: case-insensitive unless it holds a capital (smart case)."""
        self.term = term
        if not term:
            self._pattern = None
        else:
            flags = 0 if any(c.isupper() for c in term) else re.IGNORECASE
            self._pattern = re.compile(re.escape(term), flags)
        self._rebuild_matches()

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return self._pattern

    def _rebuild_matches(self) -> None:
        self.matches = self._find(self.lines[: self.complete], self.first) if self._pattern else []

    def _find(self, lines: Sequence[Line], first: int) -> list[int]:
        search = self._pattern.search if self._pattern is not None else None
        if search is None:
            return []
        return [first + i for i, line in enumerate(lines) if search(line.text)]

    def next_match(self, after: int, *, backwards: bool = False) -> int | None:
        """The matching line after (or before) absolute line ``after``, wrapping round."""
        m = self.matches
        if not m:
            return None
        if backwards:
            i = bisect_right(m, after - 1) - 1
            return m[i] if i >= 0 else m[-1]
        i = bisect_right(m, after)
        return m[i] if i < len(m) else m[0]
