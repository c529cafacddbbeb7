"""BatchClient against scripted HTTP answers (httpx.MockTransport): what goes over the wire
and what callers get back, including retries, paging and error mapping."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from batchtui.batch.auth import SharedKeyAuth, string_to_sign
from batchtui.batch.client import DEFAULT_API_VERSION, BatchClient, RequestEvent, RetryPolicy
from batchtui.batch.errors import (
    BatchServiceError,
    InsecureEndpointError,
    ModelError,
    TransportError,
)
from tests.conftest import load_data

ENDPOINT = "https://myaccount.eastus.batch.azure.com"
KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
JSON_HEADERS = {"content-type": "application/json; odata=minimalmetadata", "request-id": "rid-1"}

ERRORS_METADATA = "Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
Handler = Callable[[httpx.Request], Any]


class Recorder:
    """A MockTransport that answers from a script and remembers every request."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def ok(body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body, headers={**JSON_HEADERS, **headers})


def batch_error(
    status: int, code: str, text: str, request_id: str = "rid-err", **headers: str
) -> httpx.Response:
    body = {
        "odata.metadata": f"{ENDPOINT}/$metadata#{ERRORS_METADATA}",
        "code": code,
        "message": {
            "lang": "en-US",
            "value": f"{text}\nRequestId:{request_id}\nTime:2026-02-03T01:09:18.3528274Z",
        },
    }
    return httpx.Response(status, json=body, headers={"request-id": request_id, **headers})


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(rec: Recorder, **kw: Any) -> tuple[BatchClient, Sleeps]:
    sleeps = Sleeps()
    kw.setdefault("sleep", sleeps)
    return BatchClient(ENDPOINT, transport=rec.transport, **kw), sleeps


def spec_body(name: str) -> Any:
    return load_data(name)["responses"]["200"]["body"]


# ------------------------------------------------------------------ headers and query


async def test_wire_headers_fresh_guid_english_date_and_lowercase_query() -> None:
    rec = Recorder(ok(spec_body("Jobs_ListJobs.json")))
    client, _ = make_client(rec, server_timeout=20)
    async with client:
        await client.list_jobs(filter="state eq 'active'", select=["id", "state"], max_results=100)
        await client.list_jobs()
    assert len(rec.requests) == 2
    ids = [r.headers["client-request-id"] for r in rec.requests]
    assert len(set(ids)) == 2
    for r, crid in zip(rec.requests, ids, strict=True):
        assert str(uuid.UUID(crid)) == crid.lower() and "{" not in crid
        assert r.headers["return-client-request-id"] == "true"
        assert r.headers["accept"] == "application/json"
        assert "date" not in r.headers
        ocp = r.headers["ocp-date"]
        assert re.fullmatch(
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
            r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT",
            ocp,
        )
        sent = email.utils.parsedate_to_datetime(ocp)
        assert abs((sent - datetime.now(UTC)).total_seconds()) < 60
    first = rec.requests[0].url
    assert first.path == "/jobs"
    assert dict(first.params) == {
        "api-version": DEFAULT_API_VERSION,
        "maxresults": "100",
        "$filter": "state eq 'active'",
        "$select": "id,state",
        "timeout": "20",
    }
    query = first.query.decode()
    names = [part.split("=")[0] for part in query.split("&")]
    assert names == [n.lower() for n in names]  # `timeout`, never `timeOut`
    assert "state%20eq%20%27active%27" in query and "+" not in query
    assert dict(rec.requests[1].url.params) == {"api-version": "2025-06-01", "timeout": "20"}


async def test_api_version_override() -> None:
    rec = Recorder(ok({"taskCounts": {"active": 1}}))
    client, _ = make_client(rec, api_version="2024-07-01.20.0")
    async with client:
        await client.get_task_counts("job-1")
    assert rec.requests[0].url.params["api-version"] == "2024-07-01.20.0"
    assert rec.requests[0].url.path == "/jobs/job-1/taskcounts"


async def test_ids_are_percent_encoded_in_the_path() -> None:
    rec = Recorder(ok(spec_body("Tasks_GetTask.json")))
    client, _ = make_client(rec)
    async with client:
        await client.get_task("job 1", "task/2", select=["id"])
    assert rec.requests[0].url.raw_path.startswith(b"/jobs/job%201/tasks/task%2F2?")


# ------------------------------------------------------------------ calls and paging


def _job_page(ids: list[str], next_link: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "odata.metadata": f"{ENDPOINT}/$metadata#jobs",
        "value": [{"id": i, "state": "active"} for i in ids],
    }
    if next_link:
        body["odata.nextLink"] = next_link
    return body


NEXT2 = f"{ENDPOINT}/jobs?api-version=2025-06-01&maxresults=2&$skiptoken=WzIsImpvYi0yIl0%3D"
NEXT3 = f"{ENDPOINT}/jobs?api-version=2025-06-01&maxresults=2&$skiptoken=WzQsImpvYi00Il0%3D"


async def test_list_jobs_follows_next_link_verbatim_across_pages() -> None:
    rec = Recorder(
        ok(_job_page(["job-1", "job-2"], NEXT2)),
        ok(_job_page(["job-3", "job-4"], NEXT3)),
        ok(_job_page(["job-5"], None)),
    )
    client, _ = make_client(rec)
    async with client:
        jobs = await client.list_jobs(max_results=2)
    assert [j.id for j in jobs] == ["job-1", "job-2", "job-3", "job-4", "job-5"]
    assert [str(r.url) for r in rec.requests[1:]] == [NEXT2, NEXT3]
    assert rec.requests[0].url.params["maxresults"] == "2"


async def test_page_iterator_is_lazy() -> None:
    rec = Recorder(ok(_job_page(["job-1", "job-2"], NEXT2)), ok(_job_page(["job-3"], None)))
    client, _ = make_client(rec)
    async with client:
        pages = client.iter_job_pages(max_results=2)
        first = await anext(pages)
        assert [j.id for j in first.items] == ["job-1", "job-2"]
        assert first.next_link == NEXT2
        assert len(rec.requests) == 1
        second = await anext(pages)
        assert [j.id for j in second.items] == ["job-3"] and second.next_link is None
        with pytest.raises(StopAsyncIteration):
            await anext(pages)
    assert len(rec.requests) == 2


async def test_limit_stops_paging_and_sizes_the_page() -> None:
    rec = Recorder(ok(_job_page(["job-1", "job-2"], NEXT2)), ok(_job_page(["job-3", "job-4"], NEXT3)))
    client, _ = make_client(rec)
    async with client:
        jobs = await client.list_jobs(limit=3)
    assert [j.id for j in jobs] == ["job-1", "job-2", "job-3"]
    assert len(rec.requests) == 2
    assert rec.requests[0].url.params["maxresults"] == "3"


async def test_next_link_to_another_host_is_not_followed() -> None:
    rec = Recorder(
        ok(_job_page(["job-1"], "https://evil.example.com/jobs?api-version=2025-06-01&$skiptoken=x"))
    )
    client, _ = make_client(rec, auth=SharedKeyAuth("myaccount", KEY))
    async with client:
        with pytest.raises(ModelError, match="list_jobs: odata.nextLink points away"):
            await client.list_jobs()
    assert len(rec.requests) == 1


async def test_task_calls_parse_official_examples() -> None:
    subtasks = spec_body("Tasks_ListSubTasks.json")
    rec = Recorder(
        lambda r: ok(spec_body("Tasks_ListTasks.json")),
    )
    client, _ = make_client(rec)
    async with client:
        tasks = await client.list_tasks("jobId", filter="state eq 'completed'", select=["id", "state"])
        rec.answers = [ok(spec_body("Tasks_GetTask.json"))]
        task = await client.get_task("jobId", "taskId")
        rec.answers = [ok(subtasks)]
        subs = await client.list_subtasks("jobId", "taskId")
        rec.answers = [ok(spec_body("Jobs_GetJobTaskCounts.json"))]
        counts = await client.get_task_counts("jobId")
        rec.answers = [ok(spec_body("Jobs_GetJob.json"))]
        job = await client.get_job("jobId")
    assert [t.id for t in tasks] == ["task1", "task2"]
    assert rec.requests[0].url.path == "/jobs/jobId/tasks"
    assert rec.requests[0].url.params["$filter"] == "state eq 'completed'"
    assert task.id == "testTask" and rec.requests[1].url.path == "/jobs/jobId/tasks/taskId"
    assert [s.id for s in subs] == [1, 2]
    assert rec.requests[2].url.path == "/jobs/jobId/tasks/taskId/subtasksinfo"
    assert counts.task_counts.running == 7 and counts.task_counts.failed == 2
    assert job.id == "jobId" and rec.requests[4].url.path == "/jobs/jobId"


async def test_subtasks_follow_next_link_and_empty_recorded_page() -> None:
    entry = load_data("recorded_net_Tasks_ListSubTasks_entry.json")
    link = f"{ENDPOINT}/jobs/j/tasks/t/subtasksinfo?api-version=2025-06-01&$skiptoken=abc"
    rec = Recorder(
        ok({"value": [{"id": 0, "state": "running"}], "odata.nextLink": link}), ok(entry["ResponseBody"])
    )
    client, _ = make_client(rec)
    async with client:
        subs = await client.list_subtasks("j", "t")
    assert [s.id for s in subs] == [0]
    assert str(rec.requests[1].url) == link


# ------------------------------------------------------------------ retries


async def test_429_with_retry_after_is_retried_once_after_that_delay() -> None:
    events: list[RequestEvent] = []
    rec = Recorder(
        batch_error(
            429,
            "TooManyRequests",
            "Request failed as server encountered too many requests.",
            **{"Retry-After": "1"},
        ),
        ok({"taskCounts": {"active": 3}}),
    )
    client, sleeps = make_client(rec, on_event=events.append)
    async with client:
        counts = await client.get_task_counts("job-1")
    assert counts.task_counts.active == 3
    assert sleeps.calls == [1.0]
    assert len(rec.requests) == 2
    assert client.stats.retries == 1 and client.stats.throttled == 1 and client.stats.requests == 2
    assert [(e.attempt, e.status, e.retry_in) for e in events] == [(1, 429, 1.0), (2, 200, None)]
    assert "TooManyRequests" in (events[0].error or "")
    # a retry is a new wire request: it gets its own client-request-id
    assert rec.requests[0].headers["client-request-id"] != rec.requests[1].headers["client-request-id"]


async def test_404_job_not_found_is_not_retried() -> None:
    rec = Recorder(batch_error(404, "JobNotFound", "The specified job does not exist.", "4a3b-404"))
    client, sleeps = make_client(rec)
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.get_task_counts("nope")
    err = info.value
    assert (err.status, err.code, err.message, err.request_id) == (
        404,
        "JobNotFound",
        "The specified job does not exist.",
        "4a3b-404",
    )
    assert err.kind == "not found"
    assert len(rec.requests) == 1 and sleeps.calls == []
    assert client.stats.errors == 1


async def test_503_then_200_backs_off_with_jitter_within_the_cap() -> None:
    rec = Recorder(
        batch_error(503, "ServerBusy", "The server is currently unable to receive requests."),
        ok({"taskCounts": {}}),
    )
    client, sleeps = make_client(rec, retry=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=30))
    client._rand = lambda: 0.5
    async with client:
        await client.get_task_counts("job-1")
    assert sleeps.calls == [0.25]  # full jitter: 0.5 * base * 2**0
    assert len(rec.requests) == 2


async def test_connection_error_is_retried() -> None:
    rec = Recorder(httpx.ConnectError("connection refused"), ok({"taskCounts": {"running": 2}}))
    client, sleeps = make_client(rec)
    async with client:
        counts = await client.get_task_counts("job-1")
    assert counts.task_counts.running == 2
    assert len(rec.requests) == 2 and len(sleeps.calls) == 1


async def test_timeouts_exhaust_into_transport_error() -> None:
    rec = Recorder(httpx.ReadTimeout("read timed out"))
    client, sleeps = make_client(rec, retry=RetryPolicy(max_attempts=3))
    async with client:
        with pytest.raises(TransportError, match="get_task_counts: timed out") as info:
            await client.get_task_counts("job-1")
    assert info.value.kind == "offline"
    assert len(rec.requests) == 3 and len(sleeps.calls) == 2


async def test_gives_up_after_max_attempts_with_the_last_status() -> None:
    rec = Recorder(
        batch_error(500, "InternalError", "The server encountered an internal error."),
        batch_error(502, "BadGateway", "bad gateway"),
        batch_error(
            500,
            "OperationTimedOut",
            "The operation could not be completed within the permitted time.",
            "last-rid",
        ),
    )
    client, sleeps = make_client(rec, retry=RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=1.5))
    client._rand = lambda: 1.0
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    assert (info.value.status, info.value.code, info.value.request_id) == (
        500,
        "OperationTimedOut",
        "last-rid",
    )
    assert len(rec.requests) == 3
    assert sleeps.calls == [1.0, 1.5]  # base * 2**n, capped at max_delay
    assert client.stats.retries == 2 and client.stats.errors == 1


async def test_retry_after_http_date_and_cap() -> None:
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    rec = Recorder(
        httpx.Response(503, headers={"Retry-After": later}),
        httpx.Response(429, headers={"Retry-After": "4"}),
        ok({"taskCounts": {}}),
    )
    client, sleeps = make_client(rec, retry=RetryPolicy(max_delay=10.0))
    async with client:
        await client.get_task_counts("j")
    assert sleeps.calls == [10.0, 4.0]


async def test_other_4xx_are_not_retried() -> None:
    for status in (400, 401, 403, 409):
        rec = Recorder(batch_error(status, "Whatever", "no"))
        client, sleeps = make_client(rec)
        async with client:
            with pytest.raises(BatchServiceError):
                await client.list_jobs()
        assert len(rec.requests) == 1 and sleeps.calls == []


async def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return ok({"taskCounts": {}})

    client = BatchClient(ENDPOINT, transport=httpx.MockTransport(handler), max_concurrency=3)
    async with client:
        await asyncio.gather(*(client.get_task_counts(f"job-{i}") for i in range(12)))
    assert peak == 3
    assert client.stats.requests == 12


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("name", "index", "status", "code", "message", "values"),
    [
        (
            "recorded_py_errors_PoolNotFound_JobExists.json",
            0,
            404,
            "PoolNotFound",
            "The specified pool does not exist.",
            {},
        ),
        (
            "recorded_py_errors_PoolNotFound_JobExists.json",
            2,
            409,
            "JobExists",
            "The specified job already exists.",
            {},
        ),
        (
            "recorded_js_error_InvalidQueryParameterValue.json",
            0,
            400,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
            {
                "QueryParameterName": "maxresults",
                "QueryParameterValue": "-5",
                "Reason": "MaxResults cannot be less than 1",
            },
        ),
        (
            "recorded_js_error_JobPreparationTaskOrReleaseTaskNotSpecified.json",
            0,
            409,
            "JobPreparationTaskOrReleaseTaskNotSpecified",
            "The specified job does not have either job preparation task or job release task.",
            {},
        ),
    ],
)
async def test_recorded_error_payloads(
    name: str, index: int, status: int, code: str, message: str, values: dict[str, str]
) -> None:
    entry = load_data(name)["Entries"][index]
    assert entry["StatusCode"] == status
    response = httpx.Response(
        status, headers=entry["ResponseHeaders"], content=json.dumps(entry["ResponseBody"])
    )
    rec = Recorder(response)
    client, sleeps = make_client(rec)
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    err = info.value
    assert err.status == status and err.code == code and err.message == message
    assert dict(err.values) == values
    assert err.request_id == entry["ResponseHeaders"]["request-id"]
    assert "RequestId:" not in str(err) and err.request_id in str(err)


async def test_non_json_502_page_gives_a_clear_error_with_the_status() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    rec = Recorder(httpx.Response(502, content=html, headers={"content-type": "text/html"}))
    client, sleeps = make_client(rec, retry=RetryPolicy(max_attempts=2))
    async with client:
        with pytest.raises(BatchServiceError) as info:
            await client.list_jobs()
    err = info.value
    assert err.status == 502 and err.code is None
    assert str(err) == "HTTP 502: Bad Gateway: the server answered with a text/html body, not a Batch error"
    assert "<html>" not in str(err)
    assert len(rec.requests) == 2  # 502 is worth retrying


async def test_json_that_is_not_a_batch_error() -> None:
    rec = Recorder(httpx.Response(418, json=["not", "an", "error"]))
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(BatchServiceError, match=r"^HTTP 418: I'm a teapot: .*application/json body"):
            await client.get_job("j")


async def test_bad_success_bodies_raise_model_error_naming_the_call() -> None:
    rec = Recorder(httpx.Response(200, content=b"{not json", headers=JSON_HEADERS))
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(ModelError, match="^list_tasks: the response is not JSON"):
            await client.list_tasks("j")
        rec.answers = [ok([1, 2, 3])]
        with pytest.raises(ModelError, match="^get_task: task: expected an object"):
            await client.get_task("j", "t")
        rec.answers = [ok({"value": [{"id": "t", "executionInfo": {"exitCode": "abc"}}]})]
        with pytest.raises(ModelError, match=r"^list_tasks: tasks.value\[0\].executionInfo.exitCode"):
            await client.list_tasks("j")


# ------------------------------------------------------------------ security


def test_plain_http_with_credentials_is_refused_except_loopback() -> None:
    auth = SharedKeyAuth("myaccount", KEY)
    with pytest.raises(InsecureEndpointError, match="plain http"):
        BatchClient("http://myaccount.eastus.batch.azure.com", auth)
    for ok_endpoint in (
        "http://127.0.0.1:8080",
        "http://127.3.2.1",
        "http://localhost:9",
        "http://[::1]:8000",
    ):
        BatchClient(ok_endpoint, auth)
    BatchClient("http://example.com")  # no credentials, nothing to leak
    assert BatchClient("myaccount.eastus.batch.azure.com").endpoint == ENDPOINT


async def test_shared_key_requests_are_signed_and_next_link_signed_with_its_own_query() -> None:
    auth = SharedKeyAuth("myaccount", KEY)
    rec = Recorder(ok(_job_page(["job-1"], NEXT2)), ok(_job_page(["job-2"], None)))
    events: list[RequestEvent] = []
    client, _ = make_client(rec, auth=auth, on_event=events.append)
    async with client:
        await client.list_jobs(filter="state eq 'active'")
    for r in rec.requests:
        expected = SharedKeyAuth("myaccount", KEY)
        copy = httpx.Request(r.method, r.url, headers=r.headers)
        expected.sign(copy)
        assert r.headers["authorization"] == copy.headers["authorization"]
        assert r.headers["authorization"].startswith("SharedKey myaccount:")
    signed = string_to_sign("GET", rec.requests[1].url, rec.requests[1].headers, "myaccount")
    assert signed.endswith("\n$skiptoken:WzIsImpvYi0yIl0=\napi-version:2025-06-01\nmaxresults:2")
    for e in events:
        assert KEY not in repr(e) and "SharedKey" not in repr(e)
    assert KEY not in repr(client) and KEY not in repr(auth)


async def test_next_link_with_default_port_or_relative_is_followed() -> None:
    explicit = "https://myaccount.eastus.batch.azure.com:443/jobs?api-version=2025-06-01&$skiptoken=p2"
    rec = Recorder(
        ok(_job_page(["job-1"], explicit)),
        ok(_job_page(["job-2"], "/jobs?api-version=2025-06-01&$skiptoken=p3")),
        ok(_job_page(["job-3"], None)),
    )
    client, _ = make_client(rec)
    async with client:
        jobs = await client.list_jobs()
    assert [j.id for j in jobs] == ["job-1", "job-2", "job-3"]
    assert rec.requests[2].url.params["$skiptoken"] == "p3"
    assert rec.requests[2].url.host == "myaccount.eastus.batch.azure.com"


async def test_a_next_link_loop_is_cut() -> None:
    rec = Recorder(ok(_job_page(["job-1"], NEXT2)))
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(ModelError, match="repeats a page"):
            await client.list_jobs()
    assert len(rec.requests) == 2


async def test_an_unusable_next_link_is_a_batch_client_error() -> None:
    rec = Recorder(ok(_job_page(["job-1"], "https://myaccount.eastus.batch.azure.com:99999/jobs?x=1")))
    client, _ = make_client(rec)
    async with client:
        with pytest.raises(ModelError, match="list_jobs: odata.nextLink is not a URL"):
            await client.list_jobs()


async def test_non_transient_transport_errors_are_not_retried() -> None:
    rec = Recorder(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    client, sleeps = make_client(rec)
    async with client:
        with pytest.raises(TransportError, match="UnsupportedProtocol"):
            await client.list_jobs()
    assert len(rec.requests) == 1 and sleeps.calls == []


async def test_a_broken_event_sink_does_not_break_requests() -> None:
    def sink(event: RequestEvent) -> None:
        raise RuntimeError("log disk full")

    rec = Recorder(ok({"taskCounts": {"active": 1}}))
    client, _ = make_client(rec, on_event=sink)
    async with client:
        assert (await client.get_task_counts("j")).task_counts.active == 1
