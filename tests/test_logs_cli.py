"""``batchtui logs`` against the simulator: the exact bytes to a pipe, neutralised to a terminal,
--tail by range from the end, --rank through the node, -f until the task completes, and one-line
errors with exit 1 (refusals) or 2 (usage)."""

from __future__ import annotations

import asyncio
import io
import re

import httpx

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient, RetryPolicy
from batchtui.logs_cli import build_parser, main, run_logs
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.file_tree import rank_run, task_run
from batchtui.sim.files import find, task_files

UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")


def make_sim() -> Simulator:
    return Simulator(SimConfig(seed=1, jobs=40, time_scale=0))


def client_of(sim: Simulator) -> BatchClient:
    return BatchClient(
        "http://127.0.0.1:8765",
        SharedKeyAuth(sim.config.account, sim.config.key),
        transport=httpx.ASGITransport(app=sim),
        retry=RetryPolicy(max_attempts=1),
    )


def truth(sim: Simulator, job: str, task: str, name: str, rank: int = 0) -> bytes:
    """The file as the simulator's world holds it, read without any HTTP."""
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


def run(
    sim: Simulator, argv: list[str], *, terminal: bool = False, client: BatchClient | None = None
) -> tuple[int, bytes, str]:
    out, err = io.BytesIO(), io.StringIO()
    args = build_parser().parse_args(argv)

    calls = 0

    async def advance(seconds: float) -> None:
        nonlocal calls
        calls += 1
        assert calls < 2000, "-f did not end"
        sim.clock.advance(seconds * 300)  # each follow interval is five simulated minutes

    code = asyncio.run(run_logs(client or client_of(sim), args, out, err, terminal=terminal, sleep=advance))
    return code, out.getvalue(), err.getvalue()


def test_a_pipe_gets_the_services_bytes_exactly() -> None:
    sim = make_sim()
    code, out, _ = run(sim, ["etl-nightly-0003", "shard-0015", "--stderr"])
    assert code == 0 and out == truth(sim, "etl-nightly-0003", "shard-0015", "stderr.txt")
    assert out.startswith(b"Traceback (most recent call last):")
    code, out, _ = run(sim, ["etl-nightly-0003", "shard-0015"])
    assert out == truth(sim, "etl-nightly-0003", "shard-0015", "stdout.txt") and b"\x1b[" in out


def test_tail_reads_back_from_the_end_and_never_the_whole_file() -> None:
    sim = make_sim()
    client = client_of(sim)
    code, out, _ = run(
        sim, ["mpi-cfd-0001", "solver-00", "--file", "wd/solver.trace", "--tail", "3"], client=client
    )
    assert code == 0 and out.count(b"\n") == 3 and out.startswith(b"t=")
    assert client.stats.bytes_received < 64 * 1024  # of a file of hundreds of MB
    for n in (0, 1, 7, 5000):
        code, out, _ = run(sim, ["etl-nightly-0003", "shard-0015", "--stderr", "--tail", str(n)])
        lines = truth(sim, "etl-nightly-0003", "shard-0015", "stderr.txt").splitlines(keepends=True)
        assert out == b"".join(lines[-n:] if n else [])


def test_a_rank_is_read_through_its_node() -> None:
    sim = make_sim()
    code, out, _ = run(sim, ["mpi-cfd-0001", "solver-00", "--rank", "5", "--stderr"])
    assert code == 0 and out == truth(sim, "mpi-cfd-0001", "solver-00", "stderr.txt", rank=5)
    assert b"Signal: Segmentation fault (11)" in out
    assert any("/pools/" in r.path and "/nodes/" in r.path for r in sim.requests)
    code, out, _ = run(sim, ["mpi-cfd-0001", "solver-00", "--rank", "0", "--tail", "1"])
    assert (
        code == 0
        and out == truth(sim, "mpi-cfd-0001", "solver-00", "stdout.txt").splitlines(keepends=True)[-1]
    )


def test_a_terminal_gets_colours_and_nothing_else() -> None:
    sim = make_sim()
    raw = truth(sim, "ml-sweep-0005", "trial-0000", "stdout.txt")
    assert b"\x1b]0;" in raw  # the trainer sets the terminal title: must not reach it
    code, out, _ = run(sim, ["ml-sweep-0005", "trial-0000"], terminal=True)
    text = out.decode()
    assert code == 0 and "␛]0;trial" in text and not UNSAFE.search(OUR_SGR.sub("", text))
    assert "\x1b[1m" in text  # bold kept, written by batchtui
    code, out, _ = run(sim, ["ml-sweep-0005", "trial-0000", "--raw"], terminal=True)
    assert out == raw


def test_follow_writes_until_the_task_completes_and_the_file_stops_growing() -> None:
    sim = make_sim()
    before = truth(sim, "render-shot-0000", "frame-0000", "stdout.txt")
    code, out, _ = run(sim, ["render-shot-0000", "frame-0000", "-f"])
    after = truth(sim, "render-shot-0000", "frame-0000", "stdout.txt")
    assert code == 0 and out == after and after.startswith(before) and len(after) > len(before)
    assert b"Blender quit" in out or b"crash" in out or out.endswith(b"\n")


def test_follow_waits_for_a_task_that_has_not_started() -> None:
    sim = make_sim()
    code, out, err = run(sim, ["etl-nightly-0037", "shard-0012", "-f"])  # starts in ~3 minutes
    assert (
        code == 0 and "waiting" in err and out == truth(sim, "etl-nightly-0037", "shard-0012", "stdout.txt")
    )


def test_refusals_are_one_line_and_exit_1_usage_exits_2(capsys: object) -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert main(["--demo", "etl-nightly-0003", "shard-0048"], stdout=out, stderr=err) == 1
    assert err.getvalue().count("\n") == 1 and "has not started" in err.getvalue()
    err = io.StringIO()
    assert main(["--demo", "no-such-job", "t"], stdout=out, stderr=err) == 1
    assert "JobNotFound" in err.getvalue() and err.getvalue().count("\n") == 1
    err = io.StringIO()
    assert main(["--demo", "mpi-cfd-0001", "solver-00", "--rank", "99"], stdout=out, stderr=err) == 1
    assert "no rank 99" in err.getvalue()
    err = io.StringIO()
    assert (
        main(["--demo", "etl-nightly-0003", "shard-0015", "--file", "wd/none.txt"], stdout=out, stderr=err)
        == 1
    )
    assert "FileNotFound" in err.getvalue()
    for bad in (
        ["j"],
        ["j", "t", "--tail", "-1"],
        ["j", "t", "--stderr", "--file", "x"],
        ["j", "t", "--rank", "x"],
    ):
        try:
            code = main(bad, stdout=out, stderr=io.StringIO())
        except SystemExit as exc:
            code = int(exc.code or 0)
        assert code == 2, bad


def test_the_demo_writes_a_completed_tasks_stderr() -> None:
    out = io.BytesIO()
    assert (
        main(["--demo", "etl-nightly-0003", "shard-0015", "--stderr"], stdout=out, stderr=io.StringIO()) == 0
    )
    assert out.getvalue().startswith(b"Traceback (most recent call last):")
