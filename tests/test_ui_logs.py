"""The log screen against the simulator, in-process: ``l`` on a rank and ``o`` show exactly the
simulator's bytes (decoded safely), a running task's log followed as the virtual clock moves
(one HEAD a tick, a ranged GET only when it grew), scrolling up stops following and ``end``
resumes it, hostile bytes never reach the terminal, and the service's refusals in place."""

from __future__ import annotations

from collections import Counter
from typing import Any

from file_support import PlantedFile
from textual.geometry import Region
from ui_support import make_client, make_sim, make_sim_app, step, wait_for

from batchtui.batch.files import NodeFileRef, TaskFileRef
from batchtui.logtext import decode
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator
from batchtui.sim.file_tree import rank_run, task_run
from batchtui.sim.files import find, task_files
from batchtui.ui.app import BatchApp, make_app
from batchtui.ui.screens.jobs import JobsScreen
from batchtui.ui.screens.logs import LogScreen
from batchtui.ui.screens.subtasks import SubtasksScreen
from batchtui.ui.screens.task_detail import TaskDetailScreen
from batchtui.ui.screens.tasks import TasksScreen
from batchtui.ui.widgets.log_view import LogView

SIZE = (120, 40)
MPI_JOB, MPI_TASK = "mpi-cfd-0001", "solver-00"  # seed 7, frozen: rank 4 died of a segfault
FAILED_RANK = 4
RUNNING = ("ml-sweep-0010", "trial-0036")  # a trainer whose stdout grows with the clock
NOT_STARTED = ("etl-nightly-0009", "shard-0090")
DONE = ("etl-nightly-0014", "shard-0000")
#: characters that must never reach the terminal from a file
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\r", "\x00", "\x7f", "\x08")


def truth(sim: Simulator, job: str, task: str, name: str, rank: int = 0) -> bytes:
    """The file as the simulator's world holds it now, read without any HTTP."""
    w, t = sim.world, sim.clock.seconds()
    plan = w.find_job(job, t)
    assert plan is not None
    spec = w.find_task(plan, task, t)
    assert spec is not None
    run = rank_run(w, plan, spec, rank, t) if rank else task_run(w, plan, spec, t)
    assert run is not None
    f = find(task_files(run), name)
    assert f is not None and f.content is not None
    return f.content.read(0, f.content.size(t), t)


def painted(widget: Any) -> list[str]:
    """The text of every row the widget paints now."""
    width, height = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


def segments(widget: Any) -> list[tuple[str, Any]]:
    width, height = widget.size
    return [(s.text, s.style) for strip in widget.render_lines(Region(0, 0, width, height)) for s in strip]


async def to_tasks(pilot: Any, app: BatchApp, job: str) -> TasksScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen) and app.screen.table.total_count > 0)
    assert app.screen.table.select_key(job)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen) and bool(app.screen.tasks))
    screen = app.screen
    assert isinstance(screen, TasksScreen)
    return screen


async def opened(pilot: Any, app: BatchApp) -> LogScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, LogScreen) and app.screen.snapshot is not None)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, LogScreen)
    return screen


async def task_log(pilot: Any, app: BatchApp, job: str, task: str) -> LogScreen:
    tasks = await to_tasks(pilot, app, job)
    assert tasks.table.select_key(task)
    await pilot.pause()
    await pilot.press("l")
    return await opened(pilot, app)


async def rank_log(pilot: Any, app: BatchApp, job: str, task: str, rank: int) -> LogScreen:
    tasks = await to_tasks(pilot, app, job)
    assert tasks.table.select_key(task)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, SubtasksScreen) and app.screen.mpi_task is not None)
    assert app.screen.table.select_key(str(rank))
    await pilot.pause()
    await pilot.press("l")
    return await opened(pilot, app)


def texts(screen: LogScreen) -> list[str]:
    return [line.text for line in screen.view.rows.lines]


def header(screen: LogScreen) -> str:
    return str(screen.query_one("#log-header").render())


# --------------------------------------------------------------------------- l and o


async def test_l_on_the_failed_rank_then_o_shows_exactly_the_simulators_bytes_through_its_node() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await rank_log(pilot, app, MPI_JOB, MPI_TASK, FAILED_RANK)
        ref = screen.file
        assert isinstance(ref, NodeFileRef) and ref.rank == FAILED_RANK and ref.path.endswith("stdout.txt")
        stdout = truth(sim, MPI_JOB, MPI_TASK, "stdout.txt", FAILED_RANK)
        assert texts(screen) == [line.text for line in decode(stdout)] and texts(screen)
        assert f"rank {FAILED_RANK} · node {ref.node_id}" in header(screen)
        assert "/nodes/" in sim.requests[-1].path  # a rank's file is read through its node

        await pilot.press("o")
        screen = await opened(pilot, app)
        assert screen.file == ref.sibling("stderr.txt")
        stderr = truth(sim, MPI_JOB, MPI_TASK, "stderr.txt", FAILED_RANK)
        assert texts(screen) == [line.text for line in decode(stderr)]
        rows = painted(screen.view)
        width = screen.view.scrollable_content_region.width
        assert [r[:width] for r in rows[: len(texts(screen))]] == [
            t[:width].ljust(width) for t in texts(screen)
        ]
        assert any("Signal: Segmentation fault (11)" in row for row in rows)
        assert header(screen).startswith("stderr.txt") and "■ complete" in header(screen)
        assert screen.crumbs()[-2:] == (f"rank {FAILED_RANK}", "stderr.txt")

        await pilot.press("o")
        screen = await opened(pilot, app)
        assert screen.file == ref and texts(screen) == [line.text for line in decode(stdout)]
        await pilot.press("q")
        assert isinstance(app.screen, SubtasksScreen)


async def test_l_on_the_primary_reads_it_through_the_task_and_from_the_task_details_too() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await rank_log(pilot, app, MPI_JOB, MPI_TASK, 0)
        assert screen.file == TaskFileRef(MPI_JOB, MPI_TASK, "stdout.txt")
        assert texts(screen) == [line.text for line in decode(truth(sim, MPI_JOB, MPI_TASK, "stdout.txt"))]
        assert "rank 0 (primary)" in header(screen)
        await pilot.press("q")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TasksScreen))
        # d: the task's details; l there opens the same log over them, q comes back to them
        job, task = DONE
        await pilot.press("escape")
        tasks = await to_tasks(pilot, app, job)
        assert tasks.table.select_key(task)
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TaskDetailScreen))
        await pilot.press("l")
        screen = await opened(pilot, app)
        assert screen.file == TaskFileRef(job, task, "stdout.txt")
        assert texts(screen) == [line.text for line in decode(truth(sim, job, task, "stdout.txt"))]
        await pilot.press("q")
        assert isinstance(app.screen, TaskDetailScreen)


# --------------------------------------------------------------------------- following


async def test_a_running_tasks_log_is_followed_as_the_clock_moves_and_scrolling_up_stops_it() -> None:
    sim = make_sim()
    timer = ManualTimer()
    app = make_app(make_client(sim), refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        job, task = RUNNING
        screen = await task_log(pilot, app, job, task)
        view = screen.view
        await step(pilot, app, timer, 0)
        assert texts(screen) == [line.text for line in decode(truth(sim, job, task, "stdout.txt"))]
        assert view.following and "● following" in header(screen)

        # The file grows on the virtual clock: each tick reads only what is new.
        lines, grown = len(texts(screen)), 0
        for _ in range(10):
            sim.clock.advance(30)  # (it completes some 11 simulated minutes in)
            sim.requests.clear()
            await step(pilot, app, timer, 5.0)
            await pilot.pause()
            files = Counter(r.method for r in sim.requests if "/files/" in r.path)
            grown += files["GET"]
            assert files["HEAD"] == 1 and files["GET"] <= 1
        data = truth(sim, job, task, "stdout.txt")
        assert texts(screen) == [line.text for line in decode(data)][-len(texts(screen)) :]
        assert len(texts(screen)) > lines and grown >= 5
        assert screen.snapshot is not None and screen.snapshot.end == len(data)
        assert view.scroll_y == view.max_scroll_y > 0  # at the end, as it grew

        # Scrolling up stops following: new lines come but the view stays where it is.
        await pilot.press("pageup")
        assert not view.following and screen.tail is not None and not screen.tail.following
        assert "‖ paused" in header(screen)
        top = view.scroll_y
        before = len(texts(screen))
        sim.clock.advance(60)
        await step(pilot, app, timer, 5.0)
        await pilot.pause()
        assert len(texts(screen)) > before and view.scroll_y == top < view.max_scroll_y

        # end: back at the end, following again.
        await pilot.press("end")
        assert view.following and screen.tail.following and view.scroll_y == view.max_scroll_y
        sim.clock.advance(30)
        await step(pilot, app, timer, 5.0)
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y and "● following" in header(screen)


async def test_following_ends_once_the_task_has_completed_and_its_file_stopped_growing() -> None:
    sim = make_sim()
    timer = ManualTimer()
    app = make_app(make_client(sim), refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        job, task = RUNNING
        screen = await task_log(pilot, app, job, task)
        for _ in range(200):
            sim.clock.advance(600)
            await step(pilot, app, timer, 5.0)
            if screen.task_state == "completed" and screen.snapshot and not screen.snapshot.live:
                break
        await pilot.pause()
        assert screen.snapshot is not None and not screen.snapshot.live
        assert "■ complete" in header(screen)
        assert (
            texts(screen)[-len(decode(truth(sim, job, task, "stdout.txt"))) :]
            == [line.text for line in decode(truth(sim, job, task, "stdout.txt"))][-len(texts(screen)) :]
        )
        # Done: read slowly from now on (not every tick).
        assert screen.handle is not None and screen.handle.pace.interval > 5.0


# --------------------------------------------------------------------------- hostile bytes

HOSTILE = (
    b"\x1b]0;owned\x07title\n"
    b"\x1b]52;c;ZXZpbA==\x07clipboard\n"
    b"\x1b[2J\x1b[Hcleared\x1b[5A up\n"
    b"ring\x07\x07 bell\n"
    + "\u202eevil\u2066 bidi\n".encode()
    + b"\x9b31m eight-bit CSI, \xff\xfe invalid\x00NUL\x7f\x08\n"
    b"progress 10%\rprogress 100%\n"
    b"\x1b[1;31mred and bold\x1b[0m then plain\n"
)


async def test_hostile_bytes_never_reach_the_terminal_and_colours_stay_colours() -> None:
    sim = make_sim()
    job, task = DONE
    front = PlantedFile(sim, f"/jobs/{job}/tasks/{task}/files/stdout.txt", HOSTILE)
    app, _ = make_sim_app(sim)
    app = make_app(make_client(sim, app=front), refresh=3600.0, now=sim.clock.now, monotonic=app.monotonic)
    async with app.run_test(size=SIZE) as pilot:
        screen = await task_log(pilot, app, job, task)
        shown = painted(screen.view)
        for text, _style in segments(screen.view) + segments(screen.query_one("#log-header")):
            assert not any(c in text for c in RAW), text
        assert shown[0].startswith("␛]0;owned␇title")
        assert shown[1].startswith("␛]52;c;ZXZpbA==␇clipboard")
        assert shown[2].startswith("␛[2J␛[Hcleared␛[5A up")
        assert shown[3].startswith("ring␇␇ bell")
        assert shown[4].startswith("\\u202eevil\\u2066 bidi")
        assert "\ufffd" in shown[5] and "␀NUL␡␈" in shown[5]
        assert shown[6].startswith("progress 10%") and shown[7].startswith("progress 100%")
        red = [(t, s) for t, s in segments(screen.view) if t == "red and bold"]
        assert red and red[0][1].bold and red[0][1].color is not None
        assert shown[8].startswith("red and bold then plain")
        svg = app.export_screenshot().replace("&#160;", " ")
        assert not [c for c in RAW if c in svg]
        # Searching and wrapping do not bring anything back either.
        await pilot.press("slash", *"owned", "enter", "w")
        await pilot.pause()
        for text, _style in segments(screen.view):
            assert not any(c in text for c in RAW), text


# --------------------------------------------------------------------------- refusals in place


async def test_a_task_not_started_says_so_in_place_and_its_lines_come_once_it_runs() -> None:
    sim = make_sim()
    timer = ManualTimer()
    app = make_app(make_client(sim), refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        job, task = NOT_STARTED
        screen = await task_log(pilot, app, job, task)
        snap = screen.snapshot
        assert snap is not None and snap.reason == "not-started" and not snap.lines
        error = str(screen.query_one("#log-error").render())
        assert screen.has_class("-refused") and "has not started" in error
        assert error.startswith("⚠ ") and "its files appear once it runs" in error
        for _ in range(100):
            sim.clock.advance(120)
            await step(pilot, app, timer, 5.0)
            if screen.snapshot is not None and screen.snapshot.lines:
                break
        await pilot.pause()
        assert screen.snapshot is not None and screen.snapshot.error is None
        assert not screen.has_class("-refused") and texts(screen)


async def test_a_refusal_after_lines_were_read_keeps_them_and_says_what_to_do() -> None:
    sim = make_sim()
    timer = ManualTimer()
    app = make_app(make_client(sim), refresh=5.0, now=sim.clock.now, timer=timer)
    async with app.run_test(size=SIZE) as pilot:
        job, task = DONE
        screen = await task_log(pilot, app, job, task)
        before = texts(screen)
        assert before
        sim.clock.advance(8 * 24 * 3600)  # past the task's retention time: the files are gone
        for _ in range(20):
            await step(pilot, app, timer, 60.0)
            if screen.snapshot is not None and screen.snapshot.error:
                break
        await pilot.pause()
        assert screen.snapshot is not None and screen.snapshot.reason == "cleaned-up"
        error = str(screen.query_one("#log-error").render())
        assert "outputFiles" in error and "the lines read before are kept below" in error
        assert texts(screen) == before and painted(screen.view)[0].rstrip() == before[0][:118].rstrip()


# --------------------------------------------------------------------------- keys of the view


async def test_the_file_list_opens_another_file_and_search_wrap_and_top_work_on_it() -> None:
    app, sim = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await rank_log(pilot, app, MPI_JOB, MPI_TASK, 0)
        await pilot.press("f")
        from batchtui.ui.screens.file_list import FileListScreen

        await wait_for(pilot, lambda: isinstance(app.screen, FileListScreen) and bool(app.screen.entries))
        picker = app.screen
        assert isinstance(picker, FileListScreen)
        names = list(picker.entries)
        assert {"stdout.txt", "stderr.txt", "wd\\solver.trace"} <= set(names)
        assert picker.query_one("KeyedTable").select_key("wd\\solver.trace")  # type: ignore[attr-defined]
        await pilot.pause()
        await pilot.press("enter")
        screen = await opened(pilot, app)
        assert screen.file == TaskFileRef(MPI_JOB, MPI_TASK, "wd\\solver.trace")
        snap = screen.snapshot
        assert snap is not None and not snap.at_top and snap.size is not None and snap.size > 1_000_000
        view = screen.view
        assert view.following and view.scroll_y == view.max_scroll_y

        # /: found and highlighted; n and N move between the lines holding it.
        await pilot.press("slash", *"e-06", "enter")
        rows = view.rows
        assert rows.matches and view.current in rows.matches
        # Opened at the end, the search went to the latest line holding it.
        first = view.current
        assert first == rows.matches[-1] and f"{len(rows.matches)} of {len(rows.matches)}" in header(screen)
        await pilot.press("N")
        assert view.current == rows.matches[-2]
        await pilot.press("n")
        assert view.current == first
        await pilot.press("escape")
        assert not view.rows.term and not view.rows.matches

        # w wraps long lines (every row then fits the width); again, one row per line.
        await pilot.press("w")
        await pilot.pause()
        assert view.wrap and view.virtual_size.width == view.scrollable_content_region.width
        await pilot.press("w")
        assert not view.wrap

        # g: the top of what is loaded, which asks for the part before it, by range.
        start = snap.start
        sim.requests.clear()
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.snapshot is not None and screen.snapshot.start < start)
        assert any(r.method == "GET" and "/files/" in r.path for r in sim.requests)
        assert not view.following
        # G: the bottom again, following.
        await pilot.press("G")
        assert view.following and view.scroll_y == view.max_scroll_y


async def test_help_lists_the_log_keys_and_the_tasks_screens_l() -> None:
    from batchtui.ui.screens.help import help_entries

    app, _ = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        tasks = await to_tasks(pilot, app, MPI_JOB)
        assert any(keys == "l" for keys, _ in help_entries(tasks))
        await pilot.press("l")
        screen = await opened(pilot, app)
        keys = {k for k, _ in help_entries(screen)}
        assert {"o", "f", "/", "n", "N", "w", "g", "end"} <= {part for k in keys for part in k.split()}
        assert isinstance(screen.query_one(LogView), LogView)
