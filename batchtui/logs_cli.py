"""``batchtui logs JOB TASK``: a task's (or a rank's) stdout, stderr or any file, on the command line.
``batchtui logs --node POOL NODE``: a node's start task output (``startup/stdout.txt``), or any
file of the node with ``--file`` (relative to the node's root), followed while the start task runs.

Without ``--tail`` the whole file is streamed by ranges of at most 1 MiB (memory stays bounded
whatever its size). ``--tail N`` reads back from the end, range by range, until it has N lines
(never the whole file). ``-f`` then follows: a HEAD each interval, a ranged GET only of what is
new, until the task has completed and the file stopped growing (exit 0).

To a pipe or a file the service's bytes are written exactly. To a terminal every escape
sequence and control character is neutralised (SGR colours are kept, written by batchtui
itself), unless ``--raw``. Refusals are one line and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TextIO

from batchtui.batch.errors import BatchClientError, ConfigError
from batchtui.batch.files import (
    FileRef,
    FileUnavailable,
    NodeFileRef,
    TaskFileRef,
    rank_file,
    start_task_file,
)
from batchtui.cli_account import (
    EXIT_FAILURE,
    EXIT_USAGE,
    UsageError,
    _make_client,
    _Parser,
    _setup_log,
    add_account_arguments,
)
from batchtui.cli_args import seconds, whole
from batchtui.logtext import LineDecoder, to_ansi

if TYPE_CHECKING:
    from batchtui.batch.client import BatchClient
    from batchtui.batch.task_models import Subtask

#: Bytes per ranged GET while streaming a whole file or following one.
CHUNK = 1024 * 1024
#: --tail reads back from the end in pieces growing to this size...
TAIL_STEP = 256 * 1024
#: ...and stops there even without N lines (one enormous line must not mean the whole file).
TAIL_LIMIT = 64 * 1024 * 1024
FOLLOW_INTERVAL = 2.0
_seconds = seconds("--refresh", 0, 3600, above=True, below=True)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="batchtui logs",
        description="Write a task's stdout (or stderr, or any file of its directory) to standard output.",
        epilog="Examples: batchtui logs mpi-cfd-0001 solver-00 --rank 5 --stderr --tail 40; "
        "batchtui logs --node pool-hpc-a tvm-1234_4-20260101t000000z --stderr",
    )
    p.add_argument("job", metavar="JOB", help="job id (with --node: the pool id)")
    p.add_argument("task", metavar="TASK", help="task id (with --node: the node id)")
    p.add_argument(
        "--node",
        action="store_true",
        help="read a node's own files: JOB TASK are POOL NODE, and the file is its start task's "
        "stdout (startup/stdout.txt); -f follows until the start task has completed",
    )
    p.add_argument(
        "--rank",
        type=whole("--rank", 0),
        metavar="N",
        help="rank N of a multi-instance task, read through its node (0 is the primary)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--stderr", action="store_true", help="stderr.txt instead of stdout.txt")
    which.add_argument(
        "--file",
        metavar="PATH",
        help="another file, relative to the task's directory (e.g. wd/out.log); with --node, to the node's root",
    )
    p.add_argument("--tail", type=whole("--tail", 0), metavar="N", help="only the last N lines")
    p.add_argument(
        "-f", "--follow", action="store_true", help="keep writing as the file grows, until the task completes"
    )
    p.add_argument("--raw", action="store_true", help="write the bytes as they are, even to a terminal")
    p.add_argument(
        "--refresh", type=_seconds, default=FOLLOW_INTERVAL, metavar="SECONDS", help="with -f (default 2)"
    )
    p.add_argument("--log", metavar="FILE", help="write a diagnostic log (requests, retries, errors)")
    add_account_arguments(p)
    p.set_defaults(concurrency=4, readonly=True)  # it only reads: a client that can do nothing else
    return p


# --------------------------------------------------------------------------- where the file is


@dataclass(frozen=True)
class Target:
    file: FileRef
    state: Callable[[], Awaitable[str | None]]  # the task's (or rank's) state, read afresh


async def resolve(client: BatchClient, args: argparse.Namespace) -> Target:
    if args.node:
        return _node_target(client, args)
    name = "stderr.txt" if args.stderr else (args.file or "stdout.txt")
    job, task = args.job, args.task
    if not args.rank:
        # The primary (rank 0) through the task-files API: nodeInfo refers to it (NEXT-APIS §2b).
        async def task_state() -> str | None:
            return (await client.get_task(job, task, select=["id", "state"])).state

        return Target(TaskFileRef(job, task, name), task_state)
    rank = args.rank

    async def rank_state() -> str | None:
        subtask = await _subtask(client, job, task, rank)
        return subtask.state

    subtask = await _subtask(client, job, task, rank)
    return Target(rank_file(subtask.node_info, name, rank), rank_state)


def _node_target(client: BatchClient, args: argparse.Namespace) -> Target:
    pool, node = args.job, args.task
    if args.rank is not None:
        raise UsageError("--rank reads a rank of a task; --node reads a node's own files: give one of them")
    if args.file:
        ref = NodeFileRef(pool, node, args.file.lstrip("/\\"))
    else:
        ref = start_task_file(pool, node, "stderr.txt" if args.stderr else "stdout.txt")

    async def start_task_state() -> str | None:
        info = (await client.get_node(pool, node, select=["id", "state", "startTaskInfo"])).start_task_info
        return info.state if info is not None else None

    return Target(ref, start_task_state)


async def _subtask(client: BatchClient, job: str, task: str, rank: int) -> Subtask:
    subtasks = await client.list_subtasks(job, task)
    for sub in subtasks:
        if sub.id == rank:
            return sub
    if not subtasks:
        raise BatchClientError(f"task {task} has no ranks yet (not a multi-instance task, or not started)")
    ids = sorted(s.id for s in subtasks if s.id is not None)
    raise BatchClientError(f"task {task} has no rank {rank} (its ranks are 0 and {ids[0]}..{ids[-1]})")


# --------------------------------------------------------------------------- writing


class Sink:
    """Where the bytes go: exactly as they are, or made safe for a terminal."""

    def __init__(self, out: BinaryIO, *, safe: bool) -> None:
        self.out = out
        self.decoder = LineDecoder() if safe else None

    def write(self, data: bytes) -> None:
        if self.decoder is None:
            self.out.write(data)
        else:
            lines = self.decoder.feed(data)
            self.out.write("".join(to_ansi(line) + "\n" for line in lines).encode("utf-8"))
        self.out.flush()

    def close(self) -> None:
        if self.decoder is not None:
            lines = self.decoder.finish()
            self.out.write("".join(to_ansi(line) + "\n" for line in lines).encode("utf-8"))
        self.out.flush()


async def copy(client: BatchClient, ref: FileRef, start: int, end: int, sink: Sink) -> None:
    """Bytes ``[start, end)`` to the sink, one bounded ranged GET at a time."""
    pos = start
    while pos < end:
        chunk = await client.read_file_range(ref, pos, min(end, pos + CHUNK), total=end)
        if not chunk.data:
            break  # the file got shorter under us
        sink.write(chunk.data)
        pos = chunk.end


async def read_tail(
    client: BatchClient, ref: FileRef, size: int, lines: int, err: TextIO
) -> tuple[int, bytes]:
    """The last ``lines`` lines: (their offset, their bytes), read back from the end in ranges."""
    if lines == 0 or size == 0:
        return size, b""
    pos, step, newlines = size, 16 * 1024, 0
    chunks: list[bytes] = []
    while pos > 0:
        if size - pos >= TAIL_LIMIT:
            print(
                f"batchtui: note: the last {lines} lines are longer than {TAIL_LIMIT:,} bytes; writing the last {TAIL_LIMIT:,}",
                file=err,
            )
            return pos, b"".join(reversed(chunks))
        first = max(0, pos - step)
        data = (await client.read_file_range(ref, first, pos, total=size)).data
        chunks.append(data)
        # The newline that ends the file's last line separates nothing: not counted.
        top = len(data) - 1 if pos == size and data.endswith(b"\n") else len(data)
        k = data.rfind(b"\n", 0, top)
        while k >= 0:
            newlines += 1
            if newlines == lines:
                tail = b"".join(reversed(chunks))
                return first + k + 1, tail[k + 1 :]
            k = data.rfind(b"\n", 0, k)
        pos = first
        step = min(step * 2, TAIL_STEP)
    return 0, b"".join(reversed(chunks))


async def follow(
    client: BatchClient,
    target: Target,
    size: int,
    sink: Sink,
    interval: float,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Write what the file gains until the task has completed and the file stopped growing."""
    offset = size
    while True:
        await sleep(interval)
        props = await client.get_file_properties(target.file)
        if props.content_length > offset:
            await copy(client, target.file, offset, props.content_length, sink)
            offset = props.content_length
            continue
        if props.content_length < offset:
            offset = props.content_length  # cut or replaced: go on from its new end
        if await target.state() == "completed":
            # Its last bytes may have landed between the HEAD and the state: one more look.
            final = (await client.get_file_properties(target.file)).content_length
            if final > offset:
                await copy(client, target.file, offset, final, sink)
            return


async def wait_for_file(
    client: BatchClient,
    target: Target,
    interval: float,
    sleep: Callable[[float], Awaitable[None]],
    err: TextIO,
) -> int:
    """With -f on a task that has not started (or written the file) yet: wait, then its size."""
    told = False
    while True:
        try:
            return (await client.get_file_properties(target.file)).content_length
        except FileUnavailable as exc:
            if not exc.retry_later or await target.state() == "completed":
                raise
            if not told:
                print(f"batchtui: waiting: {exc}", file=err)
                told = True
        await sleep(interval)


async def run_logs(
    client: BatchClient,
    args: argparse.Namespace,
    out: BinaryIO,
    err: TextIO,
    *,
    terminal: bool,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    try:
        target = await resolve(client, args)
        if args.follow:
            size = await wait_for_file(client, target, args.refresh, sleep, err)
        else:
            size = (await client.get_file_properties(target.file)).content_length
        sink = Sink(out, safe=terminal and not args.raw)
        if args.tail is None:
            await copy(client, target.file, 0, size, sink)
        else:
            _, tail = await read_tail(client, target.file, size, args.tail, err)
            sink.write(tail)
        if args.follow:
            await follow(client, target, size, sink, args.refresh, sleep)
        sink.close()
    finally:
        await client.aclose()
    return 0


def main(argv: list[str], *, stdout: BinaryIO | None = None, stderr: TextIO | None = None) -> int:
    err = stderr or sys.stderr
    out = stdout or sys.stdout.buffer
    args = build_parser().parse_args(argv)
    try:
        logging_on = _setup_log(args.log)
        client, _label, warnings, _extra = _make_client(args, logging_on)
        for warning in warnings:
            print(f"batchtui: warning: {warning}", file=err)
        terminal = out.isatty() if hasattr(out, "isatty") else False
        return asyncio.run(run_logs(client, args, out, err, terminal=terminal))
    except (UsageError, ConfigError) as exc:
        print(f"batchtui: error: {exc}", file=err)
        return EXIT_USAGE
    except BatchClientError as exc:
        print(f"batchtui: error: {exc}", file=err)
        return EXIT_FAILURE
    except BrokenPipeError:
        return 0  # `batchtui logs ... | head`: the reader has what it wanted
    except KeyboardInterrupt:
        return 130
