"""The routing table: method + path pattern -> handler, and the checks every Batch call gets.

A route module writes handlers ``handler(sim, request, **path_params) -> Response`` and
registers them on a :class:`Router` (see ``routes/__init__.py``)::

    router.get("/jobs/{job_id}", get_job)
    router.head("/jobs/{job_id}/tasks/{task_id}/files/{file_path:path}", file_properties)

A pattern segment ``{name}`` matches one path segment (percent-decoded), ``{name:path}`` (last
only) the rest of the path, slashes included. Before a handler runs the router answers what the
service answers for every operation: a missing or unknown api-version, a malformed timeout, a
path nothing serves (404), a method the path does not take (405 with Allow), and the list-only
OData options on operations that do not list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from batchtui.sim import odata
from batchtui.sim.asgi import BatchHTTPError, Request, Response
from batchtui.sim.config import API_VERSIONS

Handler = Callable[..., Response]  # (sim, request, **path_params) -> Response
LIST_OPTIONS = ("$filter", "$skiptoken")  # only operations that list (or page) accept these
VERSION_ORDER = {v: i for i, v in enumerate(API_VERSIONS)}


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    handler: Handler
    serves: frozenset[str]  # which of LIST_OPTIONS the operation takes

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for k, part in enumerate(self.pattern):
            if part.endswith(":path}"):
                if k >= len(segments):
                    return None
                params[part[1:-6]] = "/".join(segments[k:])
                return params
            if k >= len(segments):
                return None
            if part.startswith("{"):
                params[part[1:-1]] = segments[k]
            elif part != segments[k]:
                return None
        return params if len(segments) == len(self.pattern) else None


def _parse_pattern(pattern: str) -> tuple[str, ...]:
    parts = tuple(p for p in pattern.split("/") if p)
    for k, part in enumerate(parts):
        if part.startswith("{") or part.endswith("}"):
            name = part[1:-1].removesuffix(":path")
            if not (part.startswith("{") and part.endswith("}") and name.isidentifier()):
                raise ValueError(f"route {pattern!r}: bad parameter {part!r}")
            if part.endswith(":path}") and k != len(parts) - 1:
                raise ValueError(f"route {pattern!r}: a {{name:path}} parameter must come last")
    return parts


def _shape(parts: tuple[str, ...]) -> tuple[str, ...]:
    """A pattern with its parameter names left out: two routes of one shape would collide."""
    return tuple(("{:path}" if p.endswith(":path}") else "{}") if p.startswith("{") else p for p in parts)


class Router:
    """Routes in registration order; the first that matches method and path serves it."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, *, serves: Iterable[str] = ()) -> None:
        parts = _parse_pattern(pattern)
        method = method.upper()
        if any(r.method == method and _shape(r.pattern) == _shape(parts) for r in self.routes):
            raise ValueError(f"route {method} {pattern} is registered twice")
        unknown = set(serves) - set(LIST_OPTIONS)
        if unknown:
            raise ValueError(f"route {method} {pattern}: serves unknown options {sorted(unknown)}")
        self.routes.append(Route(method, parts, handler, frozenset(serves)))

    def get(self, pattern: str, handler: Handler, *, serves: Iterable[str] = ()) -> None:
        self.add("GET", pattern, handler, serves=serves)

    def head(self, pattern: str, handler: Handler) -> None:
        self.add("HEAD", pattern, handler)

    def post(self, pattern: str, handler: Handler) -> None:
        self.add("POST", pattern, handler)

    def delete(self, pattern: str, handler: Handler) -> None:
        self.add("DELETE", pattern, handler)

    def resolve(self, request: Request) -> tuple[Route, dict[str, str]]:
        """The route serving the request and its path parameters; 404 or 405 if none."""
        allowed: list[str] = []
        for route in self.routes:
            params = route.match(request.segments)
            if params is None:
                continue
            if route.method == request.method:
                return route, params
            if route.method not in allowed:
                allowed.append(route.method)
        if not allowed:
            raise BatchHTTPError(404, "ResourceNotFound")
        raise BatchHTTPError(405, "UnsupportedHttpVerb", headers={"Allow": ", ".join(allowed)})

    def dispatch(self, sim: Any, request: Request) -> Response:
        _check_version_and_timeout(request)
        route, params = self.resolve(request)
        for name in LIST_OPTIONS:
            if name in request.query and name not in route.serves:
                raise BatchHTTPError(
                    400,
                    "UnsupportedQueryParameter",
                    [
                        ("QueryParameterName", name),
                        ("QueryParameterValue", request.query[name]),
                        ("Reason", f"{name} is not supported on this operation"),
                    ],
                )
        try:
            return route.handler(sim, request, **params)
        except odata.QueryError as exc:
            raise BatchHTTPError(
                400,
                exc.code,
                [
                    ("QueryParameterName", exc.parameter),
                    ("QueryParameterValue", exc.value),
                    ("Reason", exc.reason),
                ],
            ) from exc


def _check_version_and_timeout(request: Request) -> None:
    version = request.query.get("api-version")
    if version is None or version == "":
        raise BatchHTTPError(400, "MissingRequiredQueryParameter", [("QueryParameterName", "api-version")])
    if version not in VERSION_ORDER:
        raise BatchHTTPError(
            400,
            "UnsupportedRequestVersion",
            [("QueryParameterName", "api-version"), ("QueryParameterValue", version)],
        )
    timeout = request.query.get("timeout")
    if timeout is not None and not timeout.lstrip("-").isdigit():
        raise BatchHTTPError(
            400,
            "InvalidQueryParameterValue",
            [
                ("QueryParameterName", "timeout"),
                ("QueryParameterValue", timeout),
                ("Reason", "The value must be an integer"),
            ],
        )
