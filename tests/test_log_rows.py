"""LogRows (what the log view holds and where each line falls) against a real LogTail: a file
growing by chunks cut anywhere (mid-line, mid-UTF-8, mid-escape), read by a tail with small
caps so that lines are dropped from the top while following and from the bottom while
reading up, earlier parts loaded, wrap and search on. Applying each snapshot as a change
must leave exactly what taking it whole does."""

from __future__ import annotations

import random

from file_support import PlantedFile
from ui_support import make_client, make_sim

from batchtui.batch.files import TaskFileRef
from batchtui.logtext import Line
from batchtui.refresh.logs import LogSnapshot, LogTail
from batchtui.ui.widgets.log_rows import LogRows, line_width

JOB, TASK = "etl-nightly-0014", "shard-0000"
PATH = f"/jobs/{JOB}/tasks/{TASK}/files/stdout.txt"


def content(rng: random.Random, n: int) -> bytes:
    words = ["alpha", "\x1b[31mred\x1b[0m", "ERROR", "wide 表示", "tab\there", "é", "x" * 90, "\x1b]0;t\x07"]
    return b"".join(
        (" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) + "\n").encode() for _ in range(n)
    )


def whole(snap: LogSnapshot) -> LogSnapshot:
    from dataclasses import replace

    return replace(snap, reset=True)


def state(rows: LogRows) -> tuple[object, ...]:
    every = [rows.locate(r) for r in range(rows.row_count + 1)]
    relative = [(n - rows.first, sub) for n, sub in (w for w in every if w is not None)]
    return (
        tuple(rows.lines),
        rows.complete,
        rows.row_count,
        relative,
        [m - rows.first for m in rows.matches],
        [rows.row_of(n) for n in range(rows.first, rows.end)],
    )


async def test_changes_applied_one_by_one_leave_what_the_whole_snapshot_holds() -> None:
    seen = {"dropped_top": 0, "dropped_bottom": 0, "prepended": 0, "partial": 0}
    for seed in range(8):
        await one_run(seed, seen)
    # The runs went through what they are about.
    assert all(seen.values()), seen


async def one_run(seed: int, seen: dict[str, int]) -> None:
    rng = random.Random(seed)
    sim = make_sim()
    data = content(rng, 400)
    front = PlantedFile(sim, PATH, data[: len(data) // 2])
    client = make_client(sim, app=front)
    tail = LogTail(
        client,
        TaskFileRef(JOB, TASK, "stdout.txt"),
        task_state="running",
        tail_bytes=1500,
        earlier_bytes=900,
        max_read=700,
        max_lines=60,
        max_bytes=6000,
        max_line_bytes=48,
    )
    rows = LogRows()
    wrap = (None, 7, 30)[seed % 3]
    rows.set_wrap(wrap)
    rows.search("error")
    for step in range(60):
        action = rng.random()
        if action < 0.5:
            # the file grows by a chunk cut at any byte
            cut = min(len(data), len(front.data) + rng.randint(1, 500))
            front.data = data[:cut]
        elif action < 0.7:
            tail.load_earlier()
        elif action < 0.8:
            tail.follow(rng.random() < 0.5)
        elif action < 0.85:
            wrap = rng.choice([None, 5, 40])
            rows.set_wrap(wrap)
        elif action < 0.9:
            rows.search(rng.choice(["", "red", "ERROR", "表"]))
        snap = await tail.poll("timer")
        shift = rows.apply(snap)
        fresh = LogRows()
        fresh.set_wrap(wrap)
        fresh.search(rows.term)
        fresh.apply(whole(snap))
        assert state(rows) == state(fresh), f"seed {seed}, step {step}"
        assert rows.row_count == sum(
            1 if wrap is None or line_width(line) <= wrap else -(-line_width(line) // wrap)
            for line in rows.lines
        )
        if not shift.whole:
            for key in seen:
                seen[key] += len(snap.partial) if key == "partial" else getattr(snap, key)
    await client.aclose()


def test_a_skipped_snapshot_is_taken_whole_and_numbers_start_again() -> None:
    from batchtui.refresh.logs import LogSnapshot

    def snap(lines: tuple[Line, ...], version: int, appended: int = 0) -> LogSnapshot:
        return LogSnapshot(
            TaskFileRef(JOB, TASK, "stdout.txt"),
            None,
            None,
            True,
            True,
            0,
            0,
            lines,
            (),
            appended,
            0,
            0,
            0,
            version == 1,
            False,
            None,
            None,
            version,
        )

    a = tuple(Line(f"line {k}") for k in range(10))
    b = (*a, Line("more"))
    rows = LogRows()
    assert rows.apply(snap(a, 1)).whole
    shift = rows.apply(snap(b, 2, appended=1))
    assert not shift.whole and shift.appended == 1 and rows.row_count == 11
    c = (*b, Line("and more"), Line("again"))
    assert rows.apply(snap(c, 4, appended=1)).whole  # version 3 never came: deltas unknown
    assert list(rows.lines) == list(c) and rows.first == 0


def test_wrap_rows_search_and_the_next_match_wrapping_round() -> None:
    rows = LogRows()
    lines = (Line("short"), Line("x" * 25), Line("表" * 6), Line("ERROR here"), Line("error again"))
    from batchtui.refresh.logs import LogSnapshot

    rows.apply(
        LogSnapshot(
            TaskFileRef(JOB, TASK, "stdout.txt"),
            None,
            None,
            True,
            True,
            0,
            0,
            lines,
            (),
            0,
            0,
            0,
            0,
            True,
            False,
            None,
            None,
            1,
        )
    )
    rows.set_wrap(10)
    # 1 + 3 (25 cells) + 2 (12 cells: wide characters count twice) + 1 + 2
    assert rows.row_count == 9
    assert [rows.locate(r) for r in (0, 1, 3, 4, 5, 6, 7, 8, 9)] == [
        (0, 0),
        (1, 0),
        (1, 2),
        (2, 0),
        (2, 1),
        (3, 0),
        (4, 0),
        (4, 1),
        None,
    ]
    rows.search("error")  # no capital: either case
    assert rows.matches == [3, 4]
    rows.search("ERROR")  # a capital: exactly that
    assert rows.matches == [3]
    rows.search("e")
    assert rows.next_match(4) == 3 and rows.next_match(0, backwards=True) == 4
