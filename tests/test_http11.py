"""The direct transport's HTTP/1.1 (batchtui/batch/http11.py) against servers that answer in
every way HTTP/1.1 allows, and some it does not, over real loopback sockets.

Each server is scripted: it reads a request (head and body, by Content-Length), records it and
writes the next raw answer of its script. Every request goes through BatchClient's public calls.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from batchtui.batch.actions import terminate_job
from batchtui.batch.auth import SharedKeyAuth, ocp_date_now
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import TransportError
from batchtui.batch.file_refs import TaskFileRef
from batchtui.batch.retry import RetryPolicy

COUNTS = json.dumps(
    {"taskCounts": {"active": 1, "running": 2, "completed": 3, "succeeded": 3, "failed": 0}}
).encode()
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(COUNTS),
    COUNTS,
)
ONE_TRY = RetryPolicy(max_attempts=1)
KEY = "a2V5LWZvci10ZXN0cy1vbmx5"  # base64 of "key-for-tests-only"


@dataclass
class Seen:
    url: str = ""
    connections: int = 0
    #: (request head, body) in the order they arrived
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)


@asynccontextmanager
async def scripted(*answers: bytes, hang: bool = False) -> AsyncIterator[Seen]:
    """Answers the n-th request with ``answers[n]`` (the last one repeats); ``hang``: answers
    nothing at all after the script ran out."""
    seen = Seen()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                seen.requests.append((head, body))
                n = len(seen.requests) - 1
                if hang and n >= len(answers):
                    await asyncio.sleep(3600)
                answer = answers[min(n, len(answers) - 1)]
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        seen.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        yield seen


async def test_a_chunked_gzipped_answer_is_read_whole_and_its_connection_kept() -> None:
    packed = gzip.compress(COUNTS)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(packed[i : i + 7]), packed[i : i + 7]) for i in range(0, len(packed), 7)
    )
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    async with scripted(answer) as seen, BatchClient(seen.url, retry=ONE_TRY) as client:
        for i in range(3):
            result = await client.get_task_counts(f"j{i}")
            assert result.task_counts is not None and result.task_counts.succeeded == 3
    assert (len(seen.requests), seen.connections) == (3, 1)


async def test_an_answer_that_says_connection_close_costs_a_new_connection_not_an_error() -> None:
    close = OK.replace(b"Content-Length", b"Connection: close\r\nContent-Length")
    async with scripted(close) as seen, BatchClient(seen.url, retry=ONE_TRY) as client:
        for i in range(3):
            await client.get_task_counts(f"j{i}")
        assert (client.stats.requests, client.stats.errors) == (3, 0)
    assert (len(seen.requests), seen.connections) == (3, 3)


async def test_a_state_change_sends_its_body_whole_and_signed() -> None:
    done = b"HTTP/1.1 202 Accepted\r\nrequest-id: r-1\r\nContent-Length: 0\r\n\r\n"
    async with (
        scripted(done) as seen,
        BatchClient(seen.url, SharedKeyAuth("acct", KEY), retry=ONE_TRY) as client,
    ):
        outcome = await terminate_job(client, "job-1", reason="done here")
    assert (outcome.status, outcome.request_id) == (202, "r-1")
    head, body = seen.requests[0]
    assert head.startswith(b"POST /jobs/job-1/terminate?api-version=")
    assert json.loads(body) == {"terminateReason": "done here"}
    lowered = head.lower()
    assert b"content-length: %d\r\n" % len(body) in lowered and b"authorization: sharedkey acct:" in lowered


async def test_a_head_answer_announces_a_length_and_carries_no_body() -> None:
    props = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nocp-batch-file-isdirectory: False\r\n"
        b"Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n"
    )
    async with scripted(props, OK) as seen, BatchClient(seen.url, retry=ONE_TRY) as client:
        got = await asyncio.wait_for(client.get_file_properties(TaskFileRef("j", "t", "stderr.txt")), 5)
        assert got.content_length == 123456
        await client.get_task_counts("j")  # the same connection: the HEAD left nothing unread
    assert seen.requests[0][0].startswith(b"HEAD ") and seen.connections == 1


async def test_informational_answers_before_the_real_one_are_skipped() -> None:
    async with scripted(b"HTTP/1.1 100 Continue\r\n\r\n" + OK) as seen, BatchClient(seen.url) as client:
        result = await client.get_task_counts("j")
    assert result.task_counts is not None and seen.connections == 1


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 two hundred OK\r\n\r\n",  # not a status line
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",  # two lengths
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",  # a head past 100 KiB
    ],
    ids=["status-line", "two-lengths", "huge-head"],
)
async def test_a_broken_answer_is_one_line_and_the_next_request_gets_a_fresh_connection(
    garbage: bytes,
) -> None:
    async with scripted(garbage, OK) as seen, BatchClient(seen.url, retry=ONE_TRY) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_task_counts("j")
        message = str(caught.value)
        assert "\n" not in message and "RemoteProtocolError" in message and len(message) < 400
        result = await client.get_task_counts("j")
    assert result.task_counts is not None and seen.connections == 2


async def test_a_server_that_never_answers_is_a_timeout_and_its_connection_is_dropped() -> None:
    async with (
        scripted(OK, hang=True) as seen,
        BatchClient(seen.url, retry=ONE_TRY, timeout=0.2) as client,
    ):
        await client.get_task_counts("j")
        with pytest.raises(TransportError, match="timed out"):
            await client.get_task_counts("j")
    assert seen.connections == 1 and len(seen.requests) == 2


def test_the_date_header_is_formatted_once_a_second_in_english() -> None:
    seconds = iter([1_796_124_600.2, 1_796_124_600.9, 1_796_124_601.0])
    first, again, later = (ocp_date_now(lambda: next(seconds)) for _ in range(3))
    assert first == again == "Tue, 01 Dec 2026 11:30:00 GMT"
    assert later == "Tue, 01 Dec 2026 11:30:01 GMT"
