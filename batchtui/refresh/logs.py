"""The log tail: one task or node file, opened at its end and followed while the task runs.

Per tick it costs one HEAD (the length) and, only when the file grew, one ranged GET of the new
bytes, so every byte is read once. Opening reads the last ``tail_bytes`` (64 KiB), whatever the
file's size; scrolling up asks for earlier parts by range (:meth:`LogTail.load_earlier`). What
it holds is bounded by lines and by bytes: past either cap the oldest lines go (or, while the
operator reads further up, the newest stop coming until they return to the end).

The screen opens it with ``engine.open(tail, on_snapshot, on_error)``, tells it its intents
(follow or not, load earlier, the task's state, another file) and calls
``handle.refresh_now(reason)``; every poll posts a frozen :class:`LogSnapshot`. A refusal the
operator can act on (not started, no such file, node gone, cleaned up) comes in the snapshot,
in the service's words, with the lines already shown kept; anything else (offline, throttled,
a rejected key) is raised for the engine to pace and report.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from batchtui.batch.files import FileRef, FileUnavailable
from batchtui.logtext import Line, LineDecoder, looks_binary
from batchtui.refresh.views import done_interval

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient

#: What the first read takes from the end of the file.
TAIL_BYTES = 64 * 1024
#: What one "load earlier" reads.
EARLIER_BYTES = 256 * 1024
#: The most new bytes one tick reads (a log growing faster is caught up over a few ticks).
MAX_READ = 1024 * 1024
MAX_LINES = 100_000
MAX_BYTES = 16 * 1024 * 1024
#: Refusals that will not change by asking again soon.
_FINAL = ("node-gone", "cleaned-up", "no-task")


@dataclass(frozen=True, slots=True)
class LogSnapshot:
    """What the log view shows, after one poll. The deltas are against the previous snapshot
    (``version`` counts them: a gap or ``reset`` means redraw from ``lines``)."""

    file: FileRef
    size: int | None  # bytes, as the last HEAD said (None before the first answer)
    last_modified: datetime | None
    following: bool  # the view stays at the end as lines come (False once scrolled up)
    live: bool  # still read as it grows (False: the task is done and the file stopped growing)
    start: int  # file offset of the first line held (0: the top of the file is loaded)
    end: int  # file offset just past the last byte read
    lines: tuple[Line, ...]  # complete lines, oldest first
    partial: tuple[Line, ...]  # how the unfinished last line looks now (no newline yet)
    appended: int  # lines added at the bottom since the previous snapshot
    prepended: int  # lines added at the top (load_earlier)
    dropped_top: int  # lines dropped from the top (caps)
    dropped_bottom: int  # lines dropped from the bottom (caps, while reading further up)
    reset: bool  # the lines were rebuilt (first open, another file, file replaced or cut)
    binary: bool  # the file is not text: no lines are shown
    error: str | None  # the last refusal, in the operator's words (lines so far kept)
    reason: str | None  # its kind: not-started, not-found, node-gone, cleaned-up, range, ...
    version: int

    @property
    def at_top(self) -> bool:
        return self.start == 0

    @property
    def new_lines(self) -> tuple[Line, ...]:
        return self.lines[len(self.lines) - self.appended :] if self.appended else ()


class LogTail:
    """A :class:`~batchtui.refresh.engine.Poller` of one file's tail."""

    def __init__(
        self,
        client: BatchClient,
        file: FileRef,
        *,
        task_state: str | None = None,
        tail_bytes: int = TAIL_BYTES,
        earlier_bytes: int = EARLIER_BYTES,
        max_read: int = MAX_READ,
        max_lines: int = MAX_LINES,
        max_bytes: int = MAX_BYTES,
        max_line_bytes: int = 4096,
    ) -> None:
        self.client = client
        self.tail_bytes = max(1, tail_bytes)
        self.earlier_bytes = max(1, earlier_bytes)
        self.max_read = max(1, max_read)
        self.max_lines = max(1, max_lines)
        self.max_bytes = max(1, max_bytes)
        self.max_line_bytes = max_line_bytes
        self.task_state = task_state
        self.following = True
        self._want_earlier = False
        self._version = 0
        self.file = file
        self._decoder = LineDecoder(max_line_bytes)
        self._lines: deque[Line] = deque()
        self._offsets: deque[int] = deque()  # the raw line each held line came from
        self._start = 0
        self._opened = False
        self._size: int | None = None
        self._modified: datetime | None = None
        self._binary = False
        self._live = True
        self._error: str | None = None
        self._reason: str | None = None
        self._reset = True
        self._appended = self._prepended = self._dropped_top = self._dropped_bottom = 0
        self._cached: tuple[Line, ...] | None = ()

    def __repr__(self) -> str:
        return f"LogTail({self.file.label!r})"

    # ------------------------------------------------------------------ intents

    def follow(self, on: bool) -> None:
        """Stay at the end as lines come (the end key), or not (the operator scrolled up)."""
        self.following = on

    def load_earlier(self) -> None:
        """Read the part before the first line held, at the next poll."""
        self._want_earlier = True

    def set_task_state(self, state: str | None) -> None:
        """The task's (or rank's) state as the screen knows it: following ends once it is
        ``completed`` and the file stopped growing."""
        self.task_state = state

    # ------------------------------------------------------------------ the poller

    def interval(self, base: float) -> float:
        if self._reason in _FINAL or self._binary or not self._live:
            return done_interval(base)
        if self._size is not None and self._size > self._decoder.end and self._fetching():
            return min(base, 0.5)  # catching up with a log that grew by more than one read
        return base

    async def poll(self, reason: str) -> LogSnapshot:
        try:
            if self._want_earlier:
                self._want_earlier = False
                await self._read_earlier()
            else:
                await self._tick()
        except FileUnavailable as exc:
            self._error, self._reason = str(exc), exc.reason
            if exc.reason == "range":
                self._open(self.file)  # the file was cut under us: read its tail afresh
        return self._snapshot()

    # ------------------------------------------------------------------ reading

    def _open(self, file: FileRef) -> None:
        self.file = file
        self._decoder = LineDecoder(self.max_line_bytes)
        self._lines = deque()
        self._offsets = deque()
        self._start = 0
        self._opened = False
        self._size = None
        self._modified = None
        self._binary = False
        self._live = True
        self._error = None
        self._reason = None
        self._reset = True
        self._appended = self._prepended = self._dropped_top = self._dropped_bottom = 0
        self._cached = ()

    def _reopen(self, size: int) -> None:
        modified = self._modified
        self._open(self.file)
        self._size, self._modified = size, modified

    def _fetching(self) -> bool:
        # While the operator reads further up with the buffer full, new lines would push out
        # the very lines they are reading: wait until they come back to the end.
        full = len(self._lines) >= self.max_lines or self._decoder.offset - self._start >= self.max_bytes
        return self.following or not full

    async def _tick(self) -> None:
        props = await self.client.get_file_properties(self.file)
        self._error = self._reason = None
        if props.is_directory:
            self._error, self._reason = "this is a directory, not a file", "directory"
            return
        size = props.content_length
        grew = self._size is not None and size > self._size
        self._size, self._modified = size, props.last_modified
        try:
            await self._read(size)
        finally:
            behind = size > self._decoder.end and not self._binary
            self._live = self.task_state != "completed" or grew or behind

    async def _read(self, size: int) -> None:
        if not self._opened:
            await self._read_tail(size)
        elif size < self._decoder.end:
            self._reopen(size)  # replaced or cut: start again from its tail
            await self._read_tail(size)
        elif size > self._decoder.end and not self._binary:
            if not self._fetching():
                return
            if self.following and size - self._decoder.end > max(self.max_bytes, 4 * self.tail_bytes):
                # Back at the end after a long time away: the tail, not everything between.
                self._reopen(size)
                await self._read_tail(size)
                return
            await self._read_new(min(size, self._decoder.end + self.max_read), size)

    async def _read_from_line(self, first: int, until: int) -> tuple[int, bytes]:
        """Bytes ``[first, until)`` from the first line that starts in them: (its offset, bytes).

        One byte before ``first`` is read too, so a line starting exactly at ``first`` is kept;
        the fragment of a line begun earlier is left for an earlier read. Bytes holding no
        line start at all (one very long line) are kept whole."""
        at = max(0, first - 1)
        chunk = await self.client.read_file_range(self.file, at, until, total=self._size)
        data = chunk.data[: until - at]
        if first == 0:
            return 0, data
        newline = data.find(b"\n")
        if newline < 0 or at + newline + 1 >= until:
            return first, data[first - at :]
        return at + newline + 1, data[newline + 1 :]

    async def _read_tail(self, size: int) -> None:
        self._opened = True
        if size == 0:
            return
        self._start, data = await self._read_from_line(max(0, size - self.tail_bytes), size)
        if looks_binary(data[:8192]):
            self._binary = True
            self._decoder = LineDecoder(self.max_line_bytes, offset=size)
            return
        self._decoder = LineDecoder(self.max_line_bytes, offset=self._start)
        self._append(self._decoder.feed_at(data))

    async def _read_new(self, until: int, size: int) -> None:
        chunk = await self.client.read_file_range(self.file, self._decoder.end, until, total=size)
        if chunk.start == 0 and looks_binary(chunk.data[:8192]):  # it was empty when opened
            self._binary = True
            self._decoder = LineDecoder(self.max_line_bytes, offset=chunk.end)
            return
        self._append(self._decoder.feed_at(chunk.data))

    async def _read_earlier(self) -> None:
        if self._start == 0 or self._binary or not self._opened:
            return
        first, data = await self._read_from_line(max(0, self._start - self.earlier_bytes), self._start)
        decoder = LineDecoder(self.max_line_bytes, offset=first)
        got = decoder.feed_at(data)
        at = decoder.offset
        # Bytes that run on into the first held line (it was opened mid-line): shown as a piece.
        got += [(at, line) for line in decoder.finish()]
        for offset, line in reversed(got):
            self._lines.appendleft(line)
            self._offsets.appendleft(offset)
        self._start = first
        self._prepended += len(got)
        self._cached = None
        self._trim(from_top=False)

    # ------------------------------------------------------------------ the buffer

    def _append(self, got: list[tuple[int, Line]]) -> None:
        for offset, line in got:
            self._lines.append(line)
            self._offsets.append(offset)
        if got:
            self._appended += len(got)
            self._cached = None
        self._trim(from_top=True)

    def _over(self) -> bool:
        held = (self._offsets[-1] if self._offsets else self._start) - self._start
        return len(self._lines) > self.max_lines or held > self.max_bytes

    def _trim(self, *, from_top: bool) -> None:
        """Drop whole raw lines until under both caps: the oldest, or the newest (reading up)."""
        while self._over() and len(self._lines) > 1:
            self._cached = None
            if from_top:
                first = self._offsets[0]
                while self._offsets and self._offsets[0] == first:
                    self._lines.popleft()
                    self._offsets.popleft()
                    self._dropped_top += 1
                self._start = self._offsets[0] if self._offsets else self._decoder.offset
            else:
                last = self._offsets[-1]
                while self._offsets and self._offsets[-1] == last:
                    self._lines.pop()
                    self._offsets.pop()
                    self._dropped_bottom += 1
                # Read on from there again later (the style in force there is not known).
                self._decoder = LineDecoder(self.max_line_bytes, offset=last)
                self.following = False

    def _snapshot(self) -> LogSnapshot:
        if self._cached is None:
            self._cached = tuple(self._lines)
        self._version += 1
        snap = LogSnapshot(
            file=self.file,
            size=self._size,
            last_modified=self._modified,
            following=self.following,
            live=self._live,
            start=self._start,
            end=self._decoder.end,
            lines=self._cached,
            partial=tuple(self._decoder.partial()),
            appended=self._appended,
            prepended=self._prepended,
            dropped_top=self._dropped_top,
            dropped_bottom=self._dropped_bottom,
            reset=self._reset,
            binary=self._binary,
            error=self._error,
            reason=self._reason,
            version=self._version,
        )
        self._reset = False
        self._appended = self._prepended = self._dropped_top = self._dropped_bottom = 0
        return snap
