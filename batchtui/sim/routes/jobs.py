"""Jobs: list, get, task counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from batchtui.sim import odata
from batchtui.sim.asgi import Request, Response
from batchtui.sim.routes import common
from batchtui.sim.routing import LIST_OPTIONS, Router
from batchtui.sim.wire import job_version

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator


def register(router: Router) -> None:
    router.get("/jobs", list_jobs, serves=LIST_OPTIONS)
    router.get("/jobs/{job_id}", get_job)
    router.get("/jobs/{job_id}/taskcounts", task_counts)


def list_jobs(sim: Simulator, request: Request) -> Response:
    t = sim.clock.seconds()
    stats = common.expand(request)
    after = common.after(request)
    r = common.renderer(sim, request)

    def rendered() -> Iterator[dict[str, Any]]:
        for job_id in sim.world.job_ids_after(t, after):
            plan = sim.world.plan(job_id)
            assert plan is not None
            yield r.job(sim.world.job_view(plan, t), t, stats=stats)

    return common.paged(
        sim,
        request,
        rendered(),
        properties=odata.JOB_PROPERTIES,
        filter_fields=odata.JOB_FILTER_FIELDS,
        metadata="jobs",
        path="/jobs",
    )


def get_job(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    select = common.select(request, odata.JOB_PROPERTIES)
    r = common.renderer(sim, request)
    view = sim.world.job_view(plan, t)
    d = r.job(view, t, stats=common.expand(request))
    etag = d["eTag"]
    headers = {"ETag": etag, "Last-Modified": sim.timebase.http_date(view.last_modified)}
    cond = common.conditional(request, etag, sim.timebase.epoch(job_version(view)))
    if cond is not None:
        return cond
    body = {"odata.metadata": r.metadata("jobs/@Element"), **d}
    return Response(200, odata.apply_select(body, select), headers)


def task_counts(sim: Simulator, request: Request, job_id: str) -> Response:
    t = sim.clock.seconds()
    plan = common.find_job(sim, job_id, t)
    counts, slots = sim.world.counts(plan, t - sim.config.count_lag)
    return Response(200, common.renderer(sim, request).counts(counts, slots), {})
