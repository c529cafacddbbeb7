"""File calls of BatchClient against recorded answers: what goes over the wire (paths encoded
whole, ocp-range, $filter), how the recorded headers read, and what a refusal tells the operator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_client import ENDPOINT, Recorder, batch_error, make_client

from batchtui.batch.client import RetryPolicy
from batchtui.batch.errors import BatchServiceError, ModelError
from batchtui.batch.files import FileUnavailable, NodeFileRef, TaskFileRef, join_root, rank_file
from batchtui.batch.task_models import NodeInfo
from tests.conftest import load_data


def recorded(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = load_data(name)["Entries"][0]
    return entry


def replay(name: str, body: bytes | None = None) -> httpx.Response:
    """The recorded status and headers (and body) as an httpx answer."""
    entry = recorded(name)
    headers = {k: v for k, v in entry["ResponseHeaders"].items() if k.lower() != "transfer-encoding"}
    if body is None and isinstance(entry["ResponseBody"], dict):
        return httpx.Response(entry["StatusCode"], json=entry["ResponseBody"], headers=headers)
    if body is None and isinstance(entry["ResponseBody"], list):
        body = "".join(entry["ResponseBody"]).encode()
    if entry["RequestMethod"] == "HEAD":
        # A HEAD answer keeps its Content-Length and has no body.
        return httpx.Response(entry["StatusCode"], headers=headers, stream=httpx.ByteStream(b""))
    return httpx.Response(entry["StatusCode"], content=body or b"", headers=headers)


TASK_STDOUT = TaskFileRef("batch", "test_task", "stdout.txt")


async def test_head_reads_the_recorded_windows_headers() -> None:
    rec = Recorder(replay("recorded_py_Files_GetTaskFileProperties.json"))
    client, _ = make_client(rec)
    props = await client.get_file_properties(TASK_STDOUT)
    assert props.content_length == 13
    assert props.is_directory is False  # "False" on the wire
    assert props.url == "https://batch4.eastus2.batch.azure.com/jobs/batch/tasks/test_task/files/stdout.txt"
    assert props.last_modified is not None and props.last_modified.isoformat() == "2025-03-19T19:29:39+00:00"
    assert props.creation_time is not None and props.file_mode is None
    sent = rec.requests[0]
    assert sent.method == "HEAD"
    assert sent.url.raw_path.startswith(b"/jobs/batch/tasks/test_task/files/stdout.txt?api-version=")


async def test_head_reads_the_recorded_linux_headers_and_the_spec_spelling() -> None:
    rec = Recorder(
        replay("recorded_java_Files_GetTaskFileProperties_linux.json"),
        httpx.Response(200, headers=load_data("Tasks_GetTaskFileProperties.json")["responses"]["200"]),
    )
    client, _ = make_client(rec)
    linux = await client.get_file_properties(TASK_STDOUT)
    assert (linux.content_length, linux.file_mode, linux.creation_time) == (6, "0o100644", None)
    spec = await client.get_file_properties(TASK_STDOUT)  # "false" as the spec examples write it
    assert (spec.content_length, spec.is_directory) == (17, False)


async def test_a_node_file_path_is_encoded_whole_backslashes_and_all() -> None:
    rec = Recorder(lambda request: replay("recorded_py_Files_GetNodeFileProperties.json"))
    client, _ = make_client(rec)
    ref = NodeFileRef("2b751f41", "tvm_1", "workitems\\batch\\job-1\\test_task\\stderr.txt")
    props = await client.get_file_properties(ref)
    assert props.content_length == 0
    assert rec.requests[0].url.raw_path.startswith(
        b"/pools/2b751f41/nodes/tvm_1/files/workitems%5Cbatch%5Cjob-1%5Ctest_task%5Cstderr.txt?"
    )
    await client.get_file_properties(NodeFileRef("p", "n", "wd/sub dir/out.txt"))
    assert b"/files/wd%2Fsub%20dir%2Fout.txt?" in rec.requests[1].url.raw_path


async def test_a_ranged_read_sends_ocp_range_and_takes_the_200_slice() -> None:
    rec = Recorder(replay("recorded_java_Files_GetTaskFile_linux.json", b"llo\n"))
    client, _ = make_client(rec)
    chunk = await client.read_file_range(TASK_STDOUT, 2, 6)
    assert (chunk.start, chunk.data, chunk.end) == (2, b"llo\n", 6)
    sent = rec.requests[0]
    assert sent.headers["ocp-range"] == "bytes=2-5"  # END is inclusive on the wire
    assert "application/octet-stream" in sent.headers["accept"]


async def test_a_range_answer_is_tolerated_in_every_reading_the_facts_leave_open() -> None:
    whole = b"0123456789"
    rec = Recorder(
        # 206 with Content-Range (UNCONFIRMED, but harmless)
        httpx.Response(206, content=b"3456", headers={"content-range": "bytes 3-6/10"}),
        # a server that ignores the range and sends everything
        httpx.Response(200, content=whole),
        httpx.Response(200, content=whole),
        # a Content-Range that starts elsewhere is a server bug, not data
        httpx.Response(206, content=b"0123", headers={"content-range": "bytes 0-3/10"}),
    )
    client, _ = make_client(rec)
    first = await client.read_file_range(TASK_STDOUT, 3, 7)
    assert (first.data, first.total) == (b"3456", 10)
    assert (await client.read_file_range(TASK_STDOUT, 0, 4)).data == b"0123"
    assert (await client.read_file_range(TASK_STDOUT, 5, 8, total=10)).data == b"567"
    with pytest.raises(ModelError, match="starts at 0"):
        await client.read_file_range(TASK_STDOUT, 3, 7)


async def test_a_range_answer_larger_than_asked_is_not_read_into_memory() -> None:
    rec = Recorder(httpx.Response(200, content=b"x" * 100_000))
    client, _ = make_client(rec)
    with pytest.raises(ModelError, match="more than the 10 bytes"):
        await client.read_file_range(TASK_STDOUT, 50, 60)


async def test_listings_parse_the_recorded_shapes_and_send_filter_and_recursive() -> None:
    rec = Recorder(
        replay("recorded_py_Files_ListTaskFiles.json"),
        replay("recorded_java_Files_ListTaskFiles_linux.json"),
        replay("recorded_py_Files_ListNodeFiles_recursive.json"),
    )
    client, _ = make_client(rec)
    files = await client.list_task_files("batch", "test_task")
    assert [(f.name, f.is_directory, f.content_length) for f in files] == [
        ("stdout.txt", False, 13),
        ("wd", True, None),  # directories carry no properties
    ]
    linux = await client.list_task_files("j", "t", recursive=True, prefix="std")
    assert {f.name: f.file_mode for f in linux if not f.is_directory} == {
        "stderr.txt": "0o100644",
        "stdout.txt": "0o100644",
    }
    assert "recursive=true" in str(rec.requests[1].url)
    assert rec.requests[1].url.params["$filter"] == "startswith(name,'std')"
    node = await client.list_node_files("2b751f41", "tvm_1", recursive=True, prefix="workitems\\batch")
    names = [f.name for f in node]
    assert "workitems\\batch\\job-1\\test_task\\stdout.txt" in names
    assert rec.requests[2].url.path == "/pools/2b751f41/nodes/tvm_1/files"


async def test_a_listing_is_bounded_and_follows_next_links() -> None:
    page = {"value": [{"name": f"f{i}", "isDirectory": False} for i in range(3)]}
    rec = Recorder(
        httpx.Response(200, json={**page, "odata.nextLink": f"{ENDPOINT}/jobs/j/tasks/t/files?p=2"}),
        httpx.Response(200, json=page),
    )
    client, _ = make_client(rec)
    files = await client.list_task_files("j", "t")
    assert len(files) == 6 and len(rec.requests) == 2


@pytest.mark.parametrize(
    ("answer", "reason", "words"),
    [
        (
            batch_error(
                409,
                "OperationInvalidForCurrentState",
                "The specified operation is not valid for the current state of the resource.",
            ),
            "not-started",
            "has not started",
        ),
        # the 409's code is UNCONFIRMED: the message alone must do
        (
            batch_error(
                409,
                "SomethingElse",
                "The specified operation is not valid for the current state of the resource.",
            ),
            "not-started",
            "has not started",
        ),
        (batch_error(404, "FileNotFound", "The specified file does not exist."), "not-found", "stdout.txt"),
        (
            batch_error(404, "NodeNotFound", "The specified node does not exist."),
            "node-gone",
            "node it ran on is gone",
        ),
        (
            batch_error(409, "TaskFilesCleanedup", "The files of the specified task are cleanedup"),
            "cleaned-up",
            "retention",
        ),
        (batch_error(409, "TaskFilesUnavailable", "not available"), "cleaned-up", "retention"),
        (
            batch_error(
                416, "InvalidRange", "The range specified is invalid for the current size of the resource."
            ),
            "range",
            "reopen",
        ),
        (batch_error(404, "TaskNotFound", "The specified task does not exist."), "no-task", "deleted"),
    ],
)
async def test_refusals_say_what_happened_and_what_to_do(
    answer: httpx.Response, reason: str, words: str
) -> None:
    client, _ = make_client(Recorder(answer))
    with pytest.raises(FileUnavailable) as info:
        await client.read_file_range(TASK_STDOUT, 0, 10)
    err = info.value
    assert err.reason == reason and words in str(err)
    assert isinstance(err, BatchServiceError) and err.message in str(err)  # the service's own words
    assert "\n" not in str(err) and "RequestId:" not in str(err)


async def test_the_recorded_file_not_found_body() -> None:
    client, _ = make_client(Recorder(replay("recorded_net_error_FileNotFound_GetTaskFile.json")))
    with pytest.raises(FileUnavailable) as info:
        await client.get_file_properties(TASK_STDOUT)
    assert info.value.reason == "not-found" and info.value.retry_later
    assert "The specified file does not exist." in str(info.value)


async def test_a_500_is_not_dressed_up_as_a_file_problem() -> None:
    client, _ = make_client(
        Recorder(batch_error(500, "InternalError", "boom")), retry=RetryPolicy(max_attempts=1)
    )
    with pytest.raises(BatchServiceError) as info:
        await client.get_file_properties(TASK_STDOUT)
    assert not isinstance(info.value, FileUnavailable)


def test_a_ranks_files_live_under_its_task_root_in_either_spelling() -> None:
    spec = NodeInfo(pool_id="p", node_id="n", task_root_directory="\\workitems\\jobId\\job-1\\taskId\\1")
    assert rank_file(spec, "stdout.txt", 1).path == "workitems\\jobId\\job-1\\taskId\\1\\stdout.txt"
    linux = NodeInfo(pool_id="p", node_id="n", task_root_directory="workitems/j/job-1/t/3")
    ref = rank_file(linux, "stderr.txt", 3)
    assert ref.path == "workitems/j/job-1/t/3/stderr.txt" and ref.label.startswith("rank 3 ")
    assert ref.sibling("wd/out.txt").path == "workitems/j/job-1/t/3/wd/out.txt"
    by_url = NodeInfo(
        pool_id="p",
        node_id="n",
        task_root_directory_url="https://a/pools/p/nodes/n/files//workitems/j/job-1/t/2",
    )
    assert rank_file(by_url, "stdout.txt").path == "workitems/j/job-1/t/2/stdout.txt"
    assert join_root("", "stdout.txt") == "stdout.txt"


async def test_a_refused_head_asks_one_byte_of_the_file_for_the_services_reason() -> None:
    # A HEAD answer has no body and so no error code; the GET's body says which 404 it is.
    rec = Recorder(
        httpx.Response(404, headers={"request-id": "rid-head"}),
        batch_error(404, "FileNotFound", "The specified file does not exist."),
    )
    client, _ = make_client(rec)
    with pytest.raises(FileUnavailable) as info:
        await client.get_file_properties(TASK_STDOUT)
    assert info.value.reason == "not-found"
    assert [r.method for r in rec.requests] == ["HEAD", "GET"]
    assert rec.requests[1].headers["ocp-range"] == "bytes=0-0"


async def test_the_spec_listing_example_with_windows_names() -> None:
    body = load_data("Tasks_ListTaskFiles.json")["responses"]["200"]["body"]
    client, _ = make_client(Recorder(httpx.Response(200, json=body)))
    files = await client.list_task_files("jobId", "taskId")
    assert [(f.name, f.content_length, f.content_type) for f in files] == [
        ("startup\\ProcessEnv.cmd", 1813, "application/octet-stream"),
        ("startup\\stderr.txt", 0, "application/octet-stream"),
    ]
    assert files[0].creation_time is not None and files[0].creation_time.year == 2014
