"""The simulated files of tasks and ranks: what each holds at sim time ``t``, read by offset.

Three kinds of content, none of them ever held whole when it is large:

- :class:`Script`: text written at known instants (``file_content`` says what); its size at
  ``t`` is the sum of what was written by then.
- :class:`Records`: a large text file (~1 GB) of fixed-length lines computed from their index,
  growing at a fixed rate while the process runs; any range is computed on demand.
- :class:`Blob`: a binary file (a rendered frame) written at the end, its bytes hashed by block.

A task directory (:func:`task_files`) holds ``stdout.txt``, ``stderr.txt`` and ``wd\\`` with
whatever its kind leaves there. Names use ``\\`` as the world's ``taskRootDirectory`` does
(Windows-style nodes, as in the recordings). Everything is a function of the run's seed.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from batchtui.sim.file_content import Run, Writes, streams

#: Bytes a large trace file grows by per sim second while its process runs (1 GiB an hour).
TRACE_RATE = (1 << 30) / 3600.0
TRACE_MAX = 1_000_000_000  # ~1 GB, a whole number of records
RECORD = 100  # bytes per trace line


class Content(Protocol):
    def size(self, t: float) -> int: ...

    def modified(self, t: float) -> float | None:
        """When it was last written, as of ``t`` (None: not yet)."""
        ...

    def read(self, start: int, end: int, t: float) -> bytes:
        """Bytes ``[start, end)`` as of ``t`` (clamped to the size then)."""
        ...


class Script:
    """Text written at known instants."""

    def __init__(self, writes: Writes, created: float) -> None:
        self.created = created
        self._times = [w[0] for w in writes]
        self._chunks = [w[1] for w in writes]
        self._ends: list[int] = []
        total = 0
        for chunk in self._chunks:
            total += len(chunk)
            self._ends.append(total)

    def _count(self, t: float) -> int:
        return bisect.bisect_right(self._times, t)

    def size(self, t: float) -> int:
        k = self._count(t)
        return self._ends[k - 1] if k else 0

    def modified(self, t: float) -> float | None:
        if t < self.created:
            return None
        k = self._count(t)
        return self._times[k - 1] if k else self.created

    def read(self, start: int, end: int, t: float) -> bytes:
        end = min(end, self.size(t))
        if start >= end:
            return b""
        k = bisect.bisect_right(self._ends, start)  # the chunk holding byte `start`
        out: list[bytes] = []
        pos = self._ends[k - 1] if k else 0
        while pos < end:
            chunk = self._chunks[k]
            out.append(chunk[max(0, start - pos) : end - pos])
            pos += len(chunk)
            k += 1
        return b"".join(out)


class Records:
    """A large trace: line ``k`` is computed from ``k`` alone; it grows at ``rate`` from ``run``."""

    def __init__(
        self, key: int, run: float, end: float, rate: float = TRACE_RATE, cap: int = TRACE_MAX
    ) -> None:
        self.key, self.run, self.end, self.rate = key, run, end, rate
        self.cap = cap // RECORD * RECORD

    def size(self, t: float) -> int:
        written = self.rate * (min(t, self.end) - self.run)
        return max(0, min(self.cap, int(written) // RECORD * RECORD))

    def modified(self, t: float) -> float | None:
        if t < self.run:
            return None
        return min(t, self.end, self.run + self.cap / self.rate)

    def line(self, k: int) -> bytes:
        h = (k * 0x9E3779B97F4A7C15 ^ self.key) & 0xFFFFFFFFFFFF
        text = b"t=%012.3f step=%09d rank=%02d residual=%.6e cfl=0.%02d dt=1.0e-03" % (
            k * 0.001,
            k,
            h % 64,
            (h % 99991) / 1e9,
            (h >> 20) % 100,
        )
        return text.ljust(RECORD - 1) + b"\n"

    def read(self, start: int, end: int, t: float) -> bytes:
        end = min(end, self.size(t))
        if start >= end:
            return b""
        first, last = start // RECORD, (end - 1) // RECORD
        data = b"".join(self.line(k) for k in range(first, last + 1))
        return data[start - first * RECORD : end - first * RECORD]


class Blob:
    """A binary file written at ``at``: a header, then bytes hashed from the block index."""

    BLOCK = 4096

    def __init__(self, key: int, at: float, size: int, header: bytes) -> None:
        self.key, self.at, self.total, self.header = key, at, size, header

    def size(self, t: float) -> int:
        return self.total if t >= self.at else 0

    def modified(self, t: float) -> float | None:
        return self.at if t >= self.at else None

    def _block(self, k: int) -> bytes:
        data = hashlib.shake_128(f"{self.key}:{k}".encode()).digest(self.BLOCK)
        return self.header + data[len(self.header) :] if k == 0 else data

    def read(self, start: int, end: int, t: float) -> bytes:
        end = min(end, self.size(t))
        if start >= end:
            return b""
        first, last = start // self.BLOCK, (end - 1) // self.BLOCK
        data = b"".join(self._block(k) for k in range(first, last + 1))
        return data[start - first * self.BLOCK : end - first * self.BLOCK]


@dataclass(frozen=True, slots=True)
class SimFile:
    name: str  # relative to the task (or rank) root, "\\"-separated
    content: Content | None  # None: a directory
    created: float

    @property
    def is_directory(self) -> bool:
        return self.content is None


_SCRIPTS: OrderedDict[Run, tuple[Script, Script]] = OrderedDict()
_SCRIPT_CACHE = 64  # runs whose stdout/stderr are kept built (a long solver's is ~1 MB)


def scripts(run: Run) -> tuple[Script, Script]:
    """The stdout and stderr of a run, built once and kept for the most recent runs read."""
    cached = _SCRIPTS.get(run)
    if cached is not None:
        _SCRIPTS.move_to_end(run)
        return cached
    out, err = streams(run)
    built = (Script(out, run.run), Script(err, run.run))
    _SCRIPTS[run] = built
    if len(_SCRIPTS) > _SCRIPT_CACHE:
        _SCRIPTS.popitem(last=False)
    return built


def task_files(run: Run) -> list[SimFile]:
    """What a task (or rank) root holds once its process has started, directories included."""
    stdout, stderr = scripts(run)
    files = [
        SimFile("stderr.txt", stderr, run.run),
        SimFile("stdout.txt", stdout, run.run),
        SimFile("wd", None, run.run),
    ]
    if run.outcome in ("blob", "cmd"):
        return files
    if run.kind == "mpi" and run.rank == 0:
        files.append(SimFile("wd\\solver.trace", Records(run.key, run.run, run.end), run.run))
    elif run.kind == "genomics":
        sam = Records(run.key, run.run, run.end, rate=TRACE_RATE / 4)
        files.append(SimFile(f"wd\\{run.topic}_{run.number}.sam", sam, run.run))
    elif run.kind == "render" and run.outcome == "success":
        size = 3_000_000 + run.key % 5_000_000
        blob = Blob(run.key, run.end, size, b"v/1\x01\x02\x00\x00\x00channels\x00")
        files.append(SimFile(f"wd\\{run.topic}_{run.number}.exr", blob, run.end))
    elif run.kind == "ml" and run.outcome == "success":
        metrics = Script(
            [
                (
                    run.end,
                    b"epoch,loss,val_loss\n"
                    + b"".join(
                        b"%d,0.%04d,0.%04d\n" % (e, 9000 - e * 97, 9100 - e * 95) for e in range(1, 21)
                    ),
                )
            ],
            run.run,
        )
        files.append(SimFile("wd\\metrics.csv", metrics, run.run))
    return files


def find(files: list[SimFile], path: str) -> SimFile | None:
    """The file at ``path`` (either separator, any case as Windows nodes have it)."""
    wanted = path.replace("/", "\\").strip("\\").lower()
    for f in files:
        if f.name.lower() == wanted:
            return f
    return None
