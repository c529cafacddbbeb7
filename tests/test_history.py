"""Counts history (issue 16): bounded and downsampled, kept across restarts, and what it tells
(throughput, ETA, stalled, sparklines)."""

from __future__ import annotations

import json
from pathlib import Path

from batchtui.batch.models import TaskCounts
from batchtui.refresh.history import HistoryStore, JobHistory, Sample, trend


def counts(active: int, running: int, succeeded: int, failed: int = 0) -> TaskCounts:
    return TaskCounts(active, running, succeeded + failed, succeeded, failed)


def test_a_day_of_samples_every_five_seconds_is_kept_in_about_two_hundred() -> None:
    store = HistoryStore()
    t0 = 1_800_000_000.0
    for k in range(0, 2 * 86400, 5):  # two days of a 5 s refresh
        store.record("job-1", t0 + k, counts(100, 10, k // 60))
    h = store.get("job-1")
    assert h is not None
    assert len(h.samples) <= 60 + 144 + 2
    now = t0 + 2 * 86400 - 5
    assert h.samples[-1].at == now
    assert h.samples[0].at >= now - 86400 - 3600 - 600  # nothing older than a day and an hour
    recent = h.since(now - 3600)
    assert 59 <= len(recent) <= 61  # one a minute in the last hour


def test_the_store_keeps_the_most_recently_updated_jobs() -> None:
    store = HistoryStore(max_jobs=3)
    for k, job in enumerate(["a", "b", "c", "a", "d"]):
        store.record(job, 1000.0 + k, counts(1, 0, 0))
    assert list(store.jobs) == ["c", "a", "d"]


def test_it_survives_a_restart_and_a_broken_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "state" / "history-demo.json"
    store = HistoryStore()
    store.record("job-1", 1000.0, counts(5, 1, 2))
    store.record("job-1", 1100.0, counts(4, 1, 3, 1))
    store.save(path)
    again = HistoryStore.load(path)
    assert [s.row() for s in again.jobs["job-1"].samples] == [s.row() for s in store.jobs["job-1"].samples]
    path.write_text("{not json")
    assert HistoryStore.load(path).jobs == {}
    path.write_text(json.dumps({"version": 1, "jobs": {"j": [[1, 2, "x", 4, 5, 6], [1, 2, 3, 4, 5, 6]]}}))
    assert [s.row() for s in HistoryStore.load(path).jobs["j"].samples] == [[1, 2, 3, 4, 5, 6]]
    assert HistoryStore.load(tmp_path / "none.json").jobs == {}


def test_throughput_eta_and_a_stall() -> None:
    h = JobHistory()
    now = 10_000.0
    for k in range(11):  # ten minutes, 6 completions a minute
        h.add(Sample.of(now - 600 + 60 * k, counts(60 - 6 * k, 5, 6 * k)))
    t = trend(h, counts(0, 5, 60), now)
    assert t.per_minute == 6.0 and t.eta_seconds == 50.0 and not t.stalled
    assert sum(t.completions) == 60 and len(t.completions) == 30
    # Nothing completes for 20 minutes while tasks wait: stalled.
    for k in range(1, 21):
        h.add(Sample.of(now + 60 * k, counts(10, 0, 60)))
    t = trend(h, counts(10, 0, 60), now + 1200)
    assert t.stalled and t.per_minute == 0.0 and t.eta_seconds is None
    # A job with nothing waiting is never stalled.
    assert not trend(h, counts(0, 0, 60), now + 1200).stalled


def test_a_file_with_infinite_times_or_a_huge_one_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('{"version": 1, "jobs": {"j": [[1e400, 1, 2, 3, 4, 5], [60, 1, 2, 3, 3, 0]]}}')
    assert [s.row() for s in HistoryStore.load(path).jobs["j"].samples] == [[60, 1, 2, 3, 3, 0]]
    path.write_text('{"version": 1, "jobs": {"j": [[NaN, 1, 2, 3, 4, 5]]}}')
    assert HistoryStore.load(path).jobs == {}
    path.write_bytes(b" " * (17 * 1024 * 1024))  # past the cap: not even parsed
    assert HistoryStore.load(path).jobs == {}


def test_saving_drops_what_is_over_a_day_old_and_failures_in_the_last_hour(tmp_path: Path) -> None:
    store = HistoryStore()
    now = 2_000_000_000.0
    store.record("old", now - 2 * 86400, counts(1, 0, 0, 4))  # not read for two days
    for k in range(0, 7200, 60):
        store.record("busy", now - 7200 + k, counts(100, 5, k // 60, k // 600))
    assert store.failed_since(now - 3600) == 11 - 6  # 6 had failed an hour ago, 11 now
    store.save(tmp_path / "h.json", now=now)
    again = HistoryStore.load(tmp_path / "h.json")
    assert list(again.jobs) == ["busy"] and again.failed_since(now - 3600) == 5
    # A job whose history starts within the hour counts from its first sample.
    store.record("new", now - 600, counts(5, 0, 0, 2))
    store.record("new", now - 60, counts(5, 0, 0, 5))
    assert store.jobs["new"].failed_since(now - 3600) == 3
