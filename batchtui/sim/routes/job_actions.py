"""The job and task actions: terminate, disable and enable a job; terminate, reactivate and
delete a task (NEXT-APIS §4).

Each answers as the recordings do (202 for the job actions, 204 for terminate and reactivate,
200 for delete, never a body; DataServiceId, ETag and Last-Modified where the service sends
them), refuses what the entity's state does not allow with the service's 409 codes, and records
what it did in the world's overlay, from which every later read follows. Which 409 a given state
gets is UNCONFIRMED except TaskCompleted (NEXT-APIS §8.4): the choices below are the error
table's closest codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchtui.sim import history
from batchtui.sim.asgi import BatchHTTPError, Request, Response
from batchtui.sim.overlay import DISABLE, DISABLE_MODES, ENABLE, REACTIVATE, TERMINATE, WAIT, JobOp, TaskOp
from batchtui.sim.routes import common
from batchtui.sim.routing import Router
from batchtui.sim.schedule import SUCCESS, JobPlan, TaskSpec
from batchtui.sim.wire import job_version, task_modified, task_version

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator

STOP_DELAY = 1.0  # sim seconds the service takes to stop the tasks running under an action
# Job states that refuse a change, and with what (terminating/deleting/completed jobs are done).
ENDED = {"completed": "JobCompleted", "terminating": "JobBeingTerminated", "deleting": "JobBeingDeleted"}


def register(router: Router) -> None:
    router.post("/jobs/{job_id}/terminate", terminate_job)
    router.post("/jobs/{job_id}/disable", disable_job)
    router.post("/jobs/{job_id}/enable", enable_job)
    router.post("/jobs/{job_id}/tasks/{task_id}/terminate", terminate_task)
    router.post("/jobs/{job_id}/tasks/{task_id}/reactivate", reactivate_task)
    router.delete("/jobs/{job_id}/tasks/{task_id}", delete_task)


# ------------------------------------------------------------------------------------ jobs


def terminate_job(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    _flag(request, "force")  # force also skips a running job release task: none runs here
    body = request.json()
    reason = _text(body, "terminateReason") if body is not None else None
    state = _job_ready(sim, request, plan, t)
    if state in ENDED:
        raise BatchHTTPError(409, ENDED[state])
    settle = STOP_DELAY if _running(sim, plan, t) else 0.0
    sim.world.record_job_op(plan, JobOp(t, TERMINATE, reason or "", settle))
    return _job_accepted(sim, request, plan, t)


def disable_job(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    body = request.json()
    if body is None or "disableTasks" not in body:
        raise BatchHTTPError(400, "MissingRequiredProperty", [("PropertyName", "disableTasks")])
    mode = body["disableTasks"]
    if mode not in DISABLE_MODES:
        raise BatchHTTPError(
            400, "InvalidPropertyValue", [("PropertyName", "disableTasks"), ("PropertyValue", str(mode))]
        )
    state = _job_ready(sim, request, plan, t)
    if state in ENDED:
        raise BatchHTTPError(409, ENDED[state])
    if state == "enabling":
        raise BatchHTTPError(409, "JobNotActive")
    if state == "active":  # already disabling or disabled: accepted, nothing more happens
        settle = _wait_for(sim, plan, t) if mode == WAIT else STOP_DELAY if _running(sim, plan, t) else 0.0
        sim.world.record_job_op(plan, JobOp(t, DISABLE, mode, settle))
    return _job_accepted(sim, request, plan, t)


def enable_job(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    state = _job_ready(sim, request, plan, t)
    if state in ENDED:
        raise BatchHTTPError(409, ENDED[state])
    if state not in ("disabling", "disabled"):
        raise BatchHTTPError(409, "OperationInvalidForCurrentState")
    # Nothing has to stop: the job is active again at once and its waiting tasks follow.
    sim.world.record_job_op(plan, JobOp(t, ENABLE))
    return _job_accepted(sim, request, plan, t)


def _job_ready(sim: Simulator, request: Request, plan: JobPlan, t: float) -> str:
    """The job's state, once its conditional headers have been checked (412 if one fails)."""
    view = sim.world.job_view(plan, t)
    version = job_version(view)
    common.write_conditions(request, sim.timebase.etag(version), sim.timebase.epoch(version))
    return view.state


def _job_accepted(sim: Simulator, request: Request, plan: JobPlan, t: float) -> Response:
    view = sim.world.job_view(plan, t)
    return common.action_answer(
        request,
        202,
        etag=sim.timebase.etag(job_version(view)),
        last_modified=sim.timebase.http_date(view.last_modified),
    )


def _running(sim: Simulator, plan: JobPlan, t: float) -> bool:
    return sim.world.counts(plan, t)[0].running > 0


def _wait_for(sim: Simulator, plan: JobPlan, t: float) -> float:
    """disableTasks=wait: the job stays disabling until the tasks running now have finished."""
    world = sim.world
    ends = [
        history.in_progress_end(history.run_at(world.runs(plan, spec), t), t)
        for spec in world.visible_tasks(plan, t)
    ]
    return max((end - t for end in ends if end is not None), default=0.0)


# ------------------------------------------------------------------------------------ tasks


def terminate_task(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    plan, spec, job_state, state, _ = _task_ready(sim, request, job_id, task_id, t)
    if job_state == "deleting":
        raise BatchHTTPError(409, "JobBeingDeleted")
    if state == "completed":
        raise BatchHTTPError(409, "TaskCompleted")
    if job_state == "completed":
        raise BatchHTTPError(409, "JobCompleted")
    sim.world.record_task_op(plan, spec, TaskOp(t, TERMINATE))
    return _task_changed(sim, request, plan, spec, t, data_service_id=True)


def reactivate_task(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    plan, spec, job_state, state, outcome = _task_ready(sim, request, job_id, task_id, t)
    if state != "completed":
        raise BatchHTTPError(409, "TaskNotCompleted")
    if outcome == SUCCESS:
        raise BatchHTTPError(409, "TaskSucceeded")
    if job_state in ENDED:
        raise BatchHTTPError(409, ENDED[job_state])
    sim.world.record_task_op(plan, spec, TaskOp(t, REACTIVATE))
    # The recorded reactivate answer carries an ETag and Last-Modified but no DataServiceId.
    return _task_changed(sim, request, plan, spec, t, data_service_id=False)


def delete_task(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    plan, spec, job_state, _, _ = _task_ready(sim, request, job_id, task_id, t)
    if job_state == "deleting":
        raise BatchHTTPError(409, "JobBeingDeleted")
    # Gone at once; a multi-instance task's ranks (and every file) go with it.
    sim.world.delete_task(plan.id, spec.id)
    return Response(200, None, {})


def _task_ready(
    sim: Simulator, request: Request, job_id: str, task_id: str, t: float
) -> tuple[JobPlan, TaskSpec, str, str, str | None]:
    """(job, task, job state, task state, outcome) once the task's conditions hold."""
    plan = common.find_job(sim, job_id, t)
    spec = common.find_task(sim, plan, task_id, t)
    view = sim.world.task_view(plan, spec, t)
    version = task_version(view)
    common.write_conditions(request, sim.timebase.etag(version), sim.timebase.epoch(version))
    return plan, spec, sim.world.job_view(plan, t).state, view.state, view.outcome


def _task_changed(
    sim: Simulator, request: Request, plan: JobPlan, spec: TaskSpec, t: float, *, data_service_id: bool
) -> Response:
    view = sim.world.task_view(plan, spec, t)
    return common.action_answer(
        request,
        204,
        etag=sim.timebase.etag(task_version(view)),
        last_modified=sim.timebase.http_date(task_modified(view)),
        data_service_id=data_service_id,
    )


# ------------------------------------------------------------------------------------ bodies


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BatchHTTPError(
            400, "InvalidPropertyValue", [("PropertyName", name), ("PropertyValue", str(value))]
        )
    return value


def _flag(request: Request, name: str) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise BatchHTTPError(
            400,
            "InvalidQueryParameterValue",
            [
                ("QueryParameterName", name),
                ("QueryParameterValue", raw),
                ("Reason", "The value must be true or false"),
            ],
        )
    return raw.lower() == "true"
