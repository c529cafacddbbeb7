"""The log view: a task's file as lines, on Textual's Line API (one Strip per row on screen).

Only the rows on screen are rendered, each from an LRU cache of Strips keyed by what the row
shows (the line itself, the wrap width and row, the search), so scrolling through 100,000
lines costs a screenful per frame whatever the length (bench/log_view.py). The lines are
:class:`~batchtui.logtext.Line` s: their text holds no control character and their SGR
colours are styled ranges, so a row is built from plain Segments and never parsed as markup.

The view follows (stays at the end as lines come) until the operator scrolls up; back at the
end (``end``, ``G``, or scrolling down to it) it follows again. Near the top of what is
loaded it asks for earlier parts (:class:`LogView.EarlierWanted`). It posts
:class:`LogView.FollowChanged` when following starts or stops, so the screen can tell the poller.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from batchtui.logtext import Line, SgrStyle
from batchtui.refresh.logs import LogSnapshot
from batchtui.ui.widgets.log_rows import LogRows

#: Strips kept: a few screens of rows, enough to scroll back and forth without re-rendering.
CACHED_STRIPS = 2000
#: Ask for earlier parts when the view comes within this many screens of the top.
EARLIER_SCREENS = 1


def sgr_style(sgr: SgrStyle) -> Style:
    """The Rich style of an SGR style (colours in Rich's names: red, bright_red, color(208), #hex)."""
    return Style(
        color=sgr.fg,
        bgcolor=sgr.bg,
        bold=sgr.bold or None,
        dim=sgr.dim or None,
        italic=sgr.italic or None,
        underline=sgr.underline or None,
        reverse=sgr.reverse or None,
        strike=sgr.strike or None,
    )


class LogView(ScrollView, can_focus=True):
    """Lines of a log; follows the end, scrolls, wraps, highlights a search."""

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        background: $surface;
        color: $foreground;
        scrollbar-gutter: stable;
        & > .log-view--match { background: $warning 40%; }
        & > .log-view--match-current { background: $accent; color: $background; text-style: bold; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--match",
        "log-view--match-current",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "line_up", "Up", show=False),
        Binding("down,j", "line_down", "Down", show=False),
        Binding("pageup,b", "page_up", "Page up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("left", "side(-8)", "Left", show=False),
        Binding("right", "side(8)", "Right", show=False),
        Binding(
            "home,g", "top", "Top", key_display="g", tooltip="The top of what is loaded (loads earlier parts)"
        ),
        Binding(
            "end,G", "bottom", "End: follow", key_display="end", tooltip="The end of the file, following it"
        ),
    ]

    wrap: reactive[bool] = reactive(False)

    class FollowChanged(Message):
        """The view started or stopped following the end."""

        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    class EarlierWanted(Message):
        """The view reached the top of what is loaded and more of the file lies above."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = LogRows()
        self.following = True
        self.at_top = True  # the top of the file is loaded (nothing earlier to ask for)
        self.current: int | None = None  # the absolute number of the current search match
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(CACHED_STRIPS)
        self._styles: dict[SgrStyle, Style] = {}
        self._moving = False  # a scroll the view makes itself (keeping its place, following)
        self._earlier_asked = False
        self._frame: tuple[Style, int] | None = None

    # ------------------------------------------------------------------ data

    def show(self, snap: LogSnapshot) -> None:
        """Take a snapshot: keep the operator's place, or the end while following."""
        self.at_top = snap.at_top
        if snap.prepended or snap.reset or snap.at_top or snap.error:
            self._earlier_asked = False
        if snap.reset:
            self.current = None
        shift = self.rows.apply(snap)
        self._size_content()
        if self.following:
            self._move(y=self.max_scroll_y)
        elif shift.whole:
            if self.current is not None and self.rows.line(self.current) is None:
                self.current = None
            self._move(y=min(self.scroll_y, self.max_scroll_y))
        elif shift.rows_above:
            self._move(y=max(0, self.scroll_y + shift.rows_above))
        self._keep_going_up()
        self.refresh()

    def earlier_failed(self) -> None:
        """The read of earlier parts did not come back: the next scroll up may ask again."""
        self._earlier_asked = False

    def clear(self) -> None:
        """Another file: nothing shown until its first snapshot."""
        self.rows = LogRows()
        self.rows.set_wrap(self._wrap_width() if self.wrap else None)
        self.rows.search(self.rows.term)
        self.current = None
        self.following = True
        self.at_top = True
        self._earlier_asked = False
        self._size_content()
        self._move(y=0)
        self.refresh()

    # ------------------------------------------------------------------ geometry

    def _wrap_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _size_content(self) -> None:
        rows = self.rows
        width = self._wrap_width() if rows.wrap is not None else rows.max_width
        self.virtual_size = Size(width, rows.row_count)

    def _move(self, *, x: float | None = None, y: float | None = None) -> None:
        self._moving = True
        try:
            self.scroll_to(x=x, y=y, animate=False, immediate=True)
        finally:
            self._moving = False

    def top_line(self) -> int | None:
        """The absolute number of the line at the top of the view."""
        where = self.rows.locate(round(self.scroll_y))
        return where[0] if where else None

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap:
            self._rewrap()
        self._size_content()
        if self.following:
            self._move(y=self.max_scroll_y)

    def watch_wrap(self, wrap: bool) -> None:
        self._rewrap()

    def _rewrap(self) -> None:
        keep = self.top_line()
        self.rows.set_wrap(self._wrap_width() if self.wrap else None)
        self._size_content()
        if self.following:
            self._move(x=0, y=self.max_scroll_y)
        elif keep is not None:
            self._move(x=0, y=self.rows.row_of(keep))
        self.refresh()

    # ------------------------------------------------------------------ scrolling

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._moving:
            return
        at_end = new_value >= self.max_scroll_y
        if self.following != at_end:
            self.following = at_end
            self.post_message(self.FollowChanged(at_end))
        self._keep_going_up()

    def _keep_going_up(self) -> None:
        if (
            not self.at_top
            and not self._earlier_asked
            and not self.following
            and self.scroll_y <= EARLIER_SCREENS * max(1, self.size.height)
            and len(self.rows)
        ):
            self._earlier_asked = True
            self.post_message(self.EarlierWanted())

    def _user_move(self, y: float) -> None:
        before = self.scroll_y
        self.scroll_to(y=y, animate=False, immediate=True)
        if before == self.scroll_y and y < before + 1:
            # Already at the top: scrolling up again means "what is above".
            self._keep_going_up()

    def action_line_up(self) -> None:
        self._user_move(self.scroll_y - 1)

    def action_line_down(self) -> None:
        self._user_move(self.scroll_y + 1)

    def action_page_up(self) -> None:
        self._user_move(self.scroll_y - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._user_move(self.scroll_y + max(1, self.scrollable_content_region.height - 1))

    def action_side(self, cells: int) -> None:
        if not self.wrap:
            self.scroll_to(x=self.scroll_x + cells, animate=False, immediate=True)

    def action_top(self) -> None:
        self._user_move(0)
        if self.following:  # everything fits: the top is the end
            return
        self._keep_going_up()

    def action_bottom(self) -> None:
        """The end of the file, following it."""
        self._move(x=0, y=self.max_scroll_y)
        if not self.following:
            self.following = True
            self.post_message(self.FollowChanged(True))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.scroll_y == 0:
            self._keep_going_up()

    # ------------------------------------------------------------------ search

    def search(self, term: str) -> int:
        """Highlight ``term``; how many lines hold it."""
        self.rows.search(term)
        self.current = None
        self.refresh()
        return len(self.rows.matches)

    def find(self, *, backwards: bool = False, start: int | None = None) -> int | None:
        """Move to the next (or previous) line holding the term, after (before) line ``start``:
        by default the current match, or the top of the view. Its absolute number."""
        rows = self.rows
        if start is not None:
            pass
        elif self.current is not None:
            start = self.current
        else:
            top = self.top_line()
            start = rows.first - 1 if top is None else top - (0 if backwards else 1)
        found = rows.next_match(start, backwards=backwards)
        if found is None:
            return None
        self.current = found
        self._reveal(found)
        self.refresh()
        return found

    def match_index(self) -> int | None:
        """Which match (from 1) the current one is."""
        if self.current is None:
            return None
        from bisect import bisect_left

        i = bisect_left(self.rows.matches, self.current)
        return i + 1 if i < len(self.rows.matches) and self.rows.matches[i] == self.current else None

    def _reveal(self, number: int) -> None:
        row = self.rows.row_of(number)
        height = max(1, self.scrollable_content_region.height)
        if not (self.scroll_y <= row < self.scroll_y + height):
            # A third of the way down: the lines before it say how it came about.
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        if not self.wrap:
            line = self.rows.line(number)
            pattern = self.rows.pattern
            hit = pattern.search(line.text) if line is not None and pattern is not None else None
            width = self.scrollable_content_region.width
            if hit is not None and not (self.scroll_x <= hit.start() < self.scroll_x + width - 1):
                self.scroll_to(x=max(0, hit.start() - width // 3), animate=False, immediate=True)

    # ------------------------------------------------------------------ rendering

    @property
    def cached_strips(self) -> int:
        """Strips in the render cache (bounded by CACHED_STRIPS)."""
        return len(self._cache)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._styles.clear()

    def _sgr(self, sgr: SgrStyle, base: Style) -> Style:
        style = self._styles.get(sgr)
        if style is None:
            style = self._styles[sgr] = base + sgr_style(sgr)
        return style

    def _line_strip(self, line: Line, current: bool, base: Style) -> Strip:
        """The whole line as one Strip (the view crops it to the screen or its wrapped rows)."""
        text = line.text
        pattern = self.rows.pattern
        hits = (
            [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()] if pattern else []
        )
        if not line.styles and not hits:
            return Strip([Segment(text, base)] if text else [])
        # Each character's style: its SGR colours, then a search highlight over them.
        cuts = {0, len(text)}
        for r in line.styles:
            cuts.update((r.start, r.end))
        for start, end in hits:
            cuts.update((start, end))
        points = sorted(c for c in cuts if 0 <= c <= len(text))
        match = self.get_component_rich_style(
            "log-view--match-current" if current else "log-view--match", partial=True
        )
        segments: list[Segment] = []
        styles = line.styles
        si = 0
        hi = 0
        for a, b in zip(points, points[1:], strict=False):
            if a == b:
                continue
            while si < len(styles) and styles[si].end <= a:
                si += 1
            style = self._sgr(styles[si].style, base) if si < len(styles) and styles[si].start <= a else base
            while hi < len(hits) and hits[hi][1] <= a:
                hi += 1
            if hi < len(hits) and hits[hi][0] <= a:
                style = style + match
            segments.append(Segment(text[a:b], style))
        return Strip(segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every row of this frame shares, looked up once a frame rather than once a row
        # (the widget's style alone costs more than a cached row).
        self._frame = (self.rich_style, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        base, width = self._frame or (self.rich_style, self.scrollable_content_region.width)
        rows = self.rows
        where = rows.locate(scroll_y + y)
        if where is None:
            return Strip.blank(width, base)
        number, sub = where
        line = rows.lines[number - rows.first]
        current = number == self.current
        wrap = rows.wrap
        # The line itself is the key (frozen, hashable): the same text shares a strip, and a
        # line that changed (the unfinished last one) can never meet a stale one.
        key = (line, current, rows.term, wrap, sub)
        strip = self._cache.get(key)
        if strip is None:
            whole_key = (line, current, rows.term)
            whole = self._cache.get(whole_key)
            if whole is None:
                whole = self._cache[whole_key] = self._line_strip(line, current, base)
            strip = whole.crop(sub * wrap, (sub + 1) * wrap) if wrap is not None else whole
            self._cache[key] = strip
        if wrap is not None:
            return strip.extend_cell_length(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)
