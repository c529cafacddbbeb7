"""The simulator's job and task actions on the wire, signed by the tests' own Shared Key signer:
statuses, headers and bodies as recorded (NEXT-APIS §4, tests/data/actions/), the service's
refusals, bad bodies, conditional headers, and Content-Length under the signature."""

from __future__ import annotations

import email.utils
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_sim_support import API, BASE, ERROR_TAIL, SharedKey, client, get, sign

from batchtui.sim import SimConfig, Simulator

DATA = Path(__file__).parent / "data" / "actions"


def frozen(**kw: Any) -> Simulator:
    kw.setdefault("seed", 7)
    kw.setdefault("jobs", 20)
    return Simulator(SimConfig(time_scale=0, **kw))


async def post(c: httpx.AsyncClient, path: str, body: Any = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    kind = {"Content-Type": "application/json; odata=minimalmetadata"}
    return await c.post(path, params={"api-version": API}, content=content, headers={**kind, **headers})


def recorded(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads((DATA / name).read_text())["Entries"][0]
    return entry


def state_of(sim: Simulator, job_id: str) -> str:
    plan = sim.world.plan(job_id)
    assert plan is not None
    return sim.world.job_view(plan, sim.clock.seconds()).state


def first_job(sim: Simulator, state: str) -> str:
    return next(j for j in sim.job_ids() if state_of(sim, j) == state and not j.startswith("mpi"))


def running_task(sim: Simulator, job_id: str) -> str:
    plan = sim.world.plan(job_id)
    assert plan is not None
    t = sim.clock.seconds()
    return next(
        s.id for s in sim.world.visible_tasks(plan, t) if sim.world.task_view(plan, s, t).state == "running"
    )


# ------------------------------------------------------------------------------------ answers


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "status"),
    [
        ("recorded_js_Jobs_TerminateJob.json", "POST", "/jobs/{job}/terminate", None, 202),
        ("recorded_js_Jobs_DisableJob.json", "POST", "/jobs/{job}/disable", {"disableTasks": "requeue"}, 202),
        ("recorded_js_Tasks_TerminateTask.json", "POST", "/jobs/{job}/tasks/{task}/terminate", None, 204),
        ("recorded_js_Tasks_DeleteTask.json", "DELETE", "/jobs/{job}/tasks/{task}", None, 200),
    ],
)
async def test_answers_carry_what_the_recordings_carry(
    name: str, method: str, path: str, body: Any, status: int
) -> None:
    sim = frozen()
    job = first_job(sim, "active")
    url = path.format(job=job, task=running_task(sim, job))
    rec = recorded(name)
    assert rec["StatusCode"] == status
    async with client(sim) as c:
        if method == "POST":
            r = await post(c, url, body)
        else:
            r = await c.delete(url, params={"api-version": API})
        assert r.status_code == status, r.text
        assert r.content == b"" and r.headers["content-length"] == "0"
        wanted = {"DataServiceId", "ETag", "Last-Modified", "request-id"} & set(rec["ResponseHeaders"])
        assert {h for h in wanted if h in r.headers} == wanted
        absent = {"DataServiceId", "ETag", "Last-Modified"} - set(rec["ResponseHeaders"])
        assert not any(h in r.headers for h in absent)
        if "DataServiceId" in wanted:
            assert r.headers["DataServiceId"] == f"{BASE}{url}"
        if "ETag" in wanted and "/tasks/" not in url:
            after = await get(c, f"/jobs/{job}")
            assert after.headers["ETag"] == r.headers["ETag"] == after.json()["eTag"]
            assert after.headers["Last-Modified"] == r.headers["Last-Modified"]


async def test_reactivate_answers_without_a_data_service_id() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    task = running_task(sim, job)
    rec = recorded("recorded_js_Tasks_ReactivateTask.json")
    assert "DataServiceId" not in rec["ResponseHeaders"] and rec["StatusCode"] == 204
    async with client(sim) as c:
        assert (await post(c, f"/jobs/{job}/tasks/{task}/terminate")).status_code == 204
        r = await post(c, f"/jobs/{job}/tasks/{task}/reactivate")
        assert r.status_code == 204 and "DataServiceId" not in r.headers
        after = await get(c, f"/jobs/{job}/tasks/{task}")
        assert after.headers["ETag"] == r.headers["ETag"]
        info = after.json()["executionInfo"]
        assert after.json()["state"] == "active" and info["retryCount"] == 0
        assert "exitCode" not in info and "failureInfo" not in info and "result" not in info


async def test_a_terminated_job_goes_terminating_then_completed_with_its_reason() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    async with client(sim) as c:
        r = await post(c, f"/jobs/{job}/terminate", {"terminateReason": "bad input: rerun tomorrow"})
        assert r.status_code == 202
        now = (await get(c, f"/jobs/{job}")).json()
        assert now["state"] == "terminating" and now["previousState"] == "active"
        assert "terminateReason" not in now["executionInfo"]
        sim.clock.advance(5)
        done = (await get(c, f"/jobs/{job}")).json()
        assert (done["state"], done["previousState"]) == ("completed", "terminating")
        assert done["executionInfo"]["terminateReason"] == "bad input: rerun tomorrow"
        assert done["lastModified"] == now["lastModified"]  # the terminate changed it, not the clock
        # the tasks it was running are stopped, as a terminated job's are
        tasks = (await get(c, f"/jobs/{job}/tasks")).json()["value"]
        assert "running" not in {t["state"] for t in tasks}


async def test_without_a_reason_it_is_user_terminate_and_force_is_accepted() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    async with client(sim) as c:
        r = await c.post(f"/jobs/{job}/terminate", params={"api-version": API, "force": "true"})
        assert r.status_code == 202
        sim.clock.advance(5)
        assert (await get(c, f"/jobs/{job}")).json()["executionInfo"]["terminateReason"] == "UserTerminate"
        bad = await c.post(f"/jobs/{job}/terminate", params={"api-version": API, "force": "maybe"})
        assert (bad.status_code, bad.json()["code"]) == (400, "InvalidQueryParameterValue")


# ------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("state", "action", "body", "code"),
    [
        ("completed", "terminate", None, "JobCompleted"),
        ("terminating", "terminate", None, "JobBeingTerminated"),
        ("deleting", "terminate", None, "JobBeingDeleted"),
        ("completed", "disable", {"disableTasks": "wait"}, "JobCompleted"),
        ("deleting", "disable", {"disableTasks": "wait"}, "JobBeingDeleted"),
        ("active", "enable", None, "OperationInvalidForCurrentState"),
        ("completed", "enable", None, "JobCompleted"),
    ],
)
async def test_a_job_in_the_wrong_state_refuses_in_the_services_words(
    state: str, action: str, body: Any, code: str
) -> None:
    sim = frozen()
    job = first_job(sim, state)
    async with client(sim) as c:
        r = await post(c, f"/jobs/{job}/{action}", body)
        assert r.status_code == 409 and r.json()["code"] == code
        assert ERROR_TAIL.search(r.json()["message"]["value"])
    assert state_of(sim, job) == state


async def test_disabling_a_disabled_job_is_accepted_and_changes_nothing() -> None:
    sim = frozen()
    job = first_job(sim, "disabled")
    async with client(sim) as c:
        before = (await get(c, f"/jobs/{job}")).json()
        r = await post(c, f"/jobs/{job}/disable", {"disableTasks": "requeue"})
        assert r.status_code == 202 and r.headers["ETag"] == before["eTag"]
        assert (await get(c, f"/jobs/{job}")).json() == before


async def test_task_refusals() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    plan = sim.world.plan(job)
    assert plan is not None
    t = sim.clock.seconds()
    views = [sim.world.task_view(plan, s, t) for s in sim.world.visible_tasks(plan, t)]
    ok = next(v.spec.id for v in views if v.state == "completed" and v.outcome == "success")
    running = next(v.spec.id for v in views if v.state == "running")
    async with client(sim) as c:
        for task, action, code in (
            (ok, "terminate", "TaskCompleted"),
            (ok, "reactivate", "TaskSucceeded"),
            (running, "reactivate", "TaskNotCompleted"),
        ):
            r = await post(c, f"/jobs/{job}/tasks/{task}/{action}")
            assert (r.status_code, r.json()["code"]) == (409, code), (task, action)
        gone = await post(c, f"/jobs/{job}/tasks/no-such-task/terminate")
        assert (gone.status_code, gone.json()["code"]) == (404, "TaskNotFound")
        nojob = await post(c, "/jobs/no-such-job/terminate")
        assert (nojob.status_code, nojob.json()["code"]) == (404, "JobNotFound")


async def test_bad_bodies() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    async with client(sim) as c:
        missing = await post(c, f"/jobs/{job}/disable")
        assert (missing.status_code, missing.json()["code"]) == (400, "MissingRequiredProperty")
        assert {"key": "PropertyName", "value": "disableTasks"} in missing.json()["values"]
        wrong = await post(c, f"/jobs/{job}/disable", {"disableTasks": "later"})
        assert (wrong.status_code, wrong.json()["code"]) == (400, "InvalidPropertyValue")
        garbled = await c.post(f"/jobs/{job}/terminate", params={"api-version": API}, content=b"{not json")
        assert (garbled.status_code, garbled.json()["code"]) == (400, "InvalidRequestBody")
        reason = await post(c, f"/jobs/{job}/terminate", {"terminateReason": 7})
        assert (reason.status_code, reason.json()["code"]) == (400, "InvalidPropertyValue")
        verb = await get(c, f"/jobs/{job}/terminate")
        assert (verb.status_code, verb.headers["Allow"]) == (405, "POST")
    assert state_of(sim, job) == "active"  # nothing refused changed anything


# ------------------------------------------------------------------------------------ headers


async def test_if_match_quoted_or_bare_and_a_mismatch_is_412() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    task = running_task(sim, job)
    async with client(sim) as c:
        etag = (await get(c, f"/jobs/{job}/tasks/{task}")).headers["ETag"]
        stale = await post(c, f"/jobs/{job}/tasks/{task}/terminate", **{"If-Match": '"0x8D0000000000000"'})
        assert (stale.status_code, stale.json()["code"]) == (412, "ConditionNotMet")
        assert (
            await post(c, f"/jobs/{job}/tasks/{task}/terminate", **{"If-Match": f'"{etag}"'})
        ).status_code == 204
        again = (await get(c, f"/jobs/{job}/tasks/{task}")).headers["ETag"]
        assert (
            await post(c, f"/jobs/{job}/tasks/{task}/reactivate", **{"If-Match": again})
        ).status_code == 204
        # a read answers 304 to its own ETag, quoted as azure-batch 15 sends it
        read = await c.get(f"/jobs/{job}", params={"api-version": API})
        cached = await c.get(
            f"/jobs/{job}",
            params={"api-version": API},
            headers={"If-None-Match": f'"{read.headers["ETag"]}"'},
        )
        assert cached.status_code == 304


async def test_content_length_is_signed() -> None:
    sim = frozen()
    job = first_job(sim, "active")
    body = json.dumps({"disableTasks": "requeue"}).encode()
    url = f"{BASE}/jobs/{job}/disable?api-version={API}"
    headers = {
        "ocp-date": email.utils.formatdate(usegmt=True),
        "Content-Type": "application/json; odata=minimalmetadata",
        "Content-Length": str(len(body)),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim)) as c:
        unsigned_length = {**headers, "Content-Length": ""}
        forged = sign("POST", url, unsigned_length, sim.config.account, sim.config.key)
        r = await c.post(url, content=body, headers={**headers, "Authorization": forged})
        assert (r.status_code, r.json()["code"]) == (403, "AuthenticationFailed")
        assert state_of(sim, job) == "active"
        good = sign("POST", url, headers, sim.config.account, sim.config.key)
        assert (
            await c.post(url, content=body, headers={**headers, "Authorization": good})
        ).status_code == 202
    assert state_of(sim, job) in ("disabling", "disabled")


async def test_the_same_requests_at_the_same_instants_give_the_same_world() -> None:
    bodies = []
    for _ in range(2):
        sim = frozen()
        job = first_job(sim, "active")
        task = running_task(sim, job)
        async with client(sim, auth=SharedKey(sim.config.account, sim.config.key)) as c:
            await post(c, f"/jobs/{job}/tasks/{task}/terminate")
            sim.clock.advance(1)
            await post(c, f"/jobs/{job}/tasks/{task}/reactivate")
            await post(c, f"/jobs/{job}/disable", {"disableTasks": "requeue"})
            sim.clock.advance(30)
            await post(c, f"/jobs/{job}/enable")
            sim.clock.advance(600)
            tasks = (await get(c, f"/jobs/{job}/tasks")).json()["value"]
            bodies.append([{k: v for k, v in t.items() if k != "url"} for t in tasks])
    assert bodies[0] == bodies[1]
