"""BatchClient._send, the one door every call goes through: byte caps on the decoded body,
the retry rule of state-changing requests, and what a 2xx reply carries back."""

from __future__ import annotations

import gzip
import tracemalloc

import httpx
import pytest
from test_client import Recorder, batch_error, make_client, ok

from batchtui.batch.client import Reply
from batchtui.batch.errors import BatchServiceError, ResponseTooLarge, TransportError

URL = "https://acct.westeurope.batch.azure.com/jobs?api-version=2025-06-01"


def bomb(decoded_mib: int) -> httpx.Response:
    body = gzip.compress(b" " * (decoded_mib * 1024 * 1024), compresslevel=9)
    return httpx.Response(
        200, content=body, headers={"content-type": "application/json", "content-encoding": "gzip"}
    )


async def test_a_decompression_bomb_is_cut_while_it_streams_not_after() -> None:
    rec = Recorder(bomb(256))
    client, _ = make_client(rec)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge, match=r"list_jobs: the answer is larger than 1,048,576 bytes"):
            await client._send("list_jobs", "GET", URL, max_bytes=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 256 MiB once decoded; reading stopped a chunk or so past the 1 MiB cap.
    assert peak < 32 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    assert len(rec.requests) == 1  # a bomb is not retried
    assert client.stats.errors == 1


async def test_the_default_cap_applies_to_every_read() -> None:
    client, _ = make_client(Recorder(bomb(40)))
    with pytest.raises(ResponseTooLarge):
        await client.list_jobs()


async def test_a_state_change_is_not_resent_after_a_5xx_or_a_timeout() -> None:
    for answer in (batch_error(500, "InternalError", "boom"), httpx.ReadTimeout("slow")):
        rec = Recorder(answer, ok({}))
        client, sleeps = make_client(rec)
        with pytest.raises((BatchServiceError, TransportError)):
            await client._send("terminate_job", "POST", URL, content=b"{}", retry="throttled")
        assert len(rec.requests) == 1, answer
        assert sleeps.calls == []


async def test_a_state_change_is_resent_after_a_429_and_a_refused_connection() -> None:
    rec = Recorder(
        batch_error(429, "TooManyRequests", "slow down", **{"Retry-After": "2"}),
        httpx.ConnectError("refused"),
        httpx.Response(202, headers={"request-id": "rid-ok", "etag": '"0x8D"'}),
    )
    client, sleeps = make_client(rec)
    reply = await client._send("terminate_job", "POST", URL, content=b'{"a":1}', retry="throttled")
    assert isinstance(reply, Reply)
    assert (reply.status, reply.request_id, reply.headers["etag"]) == (202, "rid-ok", '"0x8D"')
    assert len(rec.requests) == 3 and sleeps.calls[0] == 2.0
    sent = rec.requests[-1]
    assert sent.method == "POST" and sent.content == b'{"a":1}'
    assert sent.headers["content-type"] == "application/json; odata=minimalmetadata"
    # Every attempt names itself anew.
    assert len({r.headers["client-request-id"] for r in rec.requests}) == 3


async def test_head_and_extra_headers_come_back_in_the_reply() -> None:
    rec = Recorder(
        httpx.Response(200, headers={"content-length": "1234", "ocp-batch-file-isdirectory": "False"})
    )
    client, _ = make_client(rec)
    reply = await client._send("get_task_file_properties", "HEAD", URL, headers={"ocp-range": "bytes=0-9"})
    assert reply.body == b"" and reply.headers["ocp-batch-file-isdirectory"] == "False"
    assert rec.requests[0].method == "HEAD" and rec.requests[0].headers["ocp-range"] == "bytes=0-9"
