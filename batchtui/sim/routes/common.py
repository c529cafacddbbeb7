"""What many Batch operations share: paging, $select/$expand, conditional reads and 404s."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from batchtui.sim import odata
from batchtui.sim.asgi import BatchHTTPError, Request, Response
from batchtui.sim.schedule import JobPlan, TaskSpec
from batchtui.sim.wire import Renderer

if TYPE_CHECKING:
    from batchtui.sim.app import Simulator


def page_size(sim: Simulator, request: Request) -> int:
    raw = request.query.get("maxresults")
    if raw is None:
        return min(1000, sim.config.max_page)
    try:
        value = int(raw)
    except ValueError:
        raise odata.QueryError("maxresults", raw, "MaxResults must be an integer") from None
    if value < 1:
        raise odata.QueryError("maxresults", raw, "MaxResults cannot be less than 1")
    if value > 1000:
        raise odata.QueryError("maxresults", raw, "MaxResults cannot be greater than 1000")
    return min(value, sim.config.max_page)


def select(request: Request, properties: tuple[str, ...]) -> tuple[str, ...] | None:
    raw = request.query.get("$select")
    return None if raw is None else odata.parse_select(raw, properties)


def expand(request: Request) -> bool:
    raw = request.query.get("$expand")
    return False if raw is None else odata.parse_expand(raw)


def after(request: Request) -> Any:
    """The id a $skiptoken says the previous page ended at (None: the first page)."""
    token = request.query.get("$skiptoken")
    return odata.read_skiptoken(token) if token is not None else None


def next_link(request: Request, path: str, last_id: str) -> str:
    """The absolute nextLink: the request's own query with a new $skiptoken."""
    kept = [
        (k, v)
        for k, v in parse_qsl(request.query_string, keep_blank_values=True)
        if k.lower() != "$skiptoken"
    ]
    kept.append(("$skiptoken", odata.make_skiptoken(last_id)))
    return f"{request.base_url}{path}?{urlencode(kept, quote_via=quote)}"


def renderer(sim: Simulator, request: Request) -> Renderer:
    return Renderer(sim.world, sim.timebase, request.base_url)


def find_job(sim: Simulator, job_id: str, t: float) -> JobPlan:
    plan = sim.world.find_job(job_id, t)
    if plan is None:
        raise BatchHTTPError(404, "JobNotFound")
    return plan


def find_task(sim: Simulator, plan: JobPlan, task_id: str, t: float) -> TaskSpec:
    spec = sim.world.find_task(plan, task_id, t)
    if spec is None:
        raise BatchHTTPError(404, "TaskNotFound")
    return spec


def etags(header: str) -> set[str]:
    """The ETags a conditional header names: azure-batch 15 quotes the one it is given
    (``"0x8DE..."``) while the service sends it bare, so quotes (and a weak ``W/``) are dropped."""
    out = set()
    for part in header.split(","):
        tag = part.strip()
        tag = tag[2:] if tag.startswith(("W/", "w/")) else tag
        out.add(tag.strip('"'))
    return out


def conditional(request: Request, etag: str, modified_epoch: float) -> Response | None:
    """A 304 for a read whose If-None-Match/If-Modified-Since holds; 412 for a failed If-Match."""
    h = request.headers
    if "if-match" in h and not etags(h["if-match"]) & {"*", etag}:
        raise BatchHTTPError(412, "ConditionNotMet")
    if "if-unmodified-since" in h:
        since = http_date(h["if-unmodified-since"])
        if since is not None and int(modified_epoch) > since:
            raise BatchHTTPError(412, "ConditionNotMet")
    if "if-none-match" in h and etags(h["if-none-match"]) & {"*", etag}:
        return Response(304, None, {"ETag": etag})
    if "if-modified-since" in h:
        since = http_date(h["if-modified-since"])
        if since is not None and int(modified_epoch) <= since:
            return Response(304, None, {"ETag": etag})
    return None


def write_conditions(request: Request, etag: str, modified_epoch: float) -> None:
    """A state change goes ahead only if every conditional header holds; else 412 ConditionNotMet."""
    if conditional(request, etag, modified_epoch) is not None:
        raise BatchHTTPError(412, "ConditionNotMet")  # on a write, "not modified" is a failure too


def action_answer(
    request: Request,
    status: int,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    data_service_id: bool = True,
) -> Response:
    """The answer to an action: no body, ``DataServiceId`` (the URL acted on) unless the
    recorded answer has none, and the entity's ``ETag`` / ``Last-Modified`` where it sends them."""
    headers: dict[str, str] = {}
    if data_service_id:
        headers["DataServiceId"] = f"{request.base_url}{request.raw_path}"
    if etag is not None:
        headers["ETag"] = etag
    if last_modified is not None:
        headers["Last-Modified"] = last_modified
    return Response(status, None, headers)


def http_date(text: str) -> int | None:
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def paged(
    sim: Simulator,
    request: Request,
    rendered: Iterator[dict[str, Any]],
    *,
    properties: Any,
    filter_fields: Any,
    metadata: str,
    path: str,
) -> Response:
    """One page of a list call: $filter, maxresults, $select and the absolute nextLink."""
    size = page_size(sim, request)
    selected = select(request, properties)
    raw_filter = request.query.get("$filter")
    pred = odata.parse_filter(raw_filter, filter_fields) if raw_filter is not None else None
    value: list[dict[str, Any]] = []
    more = False
    for d in rendered:
        if pred is not None and not pred(d):
            continue
        if len(value) == size:
            more = True
            break
        value.append(d)
    body: dict[str, Any] = {
        "odata.metadata": renderer(sim, request).metadata(metadata),
        "value": [odata.apply_select(d, selected) for d in value],
    }
    if more:
        body["odata.nextLink"] = next_link(request, path, value[-1]["id"])
    return Response(200, body, {})
