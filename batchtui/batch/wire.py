"""Reading the Batch wire format into immutable models: field metadata and one generic parse.

A model is a frozen, slotted dataclass whose fields say where they come from::

    @dataclass(frozen=True, slots=True)
    class Job(WireModel):
        where: ClassVar[str] = "job"
        id: str | None = wire("id", text)
        max_wall_clock_time: timedelta | None = wire("constraints", "maxWallClockTime", span)

``wire(*path, conv)`` names the wire key (a longer path walks into nested objects, each of
which must be an object or absent) and the converter of its value. ``Job.parse(d)`` reads
every field in one loop; a null or absent value is the field's default.

Why tolerant (the service's habits): ``$select`` drops properties the spec calls required,
enum values are added over time (every enum is ``modelAsString``), int64 fields arrive as JSON
strings and timestamps carry up to 7 fractional digits. So every field is optional, enums stay
plain text and the only exception a parse raises is :class:`ModelError`, naming the field
(``task.executionInfo.failureInfo.code: expected a string, got list``).

Why this shape (bench/models_parse.py, figures in bench/README.md): each model's steps are
compiled into one straight-line function, the path of a field is built only when its value is
wrong, and the service's own date-time form goes through ``datetime.fromisoformat``: about
2.5x less CPU than the hand-written parsers, with the same objects. msgspec decodes 5-10x
faster still, but fails a whole page holding a lone surrogate, reads no number as text, rounds
the 7th fractional digit, refuses ``P1Y`` and cannot flatten ``constraints.maxWallClockTime``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Self, TypeVar

from batchtui.batch.errors import ModelError

T = TypeVar("T")
M = TypeVar("M", bound="WireModel")

#: turns one non-null wire value into a field's value, or raises :class:`Bad`
Conv = Callable[[object], Any]

_META = "batchtui.wire"


class Bad(Exception):
    """A wrong value; ``path`` ("".nodeInfo", "[3]", ...) grows as it unwinds to the parse."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def at(self, where: str) -> ModelError:
        return ModelError(f"{where}{''.join(reversed(self.path))}: {self.reason}")


def _shown(value: object) -> str:
    return repr(str(value)[:40])


# --------------------------------------------------------------------------- scalars

_DT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
_DUR = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)


def when(value: object) -> datetime:
    """ISO-8601 UTC with any number of fractional digits (the service sends up to 7)."""
    if type(value) is str and len(value) == 28 and value[27] == "Z" and value[19] == ".":
        # The service's own form, 2026-02-03T01:09:18.3528274Z, is most of every page:
        # fromisoformat reads it (the 7th digit dropped, as below) in a fifth of the time.
        try:
            if value[10] == "T" and value[4] == value[7] == "-" and value[13] == value[16] == ":":
                return datetime.fromisoformat(value)
        except ValueError:
            pass  # the general reading says what is wrong
    if not isinstance(value, str):
        raise Bad(f"expected a date-time string, got {type(value).__name__}")
    m = _DT.match(value.strip())
    if not m:
        raise Bad(f"not an ISO-8601 date-time: {value[:40]!r}")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=UTC)
    except ValueError:
        raise Bad(f"invalid date-time {value[:40]!r}") from None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        try:
            dt = dt - sign * offset
        except OverflowError:
            raise Bad(f"date-time out of range {value[:40]!r}") from None
    return dt


#: durations read before: a page repeats a few (every task's "unlimited", its retention)
_SPANS: dict[str, timedelta] = {}


def span(value: object) -> timedelta:
    """ISO-8601 durations as .NET writes TimeSpans, e.g. ``P10675199DT2H48M5.4775807S``."""
    if type(value) is str:
        known = _SPANS.get(value)
        if known is not None:
            return known
        if len(_SPANS) >= 256:  # bounded, whatever a server sends
            _SPANS.clear()
        known = _SPANS[value] = _span(value)
        return known
    return _span(value)


def _span(value: object) -> timedelta:
    if not isinstance(value, str):
        raise Bad(f"expected a duration string, got {type(value).__name__}")
    m = _DUR.match(value.strip())
    if not m or value.strip() in ("P", "PT", "-P"):
        raise Bad(f"not an ISO-8601 duration: {value[:40]!r}")
    neg, years, months, weeks, days, hours, minutes, seconds = m.groups()
    total_days = float(years or 0) * 365 + float(months or 0) * 30 + float(weeks or 0) * 7 + float(days or 0)
    try:
        td = timedelta(
            days=total_days, hours=float(hours or 0), minutes=float(minutes or 0), seconds=float(seconds or 0)
        )
    except OverflowError:
        raise Bad(f"duration out of range {value[:40]!r}") from None
    return -td if neg else td


def integer(value: object) -> int:
    """int32 arrive as numbers, int64 as strings; accept both."""
    if isinstance(value, bool):
        raise Bad("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise Bad(f"expected an integer, got {_shown(value)}")


def number(value: object) -> float:
    if isinstance(value, bool):
        raise Bad("expected a number, got a boolean")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise Bad(f"expected a number, got {_shown(value)}")


def text(value: object) -> str:
    """A string; a number or boolean where text belongs is kept as the text it would be."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    raise Bad(f"expected a string, got {type(value).__name__}")


def flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Bad(f"expected a boolean, got {_shown(value)}")


def an_object(value: object) -> Mapping[str, Any]:
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise Bad(f"expected an object, got {'null' if value is None else type(value).__name__}")


def an_array(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    raise Bad(f"expected an array, got {type(value).__name__}")


def one(cls: type[M], keys: Mapping[str, str] | None = None) -> Conv:
    """A nested object read as the model ``cls`` (``keys``: wire keys that differ here)."""
    plan = None if keys is None else plan_of(cls, keys)

    def conv(value: object) -> M:
        return build(cls, an_object(value), plan)

    return conv


def many(cls: type[M], keys: Mapping[str, str] | None = None) -> Conv:
    """An array of objects, each read as the model ``cls``, as a tuple (absent: empty)."""
    plan = None if keys is None else plan_of(cls, keys)

    def conv(value: object) -> tuple[M, ...]:
        out = []
        for i, item in enumerate(an_array(value)):
            try:
                out.append(build(cls, an_object(item), plan))
            except Bad as bad:
                bad.path.append(f"[{i}]")
                raise
        return tuple(out)

    return conv


# --------------------------------------------------------------------------- models


def wire(*path: str, conv: Conv, default: Any = None) -> Any:
    """A model field read from ``path`` (nested keys) with ``conv``; null or absent: ``default``."""
    return dataclasses.field(default=default, metadata={_META: (path, conv)})


#: one field's reading: its key, the keys of the objects it is nested in, converter, default
_Step = tuple[str, tuple[str, ...], Conv, Any]


@dataclass(frozen=True, slots=True)
class Plan:
    """How one model is read: its steps, and the same steps compiled into one function."""

    steps: tuple[_Step, ...]
    fast: Callable[[Mapping[str, Any]], Any]


_PLANS: dict[type, Plan] = {}


def plan_of(cls: type, keys: Mapping[str, str] | None = None) -> Plan:
    """How ``cls`` is read; ``keys`` renames the last wire key of some fields (by field name):
    one model, two layouts (a node's errors carry ``errorDetails``, a pool's ``values``)."""
    steps = []
    for f in dataclasses.fields(cls):
        if _META not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} has no wire(...) metadata")
        path, conv = f.metadata[_META]
        key = keys.get(f.name, path[-1]) if keys else path[-1]
        steps.append((key, tuple(path[:-1]), conv, f.default))
    plan = Plan(tuple(steps), _compile(cls, tuple(steps)))
    if not keys:
        _PLANS[cls] = plan
    return plan


def _compile(cls: type, steps: tuple[_Step, ...]) -> Callable[[Mapping[str, Any]], Any]:
    """The steps as straight-line code, as dataclasses writes ``__init__``: a loop over the
    steps costs more than the reading itself on a page of 1,000 nodes (bench/models_parse.py).
    It raises :class:`Bad` with no path; :func:`build` then reads again step by step to name
    the field, so the fast path carries no bookkeeping."""
    env: dict[str, Any] = {"cls": cls, "nested": _nested, "text": text, "integer": integer}
    lines = ["def fast(d):", "    get = d.get"]
    objects: dict[tuple[str, ...], str] = {}
    for i, (key, parents, conv, default) in enumerate(steps):
        env[f"c{i}"], env[f"d{i}"] = conv, default
        source = "get"
        if parents:
            if parents not in objects:
                objects[parents] = source = f"o{len(objects)}"
                env[f"p{source}"] = parents
                lines.append(f"    {source} = nested(d, p{source}).get")
            source = objects[parents]
        if conv is text:
            read = "v if type(v) is str else text(v)"
        elif conv is integer:
            read = "v if type(v) is int else integer(v)"
        else:
            read = f"c{i}(v)"
        lines.append(f"    v = {source}({key!r})")
        lines.append(f"    f{i} = d{i} if v is None else {read}")
    lines.append(f"    return cls({', '.join(f'f{i}' for i in range(len(steps)))})")
    exec("\n".join(lines), env)  # noqa: S102 - our own field names and keys, no wire text
    fast: Callable[[Mapping[str, Any]], Any] = env["fast"]
    return fast


def _nested(d: Mapping[str, Any], parents: tuple[str, ...]) -> Mapping[str, Any]:
    for depth, key in enumerate(parents):
        value = d.get(key)
        if value is None:
            return {}
        if type(value) is not dict and not isinstance(value, Mapping):
            bad = Bad(f"expected an object, got {type(value).__name__}")
            bad.path = [f".{k}" for k in reversed(parents[: depth + 1])]
            raise bad
        d = value
    return d


def build(cls: type[M], d: Mapping[str, Any], plan: Plan | None = None) -> M:
    """The model ``cls`` read from the object ``d``; raises :class:`Bad` naming the field."""
    if plan is None:
        plan = _PLANS.get(cls) or plan_of(cls)
    try:
        made: M = plan.fast(d)
        return made
    except Bad:
        pass  # read again, step by step, to say which field
    values = []
    for key, parents, conv, default in plan.steps:
        value = (_nested(d, parents) if parents else d).get(key)
        if value is None:
            values.append(default)
            continue
        try:
            values.append(conv(value))
        except Bad as bad:
            bad.path.append(f".{key}")
            bad.path.extend(f".{p}" for p in reversed(parents))
            raise
    construct: Callable[..., M] = cls  # the dataclass's __init__, in field order
    return construct(*values)


class WireModel:
    """Base of the models: ``Cls.parse(d, where)`` reads one from a decoded JSON object."""

    __slots__ = ()
    #: how errors name an object of this model when it is parsed on its own
    where: ClassVar[str] = "object"

    @classmethod
    def parse(cls, d: Mapping[str, Any], where: str | None = None) -> Self:
        return parse_as(cls, d, cls.where if where is None else where)


def parse_as(cls: type[M], d: object, where: str, keys: Mapping[str, str] | None = None) -> M:
    """``cls`` read from ``d``, which must be an object; raises ModelError naming the field."""
    try:
        return build(cls, an_object(d), None if keys is None else plan_of(cls, keys))
    except Bad as bad:
        raise bad.at(where) from None


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list call; ``next_link`` is the absolute ``odata.nextLink`` or None."""

    items: tuple[T, ...]
    next_link: str | None = None


def require_object(body: object, where: str) -> Mapping[str, Any]:
    """The top of every response body must be a JSON object."""
    try:
        return an_object(body)
    except Bad as bad:
        raise bad.at(where) from None


def _page_body(body: object, where: str) -> tuple[list[Any], str | None]:
    obj = require_object(body, where)
    if "value" not in obj:
        raise ModelError(f"{where}: the response has no 'value' list")
    try:
        values = [] if obj["value"] is None else an_array(obj["value"])
    except Bad as bad:
        raise bad.at(f"{where}.value") from None
    link = obj.get("odata.nextLink")
    try:
        return values, None if link is None else text(link)
    except Bad as bad:
        raise bad.at(f"{where}.odata.nextLink") from None


def parse_page(body: object, item: Callable[[Mapping[str, Any], str], T], where: str) -> Page[T]:
    """A page whose items ``item(d, where)`` parses (raising ModelError)."""
    values, link = _page_body(body, where)
    items = tuple(
        item(require_object(v, f"{where}.value[{i}]"), f"{where}.value[{i}]") for i, v in enumerate(values)
    )
    return Page(items=items, next_link=link)


def model_page(body: object, cls: type[M], where: str) -> Page[M]:
    """A page of models: :func:`parse_page` without a path formatted for every item."""
    values, link = _page_body(body, where)
    items = []
    try:
        for i, v in enumerate(values):  # noqa: B007 - i names the item that failed
            items.append(build(cls, an_object(v)))
    except Bad as bad:
        raise bad.at(f"{where}.value[{i}]") from None
    return Page(items=tuple(items), next_link=link)
