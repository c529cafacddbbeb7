"""LogTail against a scripted file that grows between polls: what each tick costs on the wire
(one HEAD, plus one ranged GET only when the file grew), that it opens at the end, loads
earlier parts by range, stays bounded, and reports refusals in place."""

from __future__ import annotations

import httpx
import pytest
from test_client import batch_error

from batchtui.batch.client import BatchClient, RetryPolicy
from batchtui.batch.files import TaskFileRef
from batchtui.refresh.logs import LogTail

ENDPOINT = "https://acct.westeurope.batch.azure.com"
REF = TaskFileRef("job-1", "task-1", "stdout.txt")


class GrowingFile:
    """One task file served as NEXT-APIS §1 says: HEAD -> Content-Length, a ranged GET -> 200
    with the slice (an END past the end clamped, a START past it 416 InvalidRange)."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = bytearray(data)
        self.refusal: httpx.Response | None = None
        self.requests: list[httpx.Request] = []
        self.bytes_sent = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.refusal is not None:
            return self.refusal
        size = len(self.data)
        headers = {"last-modified": "Wed, 19 Mar 2025 19:29:39 GMT", "ocp-batch-file-isdirectory": "False"}
        if request.method == "HEAD":
            return httpx.Response(
                200, headers={**headers, "content-length": str(size)}, stream=httpx.ByteStream(b"")
            )
        spec = request.headers.get("ocp-range")
        start, end = 0, size - 1
        if spec:
            a, b = spec.removeprefix("bytes=").split("-")
            start, end = int(a), min(int(b), size - 1)
        if start >= size:
            return batch_error(
                416, "InvalidRange", "The range specified is invalid for the current size of the resource."
            )
        body = bytes(self.data[start : end + 1])
        self.bytes_sent += len(body)
        return httpx.Response(200, content=body, headers=headers)

    def tick(self) -> list[str]:
        """The requests since the last call, as METHOD[ range]."""
        out = [f"{r.method} {r.headers.get('ocp-range', '')}".strip() for r in self.requests]
        self.requests.clear()
        return out


def make(server: GrowingFile, **kw: object) -> LogTail:
    client = BatchClient(
        ENDPOINT, transport=httpx.MockTransport(server.handle), retry=RetryPolicy(max_attempts=1)
    )
    return LogTail(client, REF, **kw)  # type: ignore[arg-type]


def numbered(first: int, last: int) -> bytes:
    return b"".join(b"line %06d\n" % i for i in range(first, last))  # 12 bytes a line


async def test_each_tick_costs_one_head_and_a_ranged_get_only_when_the_file_grew() -> None:
    server = GrowingFile(numbered(0, 10))
    tail = make(server)
    snap = await tail.poll("timer")
    assert server.tick() == ["HEAD", "GET bytes=0-119"]
    assert [line.text for line in snap.lines] == [f"line {i:06d}" for i in range(10)]
    assert (snap.size, snap.start, snap.end, snap.reset, snap.appended) == (120, 0, 120, True, 10)

    snap = await tail.poll("timer")
    assert server.tick() == ["HEAD"]  # unchanged: nothing fetched
    assert (snap.appended, snap.reset, snap.lines) == (0, False, tail._cached)

    server.data += numbered(10, 13) + b"partial"
    snap = await tail.poll("timer")
    assert server.tick() == ["HEAD", "GET bytes=120-162"]  # only the new bytes
    assert [line.text for line in snap.new_lines] == ["line 000010", "line 000011", "line 000012"]
    assert [line.text for line in snap.partial] == ["partial"]

    server.data += b" line\n"
    snap = await tail.poll("timer")
    assert server.tick() == ["HEAD", "GET bytes=163-168"]
    assert [line.text for line in snap.new_lines] == ["partial line"] and snap.partial == ()
    assert server.bytes_sent == len(server.data)  # every byte read once


async def test_a_large_file_opens_at_its_end_and_earlier_parts_load_by_range() -> None:
    server = GrowingFile(numbered(0, 100_000))  # 1.2 MB
    tail = make(server, tail_bytes=1200, earlier_bytes=600)
    snap = await tail.poll("timer")
    # one byte before the window says whether a line starts right at it
    assert server.tick() == ["HEAD", "GET bytes=1198799-1199999"]
    assert snap.lines[0].text == "line 099900" and snap.lines[-1].text == "line 099999"
    assert snap.start == 99_900 * 12 and not snap.at_top

    tail.load_earlier()
    snap = await tail.poll("earlier")
    assert server.tick() == ["GET bytes=1198199-1198799"]  # no HEAD: only the part asked for
    assert snap.prepended == 50 and snap.lines[0].text == "line 099850"
    assert [line.text for line in snap.lines[48:52]] == [
        f"line {i:06d}" for i in (99898, 99899, 99900, 99901)
    ]


async def test_opening_mid_line_drops_the_fragment_and_loading_earlier_restores_it() -> None:
    server = GrowingFile(b"alpha\nbravo charlie\ndelta\n")
    tail = make(server, tail_bytes=12, earlier_bytes=100)
    snap = await tail.poll("timer")
    assert [line.text for line in snap.lines] == ["delta"]  # "charlie\n" was half a line
    tail.load_earlier()
    snap = await tail.poll("earlier")
    assert [line.text for line in snap.lines] == ["alpha", "bravo charlie", "delta"] and snap.at_top


async def test_the_buffer_is_bounded_by_lines_and_drops_the_oldest() -> None:
    server = GrowingFile(numbered(0, 50))
    tail = make(server, max_lines=20)
    snap = await tail.poll("timer")
    assert len(snap.lines) == 20 and snap.lines[0].text == "line 000030"
    server.data += numbered(50, 55)
    snap = await tail.poll("timer")
    assert (len(snap.lines), snap.dropped_top, snap.appended) == (20, 5, 5)
    assert snap.start == 35 * 12  # the first line held is where the file would be read back from


async def test_following_ends_when_the_task_is_done_and_the_file_stops_growing() -> None:
    server = GrowingFile(numbered(0, 3))
    tail = make(server, task_state="running")
    assert (await tail.poll("timer")).live
    assert tail.interval(5.0) == 5.0
    tail.set_task_state("completed")
    server.data += numbered(3, 4)  # the last words of the task
    snap = await tail.poll("timer")
    assert snap.live and snap.lines[-1].text == "line 000003"
    snap = await tail.poll("timer")
    assert not snap.live and tail.interval(5.0) >= 30.0


async def test_a_file_that_is_cut_or_replaced_is_read_again_from_its_tail() -> None:
    server = GrowingFile(numbered(0, 10))
    tail = make(server)
    await tail.poll("timer")
    server.data = bytearray(b"fresh start\n")
    snap = await tail.poll("timer")
    assert snap.reset and [line.text for line in snap.lines] == ["fresh start"]


@pytest.mark.parametrize(
    ("refusal", "reason", "words"),
    [
        (
            batch_error(
                409,
                "OperationInvalidForCurrentState",
                "The specified operation is not valid for the current state of the resource.",
            ),
            "not-started",
            "not started",
        ),
        (
            batch_error(409, "TaskFilesCleanedup", "The files of the specified task are cleanedup"),
            "cleaned-up",
            "removed",
        ),
    ],
)
async def test_a_refusal_comes_in_the_snapshot_and_keeps_the_lines_shown(
    refusal: httpx.Response, reason: str, words: str
) -> None:
    server = GrowingFile(numbered(0, 3))
    tail = make(server)
    await tail.poll("timer")
    server.refusal = refusal
    snap = await tail.poll("timer")
    assert snap.reason == reason and snap.error is not None and words in snap.error
    assert len(snap.lines) == 3  # what was shown stays
    server.refusal = None
    snap = await tail.poll("timer")
    assert snap.error is None


async def test_a_binary_file_says_so_and_is_not_read_on() -> None:
    server = GrowingFile(bytes(range(256)) * 40)
    tail = make(server)
    snap = await tail.poll("timer")
    assert snap.binary and snap.lines == ()
    server.data += b"more"
    await tail.poll("timer")
    assert server.tick()[-1] == "HEAD"
