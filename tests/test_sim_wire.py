"""The simulator on the wire: shapes, headers, paging, $select, $filter and every error it owes."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load_data
from test_sim_support import API, BASE, ERROR_TAIL, ISO7, client, get, get_all

from batchtui.sim import SimConfig, Simulator


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(seed=11, jobs=40, tasks=30, instances=12, time_scale=0))


DATETIME_KEYS = {
    "creationTime",
    "lastModified",
    "stateTransitionTime",
    "previousStateTransitionTime",
    "startTime",
    "endTime",
    "lastRetryTime",
    "lastUpdateTime",
}


def _walk_times(obj: Any, key: str = "") -> list[tuple[str, str]]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_walk_times(v, k))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(_walk_times(v, key))
    elif isinstance(obj, str) and key in DATETIME_KEYS:
        out.append((key, obj))
    return out


def _recorded(name: str) -> dict[str, Any]:
    return load_data(name)["Entries"][0]


async def test_list_jobs_looks_like_the_recorded_service(sim: Simulator) -> None:
    async with client(sim) as c:
        r = await get(c, "/jobs")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; odata=minimalmetadata"
    assert r.headers["dataserviceversion"] == "3.0"
    assert len(r.headers["request-id"]) == 36
    assert "etag" not in r.headers and "last-modified" not in r.headers
    body = r.json()
    assert list(body)[0] == "odata.metadata"
    assert body["odata.metadata"] == f"{BASE}/$metadata#jobs"
    recorded_job = _recorded("recorded_js_Jobs_ListJobs.json")["ResponseBody"]["value"][0]
    for job in body["value"]:
        # every property the real service always sends is there, with the same JSON types
        for k, v in recorded_job.items():
            assert k in job, k
            assert type(job[k]) is type(v), k
        assert job["url"] == f"{BASE}/jobs/{job['id']}"
        assert job["eTag"].startswith("0x8D")
    for key, value in _walk_times(body):
        assert ISO7.match(value), (key, value)


async def test_single_gets_carry_etag_and_element_metadata(sim: Simulator) -> None:
    async with client(sim) as c:
        job = (await get(c, "/jobs", maxresults=1)).json()["value"][0]
        r = await get(c, f"/jobs/{job['id']}")
        assert r.status_code == 200
        assert r.json()["odata.metadata"] == f"{BASE}/$metadata#jobs/@Element"
        assert r.headers["etag"] == r.json()["eTag"] == job["eTag"]
        assert r.headers["last-modified"].endswith(" GMT")
        # conditional GET: the service answers 304 when nothing changed
        r304 = await c.get(
            f"/jobs/{job['id']}", params={"api-version": API}, headers={"If-None-Match": job["eTag"]}
        )
        assert r304.status_code == 304 and r304.content == b""
        task = (await get(c, "/jobs/mpi-cfd-0001/tasks", maxresults=1)).json()["value"][0]
        r = await get(c, f"/jobs/mpi-cfd-0001/tasks/{task['id']}")
        assert r.json()["odata.metadata"] == f"{BASE}/$metadata#tasks/@Element"
        assert r.headers["etag"] == r.json()["eTag"]
        assert {k: v for k, v in r.json().items() if k != "odata.metadata"} == task
        counts = await get(c, "/jobs/mpi-cfd-0001/taskcounts")
        subs = await get(c, f"/jobs/mpi-cfd-0001/tasks/{task['id']}/subtasksinfo")
    assert counts.json()["odata.metadata"] == f"{BASE}/$metadata#taskcountsresult/@Element"
    assert set(counts.json()) == {"odata.metadata", "taskCounts", "taskSlotCounts"}
    assert "etag" not in counts.headers and "etag" not in subs.headers
    assert subs.json()["odata.metadata"] == f"{BASE}/$metadata#subtaskinfo"


async def test_stats_are_int64_strings(sim: Simulator) -> None:
    async with client(sim) as c:
        r = await get(c, "/jobs/render-shot-0000", **{"$expand": "stats"})
        t = await get(c, "/jobs/render-shot-0000/tasks", **{"$expand": "stats", "maxresults": 3})
    stats = r.json()["stats"]
    for name in ("readIOps", "writeIOps", "numSucceededTasks", "numFailedTasks", "numTaskRetries"):
        assert isinstance(stats[name], str) and stats[name].isdigit(), name
    assert isinstance(stats["readIOGiB"], float)
    assert stats["wallClockTime"].startswith("P")
    for task in t.json()["value"]:
        assert isinstance(task["stats"]["readIOps"], str)


async def test_client_request_id_echoed_only_when_asked(sim: Simulator) -> None:
    cid = "9C4D50EE-2D56-4CD3-8152-34347DC9F2B0"
    async with client(sim) as c:
        asked = await c.get(
            "/jobs",
            params={"api-version": API, "maxresults": 1},
            headers={"client-request-id": cid, "return-client-request-id": "true"},
        )
        not_asked = await c.get(
            "/jobs", params={"api-version": API, "maxresults": 1}, headers={"client-request-id": cid}
        )
    assert asked.headers["client-request-id"] == cid
    assert "client-request-id" not in not_asked.headers


async def test_paging_jobs_follows_absolute_next_links(sim: Simulator) -> None:
    async with client(sim) as c:
        everything = (await get(c, "/jobs")).json()
        assert "odata.nextLink" not in everything
        paged, links = await get_all(c, "/jobs", maxresults=7)
    ids = [j["id"] for j in everything["value"]]
    assert [j["id"] for j in paged] == ids
    assert len(links) == (len(ids) - 1) // 7
    for link in links:
        assert link.startswith(f"{BASE}/jobs?")
        assert "%24skiptoken=" in link or "$skiptoken=" in link
        assert "maxresults=7" in link


async def test_paging_tasks_keeps_filter_and_select(sim: Simulator) -> None:
    async with client(sim) as c:
        whole, _ = await get_all(c, "/jobs/render-shot-0000/tasks")
        paged, links = await get_all(
            c,
            "/jobs/render-shot-0000/tasks",
            maxresults=2,
            **{"$select": "id,state", "$filter": "state ne 'active'"},
        )
    assert links, "expected more than one page"
    assert [t["id"] for t in paged] == [t["id"] for t in whole if t["state"] != "active"]
    assert all(set(t) == {"id", "state"} for t in paged)


async def test_subtasks_page_when_larger_than_max_page() -> None:
    sim = Simulator(SimConfig(seed=11, jobs=4, instances=40, time_scale=0, max_page=10))
    async with client(sim) as c:
        subs, links = await get_all(c, "/jobs/mpi-cfd-0001/tasks/solver-00/subtasksinfo")
        old = await c.get(
            "/jobs/mpi-cfd-0001/tasks/solver-00/subtasksinfo", params={"api-version": "2024-02-01.19.0"}
        )
    assert [s["id"] for s in subs] == list(range(1, 40))
    assert len(links) == 3
    # 2024-02-01.19.0 and older declared the operation non-pageable: one answer holds them all
    assert "odata.nextLink" not in old.json() and len(old.json()["value"]) == 39


async def test_select_returns_only_the_named_properties(sim: Simulator) -> None:
    async with client(sim) as c:
        jobs = (await get(c, "/jobs", **{"$select": "id,state,executionInfo"})).json()
        job = (await get(c, "/jobs/render-shot-0000", **{"$select": "id,priority"})).json()
        subs = (
            await get(c, "/jobs/mpi-cfd-0001/tasks/solver-00/subtasksinfo", **{"$select": "id,state"})
        ).json()
    assert all(set(j) <= {"id", "state", "executionInfo"} and "id" in j for j in jobs["value"])
    assert set(job) == {"odata.metadata", "id", "priority"}
    assert all(set(s) == {"id", "state"} for s in subs["value"])


async def _ids(sim: Simulator, path: str, flt: str) -> list[str]:
    async with client(sim) as c:
        items, _ = await get_all(c, path, **{"$filter": flt})
    return [i["id"] for i in items]


async def test_job_filters(sim: Simulator) -> None:
    async with client(sim) as c:
        jobs = (await get(c, "/jobs")).json()["value"]
    state = {j["id"]: j["state"] for j in jobs}
    assert set(state.values()) >= {"active", "completed"}
    assert await _ids(sim, "/jobs", "state eq 'active'") == [i for i, s in state.items() if s == "active"]
    assert await _ids(sim, "/jobs", "state ne 'completed'") == [
        i for i, s in state.items() if s != "completed"
    ]
    assert await _ids(sim, "/jobs", "startswith(id,'mpi-')") == [i for i in state if i.startswith("mpi-")]
    assert await _ids(sim, "/jobs", "startswith(id,'MPI-') eq true") == [
        i for i in state if i.startswith("mpi-")
    ]
    assert await _ids(sim, "/jobs", "startswith(id,'mpi-') eq false") == [
        i for i in state if not i.startswith("mpi-")
    ]
    both = await _ids(sim, "/jobs", "startswith(id, 'render') and state eq 'active'")
    assert both == [i for i, s in state.items() if i.startswith("render") and s == "active"]
    either = await _ids(sim, "/jobs", "state eq 'disabled' or state eq 'terminating'")
    assert either == [i for i, s in state.items() if s in ("disabled", "terminating")] and either
    nested = await _ids(sim, "/jobs", "(state eq 'active' or state eq 'completed') and startswith(id,'etl')")
    assert nested == [i for i, s in state.items() if s in ("active", "completed") and i.startswith("etl")]


async def test_task_filters(sim: Simulator) -> None:
    job = "/jobs/etl-nightly-0003/tasks"
    async with client(sim) as c:
        tasks, _ = await get_all(c, job)
    results = {t["id"]: (t["state"], t["executionInfo"].get("result")) for t in tasks}
    assert await _ids(sim, job, "state eq 'running'") == [
        i for i, (s, _) in results.items() if s == "running"
    ]
    assert await _ids(sim, job, "executionInfo/result eq 'failure'") == [
        i for i, (_, r) in results.items() if r == "failure"
    ]
    assert await _ids(sim, job, "state eq 'completed' and executionInfo/result eq 'success'") == [
        i for i, (s, r) in results.items() if s == "completed" and r == "success"
    ]
    assert await _ids(sim, job, "executionInfo/result eq 'failure' or state eq 'active'") == [
        i for i, (s, r) in results.items() if r == "failure" or s == "active"
    ]


@pytest.mark.parametrize(
    ("path", "flt"),
    [
        ("/jobs", "priority gt 100"),  # date-time fields are served since issue 15.1; priority is not
        ("/jobs", "state eq 'sleeping'"),
        ("/jobs", "state eq active"),
        ("/jobs", "state eq 'active' and"),
        ("/jobs", "substringof('x', id)"),
        ("/jobs", "startswith(id,'x') eq 'yes'"),
        ("/jobs", "not (state eq 'active')"),
        ("/jobs", "executionInfo/result eq 'failure'"),  # a task property, not a job one
        ("/jobs/render-shot-0000/tasks", "state gt 'active'"),
        ("/jobs/render-shot-0000/tasks", "(state eq 'running'"),
    ],
)
async def test_unsupported_filters_are_refused_not_ignored(sim: Simulator, path: str, flt: str) -> None:
    async with client(sim) as c:
        r = await get(c, path, **{"$filter": flt})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidQueryParameterValue"
    values = {v["key"]: v["value"] for v in body["values"]}
    assert values["QueryParameterName"] == "$filter"
    assert values["QueryParameterValue"] == flt
    assert values["Reason"]


async def _error(sim: Simulator, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with client(sim) as c:
        r = await c.get(path, params=params)
    assert r.headers["content-type"] == "application/json; odata=minimalmetadata"
    body = r.json()
    assert body["odata.metadata"].endswith(
        "$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
    )
    assert body["message"]["lang"] == "en-US"
    m = ERROR_TAIL.search(body["message"]["value"])
    assert m and m.group(1) == r.headers["request-id"]
    return r.status_code, body


async def test_not_found_errors(sim: Simulator) -> None:
    status, body = await _error(sim, "/jobs/no-such-job", {"api-version": API})
    assert (status, body["code"]) == (404, "JobNotFound")
    assert body["message"]["value"].startswith("The specified job does not exist.\nRequestId:")
    status, body = await _error(sim, "/jobs/no-such-job/tasks", {"api-version": API})
    assert (status, body["code"]) == (404, "JobNotFound")
    status, body = await _error(sim, "/jobs/render-shot-0000/tasks/no-such-task", {"api-version": API})
    assert (status, body["code"]) == (404, "TaskNotFound")
    status, body = await _error(sim, "/jobs/render-shot-0000/tasks/nope/subtasksinfo", {"api-version": API})
    assert (status, body["code"]) == (404, "TaskNotFound")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "MaxResults cannot be less than 1"),
        ("-5", "MaxResults cannot be less than 1"),
        ("1001", "MaxResults cannot be greater than 1000"),
        ("ten", "MaxResults must be an integer"),
    ],
)
async def test_maxresults_out_of_range(sim: Simulator, value: str, reason: str) -> None:
    status, body = await _error(sim, "/jobs", {"api-version": API, "maxresults": value})
    assert status == 400 and body["code"] == "InvalidQueryParameterValue"
    assert body["values"] == [
        {"key": "QueryParameterName", "value": "maxresults"},
        {"key": "QueryParameterValue", "value": value},
        {"key": "Reason", "value": reason},
    ]
    # the same shape the real service recorded for maxresults=-5
    recorded = _recorded("recorded_js_error_InvalidQueryParameterValue.json")["ResponseBody"]
    assert [v["key"] for v in recorded["values"]] == [v["key"] for v in body["values"]]


async def test_api_version_missing_or_unknown(sim: Simulator) -> None:
    status, body = await _error(sim, "/jobs", {})
    assert (status, body["code"]) == (400, "MissingRequiredQueryParameter")
    status, body = await _error(sim, "/jobs", {"api-version": "2099-01-01.99.0"})
    assert (status, body["code"]) == (400, "UnsupportedRequestVersion")


@pytest.mark.parametrize(
    "version", ["2023-11-01.18.0", "2024-02-01.19.0", "2024-07-01.20.0", "2025-06-01", "2025-06-01.21.0"]
)
async def test_supported_api_versions(sim: Simulator, version: str) -> None:
    async with client(sim) as c:
        r = await c.get("/jobs", params={"api-version": version, "maxresults": 1})
    assert r.status_code == 200


async def test_query_names_are_case_insensitive(sim: Simulator) -> None:
    async with client(sim) as c:
        r = await c.get("/jobs", params={"api-version": API, "timeOut": "30", "MaxResults": "2"})
    assert r.status_code == 200 and len(r.json()["value"]) == 2


async def test_other_verbs_and_paths(sim: Simulator) -> None:
    async with client(sim) as c:
        post = await c.post("/jobs", params={"api-version": API})
        unknown = await c.get("/certificates", params={"api-version": API})  # removed in 2025-06-01
    assert post.status_code == 405 and post.json()["code"] == "UnsupportedHttpVerb"
    assert unknown.status_code == 404 and unknown.json()["code"] == "ResourceNotFound"


async def test_etag_follows_state_so_conditional_gets_never_hide_a_change() -> None:
    sim = Simulator(SimConfig(seed=11, jobs=3, time_scale=0))
    async with client(sim) as c:
        first = await get(
            c, "/jobs/render-shot-0000/tasks", maxresults=1, **{"$filter": "state ne 'completed'"}
        )
        task = first.json()["value"][0]
        path = f"/jobs/render-shot-0000/tasks/{task['id']}"
        etag = (await get(c, path)).headers["etag"]
        same = await c.get(path, params={"api-version": API}, headers={"If-None-Match": etag})
        assert same.status_code == 304
        for _ in range(1000):
            if (await get(c, path)).json()["state"] != task["state"]:
                break
            sim.clock.advance(30)
        changed = await c.get(path, params={"api-version": API}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["lastModified"] == task["lastModified"]  # only API changes move lastModified
