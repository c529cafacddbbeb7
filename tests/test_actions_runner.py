"""The action runner: one send per target, the service's words when refused, an unknown outcome
re-read (never resent), read-only refused before the wire, every result with its request id."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
from test_client import Recorder, batch_error, make_client

from batchtui.batch import actions
from batchtui.refresh.actions import ActionPlan, ActionRunner, Target

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def plan(*task_ids: str, took_effect: bool | None = None) -> ActionPlan:
    async def effect(_client: object) -> bool:
        return bool(took_effect)

    return ActionPlan(
        "terminate task",
        tuple(
            Target(
                f"task {t} of job-1",
                lambda c, t=t: actions.terminate_task(c, "job-1", t),
                effect if took_effect is not None else None,
            )
            for t in task_ids
        ),
        "it stops",
    )


def ok204(request_id: str) -> httpx.Response:
    return httpx.Response(204, headers={"request-id": request_id})


async def test_each_target_is_sent_once_and_recorded_with_its_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder(
        ok204("rid-a"),
        batch_error(409, "TaskCompleted", "The specified task is already in a completed state."),
    )
    client, _ = make_client(rec)
    runner = ActionRunner(client, None, lambda: NOW)
    with caplog.at_level(logging.INFO, logger="batchtui.actions"):
        done, refused = await runner.run(plan("t1", "t2"))
    assert [r.method for r in rec.requests] == ["POST", "POST"]
    assert rec.requests[0].url.path == "/jobs/job-1/tasks/t1/terminate"
    assert (done.outcome, done.request_id) == ("done", "rid-a")
    assert refused.outcome == "refused" and refused.message.startswith("TaskCompleted: The specified task")
    assert refused.request_id == "rid-err"
    assert list(runner.history) == [done, refused]
    assert "request-id rid-a" in caplog.text and "request-id rid-err" in caplog.text


@pytest.mark.parametrize("answer", [batch_error(500, "InternalError", "boom"), httpx.ReadTimeout("slow")])
@pytest.mark.parametrize("happened", [True, False])
async def test_an_unknown_outcome_is_re_read_and_never_sent_again(answer: object, happened: bool) -> None:
    rec = Recorder(answer, ok204("never"))
    client, sleeps = make_client(rec)
    runner = ActionRunner(client, None, lambda: NOW)
    (record,) = await runner.run(plan("t1", took_effect=happened))
    assert len(rec.requests) == 1 and sleeps.calls == []
    if happened:
        assert record.outcome == "done" and "re-read shows it happened" in record.message
    else:
        assert record.outcome == "unknown" and record.message.endswith("not sent again")


async def test_a_read_only_client_sends_nothing_that_changes_state() -> None:
    rec = Recorder(httpx.Response(200, json={"value": []}))
    client, _ = make_client(rec, readonly=True)
    runner = ActionRunner(client, None, lambda: NOW)
    (record,) = await runner.run(plan("t1"))
    assert record.outcome == "read-only" and rec.requests == []
    # The client itself refuses too, whoever asks.
    with pytest.raises(actions.ReadOnlyError):
        await client._send("x", "DELETE", "https://acct.westeurope.batch.azure.com/jobs/j?api-version=1")
    assert rec.requests == []
    await client.list_jobs()  # reads still go
    assert [r.method for r in rec.requests] == ["GET"]


async def test_a_reader_role_403_says_so() -> None:
    rec = Recorder(batch_error(403, "Forbidden", "This request is not authorized to perform this operation."))
    client, _ = make_client(rec)
    (record,) = await ActionRunner(client, None, lambda: NOW).run(plan("t1"))
    assert record.outcome == "refused" and "may only read" in record.message


async def test_bodies_are_what_the_service_documents() -> None:
    rec = Recorder(httpx.Response(202, headers={"request-id": "r"}))
    client, _ = make_client(rec)
    await actions.terminate_job(client, "j 1", "operator stopped it")
    await actions.disable_job(client, "j", "requeue")
    await actions.reboot_node(client, "p", "n", "taskcompletion")
    await actions.disable_node_scheduling(client, "p", "n", "taskcompletion")
    await actions.remove_nodes(client, "p", ["n1"])
    await actions.delete_task(client, "j", "t")
    sent = [(r.method, r.url.raw_path.decode().split("?")[0], r.content) for r in rec.requests]
    assert sent == [
        ("POST", "/jobs/j%201/terminate", b'{"terminateReason":"operator stopped it"}'),
        ("POST", "/jobs/j/disable", b'{"disableTasks":"requeue"}'),
        ("POST", "/pools/p/nodes/n/reboot", b'{"nodeRebootOption":"taskcompletion"}'),
        ("POST", "/pools/p/nodes/n/disablescheduling", b'{"nodeDisableSchedulingOption":"taskcompletion"}'),
        (
            "POST",
            "/pools/p/removenodes",
            b'{"nodeList":["n1"],"resizeTimeout":"PT15M","nodeDeallocationOption":"requeue"}',
        ),
        ("DELETE", "/jobs/j/tasks/t", b""),
    ]
    assert rec.requests[0].headers["content-type"] == "application/json; odata=minimalmetadata"
