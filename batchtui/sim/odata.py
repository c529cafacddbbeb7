"""OData query options: ``$filter`` (the subset operators use), ``$select``, ``$expand``, ``$skiptoken``.

The ``$filter`` grammar here is deliberately small; anything outside it is refused with a
reason, because a filter that is silently ignored returns a wrong answer that looks right.

    expr    := and ( "or" and )*
    and     := atom ( "and" atom )*
    atom    := "(" expr ")" | "startswith(" path "," string ")" [ "eq" ("true"|"false") ]
             | path ("eq"|"ne") string
             | path ("eq"|"ne"|"gt"|"ge"|"lt"|"le") "DateTime" string    (date-time fields)
             | path ("eq"|"ne"|"gt"|"ge"|"lt"|"le") integer              (int fields)
    string  := "'" ( [^'] | "''" )* "'"

Date-times are written as the service's docs write them (batch-efficient-list-queries:
``stateTransitionTime gt DateTime'{0:o}'``, .NET's round-trip form with 7 fractional digits);
the ``DateTime`` prefix is matched case-insensitively, and a bare quoted date-time is taken
too (whether the service accepts one is UNCONFIRMED; tolerating both costs nothing here).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JOB_STATES = ("active", "disabling", "disabled", "enabling", "terminating", "completed", "deleting")
TASK_STATES = ("active", "preparing", "running", "completed")
RESULTS = ("success", "failure")

Predicate = Callable[[Mapping[str, Any]], bool]


class QueryError(ValueError):
    """A query option the simulator refuses; ``reason`` goes into the 400's ``values``."""

    def __init__(
        self, parameter: str, value: str, reason: str, code: str = "InvalidQueryParameterValue"
    ) -> None:
        super().__init__(reason)
        self.parameter = parameter
        self.value = value
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class Field:
    path: str  # canonical wire path, e.g. executionInfo/result
    ops: tuple[str, ...]  # eq, ne, startswith (and gt, ge, lt, le for date-times)
    values: tuple[str, ...] | None  # allowed literals (enums), or None for free text
    kind: str = "string"  # or "datetime": compared as instants; or "int" (a bare number)


TIME_OPS = ("eq", "ne", "gt", "ge", "lt", "le")


JOB_FILTER_FIELDS = (
    Field("state", ("eq", "ne"), JOB_STATES),
    Field("id", ("eq", "ne", "startswith"), None),
    Field("executionInfo/poolId", ("eq", "ne", "startswith"), None),
    # REFERENCE §2: the job list's date-time fields take eq, ne, ge, gt, le, lt.
    Field("lastModified", TIME_OPS, None, "datetime"),
    Field("stateTransitionTime", TIME_OPS, None, "datetime"),
    Field("creationTime", TIME_OPS, None, "datetime"),
    Field("executionInfo/startTime", TIME_OPS, None, "datetime"),
    Field("executionInfo/endTime", TIME_OPS, None, "datetime"),
)
TASK_FILTER_FIELDS = (
    Field("state", ("eq", "ne"), TASK_STATES),
    Field("executionInfo/result", ("eq", "ne"), RESULTS),
    Field("id", ("eq", "ne", "startswith"), None),
)

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<comma>,)|(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+)"
    r"|(?P<word>[A-Za-z_][\w/]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError("$filter", text, f"Unexpected character at position {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _get(entity: Mapping[str, Any], path: str) -> Any:
    cur: Any = entity
    for part in path.split("/"):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


class _Parser:
    def __init__(self, text: str, fields: tuple[Field, ...]) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.fields = {f.path.lower(): f for f in fields}

    def fail(self, reason: str) -> QueryError:
        return QueryError("$filter", self.text, reason)

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str, word: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (word is not None and tok[1].lower() != word):
            want = word or kind
            got = "end of filter" if tok is None else repr(tok[1])
            raise self.fail(f"Expected {want} but found {got}")
        self.i += 1
        return tok[1]

    def at_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def parse(self) -> Predicate:
        if not self.toks:
            raise self.fail("The filter is empty")
        pred = self.expr()
        if self.peek() is not None:
            raise self.fail(f"Unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def expr(self) -> Predicate:
        parts = [self.conj()]
        while self.at_word("or"):
            self.i += 1
            parts.append(self.conj())
        if len(parts) == 1:
            return parts[0]
        return lambda e: any(p(e) for p in parts)

    def conj(self) -> Predicate:
        parts = [self.atom()]
        while self.at_word("and"):
            self.i += 1
            parts.append(self.atom())
        if len(parts) == 1:
            return parts[0]
        return lambda e: all(p(e) for p in parts)

    def field(self, name: str, op: str) -> Field:
        f = self.fields.get(name.lower())
        if f is None:
            supported = ", ".join(x.path for x in self.fields.values())
            raise self.fail(
                f"The property '{name}' is not supported in $filter here (supported: {supported})"
            )
        if op not in f.ops:
            raise self.fail(f"The operator '{op}' is not supported for '{f.path}'")
        return f

    def literal(self, f: Field) -> str:
        raw = self.take("str")
        value = raw[1:-1].replace("''", "'")
        if f.values is not None and value not in f.values:
            raise self.fail(f"'{value}' is not a valid value for '{f.path}' (one of: {', '.join(f.values)})")
        return value

    def atom(self) -> Predicate:
        tok = self.peek()
        if tok is None:
            raise self.fail("Unexpected end of filter")
        if tok[0] == "lp":
            self.i += 1
            inner = self.expr()
            self.take("rp")
            return inner
        if tok[0] != "word":
            raise self.fail(f"Unexpected {tok[1]!r}")
        if tok[1].lower() == "startswith":
            self.i += 1
            self.take("lp")
            name = self.take("word")
            f = self.field(name, "startswith")
            self.take("comma")
            prefix = self.literal(f).lower()  # ids are case-insensitive
            self.take("rp")
            expect = True
            if self.at_word("eq"):  # OData v3 clients write `startswith(id,'x') eq true`
                self.i += 1
                word = self.take("word").lower()
                if word not in ("true", "false"):
                    raise self.fail(f"startswith(...) can only be compared with true or false, not {word!r}")
                expect = word == "true"
            return lambda e: str(_get(e, f.path) or "").lower().startswith(prefix) == expect
        if tok[1].lower() in ("not", "and", "or"):
            raise self.fail(f"The operator '{tok[1]}' is not supported here")
        name = self.take("word")
        op_tok = self.peek()
        if op_tok is None or op_tok[0] != "word":
            raise self.fail(f"Expected an operator after '{name}'")
        op = op_tok[1].lower()
        if op not in ("eq", "ne", "gt", "ge", "lt", "le"):
            raise self.fail(f"Unknown operator '{op_tok[1]}'")
        self.i += 1
        f = self.field(name, op)
        if f.kind == "datetime":
            return self.time_test(f, op)
        if f.kind == "int":
            return self.int_test(f, op)
        value = self.literal(f)
        fold = f.path == "id"
        if fold:
            value = value.lower()

        def test(e: Mapping[str, Any]) -> bool:
            got = _get(e, f.path)
            if fold and isinstance(got, str):
                got = got.lower()
            return bool(got == value)

        if op == "eq":
            return test
        return lambda e: not test(e)

    def int_test(self, f: Field, op: str) -> Predicate:
        """An integer property (``startTaskInfo/exitCode ne 0``); an absent one never matches."""
        number = float(self.take("num"))
        compare = _COMPARE[op]

        def test(e: Mapping[str, Any]) -> bool:
            got = _get(e, f.path)
            return isinstance(got, int) and not isinstance(got, bool) and compare(float(got), number)

        return test

    def time_test(self, f: Field, op: str) -> Predicate:
        if self.at_word("datetime"):
            self.i += 1
        raw = self.take("str")[1:-1]
        at = _instant(raw)
        if at is None:
            raise self.fail(f"'{raw}' is not a date-time for '{f.path}'")
        compare = _COMPARE[op]

        def test(e: Mapping[str, Any]) -> bool:
            got = _get(e, f.path)
            value = _instant(got) if isinstance(got, str) else None
            return value is not None and compare(value, at)

        return test


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def _instant(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date-time (up to 7 fractional digits, Z or offset)."""
    from datetime import UTC, datetime

    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(Z|[+-]\d\d:\d\d)?", text.strip())
    if m is None:
        return None
    try:
        base = datetime.fromisoformat(m.group(1) + (m.group(3) or "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    fraction = int((m.group(2) or "0").ljust(7, "0")) / 10_000_000
    return base.timestamp() + fraction


def parse_filter(text: str, fields: tuple[Field, ...]) -> Predicate:
    return _Parser(text, fields).parse()


# --------------------------------------------------------------------------- $select / $expand

JOB_PROPERTIES = (
    "id",
    "displayName",
    "usesTaskDependencies",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "constraints",
    "jobManagerTask",
    "jobPreparationTask",
    "jobReleaseTask",
    "commonEnvironmentSettings",
    "poolInfo",
    "onAllTasksComplete",
    "onTaskFailure",
    "networkConfiguration",
    "metadata",
    "executionInfo",
    "stats",
)
TASK_PROPERTIES = (
    "id",
    "displayName",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "exitConditions",
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "commandLine",
    "containerSettings",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "affinityInfo",
    "constraints",
    "requiredSlots",
    "userIdentity",
    "executionInfo",
    "nodeInfo",
    "multiInstanceSettings",
    "stats",
    "dependsOn",
    "applicationPackageReferences",
    "authenticationTokenSettings",
)
SUBTASK_PROPERTIES = (
    "id",
    "nodeInfo",
    "startTime",
    "endTime",
    "exitCode",
    "containerInfo",
    "failureInfo",
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "result",
)


def parse_select(text: str, properties: tuple[str, ...]) -> tuple[str, ...]:
    known = {p.lower(): p for p in properties}
    out = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        canon = known.get(name.lower())
        if canon is None:
            raise QueryError("$select", text, f"The property '{name}' does not exist on this resource")
        out.append(canon)
    if not out:
        raise QueryError("$select", text, "$select names no properties")
    return tuple(out)


def apply_select(entity: dict[str, Any], select: tuple[str, ...] | None) -> dict[str, Any]:
    if select is None:
        return entity
    return {k: v for k, v in entity.items() if k in select or k == "odata.metadata"}


def parse_expand(text: str) -> bool:
    """True when stats are asked for; stats is the only expandable property on jobs and tasks."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name.lower() != "stats":
            raise QueryError("$expand", text, f"The property '{name}' cannot be expanded")
    return bool(names)


# --------------------------------------------------------------------------- $skiptoken


def make_skiptoken(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def read_skiptoken(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise QueryError("$skiptoken", token, "The skip token is not valid") from exc
    if not text.startswith("after:"):
        raise QueryError("$skiptoken", token, "The skip token is not valid")
    return text[len("after:") :]
