"""Tasks: list, get, and the subtasks (ranks) of a multi-instance task."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from batchtui.sim import odata
from batchtui.sim.asgi import Request, Response
from batchtui.sim.config import FIRST_PAGED_SUBTASKS_VERSION
from batchtui.sim.routes import common
from batchtui.sim.routing import LIST_OPTIONS, VERSION_ORDER, Router
from batchtui.sim.wire import task_modified, task_version

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator


def register(router: Router) -> None:
    router.get("/jobs/{job_id}/tasks", list_tasks, serves=LIST_OPTIONS)
    router.get("/jobs/{job_id}/tasks/{task_id}", get_task)
    # pages by rank through $skiptoken from FIRST_PAGED_SUBTASKS_VERSION on; never filters
    router.get("/jobs/{job_id}/tasks/{task_id}/subtasksinfo", list_subtasks, serves=("$skiptoken",))


def list_tasks(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    stats = common.expand(request)
    after = common.after(request)
    r = common.renderer(sim, request)

    def rendered() -> Iterator[dict[str, Any]]:
        for spec in sim.world.visible_tasks(plan, t):
            if after is None or spec.id > after:
                yield r.task(plan, sim.world.task_view(plan, spec, t), t, stats=stats)

    return common.paged(
        sim,
        request,
        rendered(),
        properties=odata.TASK_PROPERTIES,
        filter_fields=odata.TASK_FILTER_FIELDS,
        metadata="tasks",
        path=f"/jobs/{plan.id}/tasks",
    )


def get_task(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    spec = common.find_task(sim, plan, task_id, t)
    select = common.select(request, odata.TASK_PROPERTIES)
    r = common.renderer(sim, request)
    view = sim.world.task_view(plan, spec, t)
    d = r.task(plan, view, t, stats=common.expand(request))
    etag = d["eTag"]
    headers = {"ETag": etag, "Last-Modified": sim.timebase.http_date(task_modified(view))}
    cond = common.conditional(request, etag, sim.timebase.epoch(task_version(view)))
    if cond is not None:
        return cond
    body = {"odata.metadata": r.metadata("tasks/@Element"), **d}
    return Response(200, odata.apply_select(body, select), headers)


def list_subtasks(sim: Simulator, request: Request, job_id: str, task_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    spec = common.find_task(sim, plan, task_id, t)
    select = common.select(request, odata.SUBTASK_PROPERTIES)
    version = request.query["api-version"]
    paged = VERSION_ORDER[version] >= VERSION_ORDER[FIRST_PAGED_SUBTASKS_VERSION]
    size = sim.config.max_page if paged else 1 << 30
    token = request.query.get("$skiptoken")
    after = -1
    if token is not None:
        text = odata.read_skiptoken(token)
        if not text.isdigit():
            raise odata.QueryError("$skiptoken", token, "The skip token is not valid")
        after = int(text)
    r = common.renderer(sim, request)
    views = [v for v in sim.world.subtask_views(plan, spec, t) if v.spec.id > after]
    page = views[:size]
    body: dict[str, Any] = {
        "odata.metadata": r.metadata("subtaskinfo"),
        "value": [odata.apply_select(r.subtask(plan, spec, v), select) for v in page],
    }
    if len(views) > size:
        body["odata.nextLink"] = common.next_link(
            request, f"/jobs/{plan.id}/tasks/{spec.id}/subtasksinfo", str(page[-1].spec.id)
        )
    return Response(200, body, {})
