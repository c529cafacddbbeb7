"""Each job's task counts over time: a bounded, downsampled ring, kept across restarts.

Samples come from the counts the dashboard reads anyway (no request of its own). A job keeps
one sample a minute for the last hour and one every ten minutes for the day before that, so a
job holds at most 60 + 144 samples however long batchtui runs; the store keeps at most
``max_jobs`` jobs (the least recently updated go first). It is saved to the user state
directory as one small JSON file, written atomically; a file that does not load is ignored
(the trend starts afresh) rather than stopping the dashboard.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from batchtui.batch.models import TaskCounts
from batchtui.refresh.statefile import load_json, save_json

FINE_STEP = 60.0  # seconds between kept samples in the last hour
FINE_SPAN = 3600.0
COARSE_STEP = 600.0  # ... and in the day before it
COARSE_SPAN = 86400.0
MAX_JOBS = 2000
FILE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds since the epoch, on the data clock
    active: int
    running: int
    completed: int
    succeeded: int
    failed: int

    @classmethod
    def of(cls, at: float, c: TaskCounts) -> Sample:
        return cls(at, c.active, c.running, c.completed, c.succeeded, c.failed)

    def row(self) -> list[float]:
        return [round(self.at, 3), self.active, self.running, self.completed, self.succeeded, self.failed]


class JobHistory:
    """One job's samples, oldest first, downsampled as they age."""

    def __init__(self, samples: Iterable[Sample] = ()) -> None:
        self.samples: list[Sample] = sorted(samples, key=lambda s: s.at)

    def add(self, sample: Sample) -> None:
        if self.samples and sample.at < self.samples[-1].at:
            return  # the clock went back (a restart with another clock): keep what we have
        last = self.samples[-1] if self.samples else None
        if last is not None and int(last.at // FINE_STEP) == int(sample.at // FINE_STEP):
            self.samples[-1] = sample  # the same minute: the latest reading wins
            return
        self.samples.append(sample)
        self._compact(sample.at)  # once a minute of data at most: older samples move down a tier

    @staticmethod
    def _bucket(at: float, now: float) -> tuple[int, int]:
        age = now - at
        step = FINE_STEP if age < FINE_SPAN else COARSE_STEP
        return (0 if step == FINE_STEP else 1, int(at // step))

    def _compact(self, now: float) -> None:
        kept: list[Sample] = []
        for s in self.samples:
            if now - s.at > FINE_SPAN + COARSE_SPAN:
                continue
            if kept and self._bucket(kept[-1].at, now) == self._bucket(s.at, now):
                kept[-1] = s
            else:
                kept.append(s)
        self.samples = kept

    def since(self, at: float) -> list[Sample]:
        return [s for s in self.samples if s.at >= at]

    def prune(self, now: float) -> None:
        """Drop what is older than the day kept (a job no longer read keeps its last samples
        otherwise: nothing compacts a history that gets no new sample)."""
        self.samples = [s for s in self.samples if now - s.at <= FINE_SPAN + COARSE_SPAN]

    def failed_since(self, at: float) -> int:
        """How many tasks failed from ``at`` on (by the samples: since the first one after
        ``at`` when the history starts later)."""
        if not self.samples or self.samples[-1].at < at:
            return 0
        base = _at_or_before(self.samples, at) if self.samples[0].at <= at else self.samples[0]
        return max(self.samples[-1].failed - base.failed, 0)


class HistoryStore:
    """Every job's history for one account."""

    def __init__(self, max_jobs: int = MAX_JOBS) -> None:
        self.max_jobs = max_jobs
        self.jobs: dict[str, JobHistory] = {}

    def record(self, job_id: str, at: float, counts: TaskCounts) -> JobHistory:
        history = self.jobs.pop(job_id, None) or JobHistory()
        history.add(Sample.of(at, counts))
        self.jobs[job_id] = history  # most recently updated last
        while len(self.jobs) > self.max_jobs:
            del self.jobs[next(iter(self.jobs))]
        return history

    def get(self, job_id: str) -> JobHistory | None:
        return self.jobs.get(job_id)

    # ------------------------------------------------------------------ the file

    def failed_since(self, at: float) -> int:
        """Tasks failed from ``at`` on, over every job (the accounts overview's last hour)."""
        return sum(h.failed_since(at) for h in self.jobs.values())

    def save(self, path: Path, now: float | None = None) -> None:
        """Write the store atomically (OSError if it cannot); ``now`` drops what is over a day old."""
        if now is not None:
            for job_id in list(self.jobs):
                self.jobs[job_id].prune(now)
                if not self.jobs[job_id].samples:
                    del self.jobs[job_id]
        doc = {
            "version": FILE_VERSION,
            "jobs": {k: [s.row() for s in h.samples] for k, h in self.jobs.items()},
        }
        save_json(path, doc)

    @classmethod
    def load(cls, path: Path, max_jobs: int = MAX_JOBS) -> HistoryStore:
        store = cls(max_jobs)
        doc = load_json(path)  # None: none yet, or unreadable: the trend starts afresh
        if (
            not isinstance(doc, dict)
            or doc.get("version") != FILE_VERSION
            or not isinstance(doc.get("jobs"), dict)
        ):
            return store
        for job_id, rows in list(doc["jobs"].items())[-max_jobs:]:
            if not (isinstance(job_id, str) and isinstance(rows, list)):
                continue
            samples = [s for s in (_sample(r) for r in rows[: 4 * (60 + 144)]) if s is not None]
            if samples:
                store.jobs[job_id] = JobHistory(samples)
        return store


def _sample(row: object) -> Sample | None:
    if not (isinstance(row, list) and len(row) == 6):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in row):
        return None  # 1e400 reads as infinity: a time no bucket arithmetic survives
    at, *counts = row
    return Sample(float(at), *(max(0, int(v)) for v in counts))


# ---------------------------------------------------------------------- what it tells


@dataclass(frozen=True)
class Trend:
    per_minute: float | None  # tasks completed a minute, over the recent window
    eta_seconds: float | None  # time to finish the rest at that rate
    stalled: bool  # tasks wait, none completed over the stall window
    completions: tuple[int, ...]  # per bucket, oldest first (for a sparkline)
    failures: tuple[int, ...]
    bucket: float = 60.0  # seconds per sparkline bucket


def trend(
    history: JobHistory | None,
    counts: TaskCounts | None,
    now: float,
    *,
    window: float = 600.0,
    stall_after: float = 900.0,
    buckets: int = 30,
    bucket: float = 60.0,
) -> Trend:
    samples = history.samples if history else []
    recent = [s for s in samples if s.at >= now - window]
    per_minute: float | None = None
    if len(recent) >= 2 and recent[-1].at > recent[0].at:
        done = max(recent[-1].completed - recent[0].completed, 0)
        per_minute = done * 60.0 / (recent[-1].at - recent[0].at)
    eta: float | None = None
    if counts is not None and per_minute:
        remaining = counts.active + counts.running
        eta = remaining / per_minute * 60.0 if remaining else 0.0
    stalled = False
    if counts is not None and counts.active > 0 and samples:
        spanned = [s for s in samples if s.at >= now - stall_after]
        covers = samples[0].at <= now - stall_after
        if (
            covers
            and spanned
            and spanned[-1].completed == _at_or_before(samples, now - stall_after).completed
        ):
            stalled = True
    return Trend(per_minute, eta, stalled, *_sparks(samples, now, buckets, bucket), bucket=bucket)


def _at_or_before(samples: Sequence[Sample], at: float) -> Sample:
    best = samples[0]
    for s in samples:
        if s.at <= at:
            best = s
    return best


def _sparks(
    samples: Sequence[Sample], now: float, buckets: int, bucket: float
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Completions and failures per bucket over the last ``buckets * bucket`` seconds."""
    done = [0] * buckets
    failed = [0] * buckets
    start = now - buckets * bucket
    for before, after in zip(samples, samples[1:], strict=False):
        if after.at < start:
            continue
        k = min(buckets - 1, max(0, int((after.at - start) // bucket)))
        done[k] += max(after.completed - before.completed, 0)
        failed[k] += max(after.failed - before.failed, 0)
    return tuple(done), tuple(failed)
