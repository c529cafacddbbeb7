"""Parsing the wire into models (issue 10.5): the hand-written parsers, the field-metadata
parser, and msgspec, side by side in one run.

    python bench/models_parse.py [--repeat 7] [--baseline 25ea304]

Payloads are what the simulator serves, fully (no ``$select``): one page of 1,000 jobs, one
page of 1,000 nodes (the 1,000-node pool), and 5,000 tasks of the biggest job (5 pages).

- **hand-written**: ``batch/models.py`` and ``batch/pools.py`` as of ``--baseline`` (the last
  commit with the hand-written ``parse`` classmethods), read from git into fresh modules.
- **field metadata**: this checkout's ``batch/models.py``/``pools.py`` (``batch/wire.py``).
- **msgspec**: ``msgspec.Struct`` models with the same fields (nested objects as nested
  Structs: msgspec cannot flatten ``constraints.maxWallClockTime`` into a field), decoded
  straight from the bytes with ``strict=False`` (so int64 counters in strings are read).

Time is decode + parse from the response bytes (median of ``--repeat``, and this thread's CPU
time); ``json.loads`` alone is shown, since the first two pay it. Memory is what tracemalloc
sees: the parsed result kept (bytes still held by the models) and the peak while parsing.
Then the odd values the hostile-server tests send, through each of the three.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from harness import table  # noqa: E402

from batchtui.batch import models as new_models  # noqa: E402
from batchtui.batch import pools as new_pools  # noqa: E402
from batchtui.batch import task_models as new_tasks  # noqa: E402
from batchtui.batch.auth import SharedKeyAuth  # noqa: E402
from batchtui.sim import SimConfig, Simulator  # noqa: E402

try:  # not a dependency of batchtui (this benchmark is why): pip install msgspec
    import msgspec
    from msgspec_models import MSGSPEC
except ImportError:
    msgspec = None

# --------------------------------------------------------------------------- the three parsers


def baseline(rev: str) -> tuple[types.ModuleType, types.ModuleType]:
    """models.py and pools.py as of ``rev``, as modules of their own."""

    def load(name: str, path: str, patch: Callable[[str], str] = lambda s: s) -> types.ModuleType:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True, capture_output=True, text=True
        ).stdout
        mod = types.ModuleType(name)
        sys.modules[name] = mod  # dataclasses look their module up
        exec(compile(patch(src), f"{rev}:{path}", "exec"), mod.__dict__)  # noqa: S102 - our own source
        return mod

    models = load("baseline_models", "batchtui/batch/models.py")
    pools = load(
        "baseline_pools",
        "batchtui/batch/pools.py",
        lambda s: s.replace("from batchtui.batch.models import", "from baseline_models import"),
    )
    return models, pools


def dict_parsers(models: Any, pools: Any, tasks: Any = None) -> dict[str, Callable[[bytes], Any]]:
    """json.loads then the project's parser, as the client does (``tasks``: where the task
    parsers are, models.py before session 6)."""
    tasks = tasks or models
    return {
        "jobs": lambda b: models.parse_job_page(json.loads(b)),
        "tasks": lambda b: tasks.parse_task_page(json.loads(b)),
        "nodes": lambda b: pools.parse_node_page(json.loads(b)),
        "job": lambda b: models.parse_job(json.loads(b)),
        "task": lambda b: tasks.parse_task(json.loads(b)),
        "counts": lambda b: models.parse_task_counts(json.loads(b)),
    }


# --------------------------------------------------------------------------- payloads


async def payloads() -> dict[str, list[bytes]]:
    async def get(sim: Simulator, path: str, **params: Any) -> bytes:
        auth = SharedKeyAuth(sim.config.account, sim.config.key)
        transport = httpx.ASGITransport(app=sim)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765", auth=auth) as c:
            r = await c.get(path, params={"api-version": "2025-06-01", **params})
            r.raise_for_status()
            return r.content

    fleet = Simulator(SimConfig(seed=7, jobs=1100, instances=1000, time_scale=0))
    jobs = await get(fleet, "/jobs", maxresults=1000)
    nodes = await get(fleet, "/pools/pool-hpc-a/nodes", maxresults=1000)
    big = Simulator(SimConfig(seed=7, jobs=12, tasks=6000, time_scale=0))
    ids = [j["id"] for j in json.loads(await get(big, "/jobs"))["value"]]
    sizes = {}
    for job_id in ids:
        counts = json.loads(await get(big, f"/jobs/{job_id}/taskcounts"))["taskCounts"]
        sizes[job_id] = counts["active"] + counts["running"] + counts["completed"]
    biggest = max(sizes, key=lambda k: sizes[k])
    tasks: list[bytes] = []
    url = f"/jobs/{biggest}/tasks"
    params: dict[str, Any] = {"maxresults": 1000}
    while len(tasks) < 5:
        body = await get(big, url, **params)
        tasks.append(body)
        link = json.loads(body).get("odata.nextLink")
        if not link:
            break
        split = httpx.URL(link)
        url, params = split.path, dict(split.params)
        params.pop("api-version", None)
    return {"jobs": [jobs], "nodes": [nodes], "tasks": tasks}


# --------------------------------------------------------------------------- measuring


def timed(parse: Callable[[bytes], Any], bodies: list[bytes], repeat: int) -> tuple[float, float, int]:
    walls, cpus, n = [], [], 0
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.thread_time()
        pages = [parse(b) for b in bodies]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
        n = sum(len(p.items if hasattr(p, "items") else p.value) for p in pages)
        del pages
    return statistics.median(walls), statistics.median(cpus), n


def memory(parse: Callable[[bytes], Any], bodies: list[bytes]) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [parse(b) for b in bodies]
    gc.collect()
    now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return now - before, peak - before


def probes(parse: dict[str, Callable[[bytes], Any]]) -> list[str]:
    """The odd values of the hostile-server and model tests, each "ok" or what went wrong."""

    def enc(obj: object) -> bytes:
        return json.dumps(obj).encode()  # ensure_ascii: lone surrogates written "\\udfff"

    def attr(obj: Any, *names: str) -> Any:
        for name in names:
            obj = getattr(obj, name, None)
        return obj

    def counts(result: Any) -> Any:
        return result.task_counts

    cases: list[tuple[str, str, bytes, Callable[[Any], bool]]] = [
        (
            "unknown enum value kept as text",
            "job",
            enc({"id": "j", "state": "hibernating"}),
            lambda j: j.state == "hibernating",
        ),
        (
            "missing and null fields",
            "job",
            enc({"id": None, "executionInfo": None}),
            lambda j: j.id is None and j.execution_info is None,
        ),
        (
            "lone surrogates in a page: the page loads",
            "jobs",
            enc({"value": [{"id": "job-\udfff", "displayName": "n \ud800"}, {"id": "ok"}]}),
            lambda p: [j.id for j in attr(p, "items") or p.value] == ["job-\udfff", "ok"],
        ),
        (
            "300-digit count",
            "counts",
            enc({"taskCounts": {"active": int("9" * 300)}}),
            lambda r: counts(r).active == int("9" * 300),
        ),
        (
            "negative count",
            "counts",
            enc({"taskCounts": {"active": -5, "completed": -2}}),
            lambda r: counts(r).active == -5,
        ),
        (
            "int64 counter as a string",
            "task",
            enc({"id": "t", "stats": {"readIOps": "9223372036854775807"}}),
            lambda t: t.stats.read_iops == 2**63 - 1,
        ),
        ("number where text belongs", "job", enc({"id": 12}), lambda j: j.id == "12"),
        (
            "7 fractional digits truncated, as the tests pin",
            "job",
            enc({"lastModified": "2016-11-19T00:05:27.2137719Z"}),
            lambda j: j.last_modified.microsecond == 213771,
        ),
        (
            "TimeSpan.MaxValue",
            "task",
            enc({"constraints": {"maxWallClockTime": "P10675199DT2H48M5.4775807S"}}),
            lambda t: t.constraints.max_wall_clock_time.days == 10675199,
        ),
        (
            "a year-long duration (P1Y)",
            "task",
            enc({"constraints": {"retentionTime": "P1Y"}}),
            lambda t: t.constraints.retention_time.days == 365,
        ),
    ]
    out = []
    for _name, kind, body, check in cases:
        try:
            out.append("ok" if check(parse[kind](body)) else "wrong value")
        except Exception as exc:  # noqa: BLE001 - the probe reports what each parser does
            out.append(f"{type(exc).__name__}: {str(exc)[:38]}")
    try:
        parse["task"](enc({"id": "t", "nodeInfo": ["x"]}))
        out.append("accepted")
    except Exception as exc:  # noqa: BLE001
        out.append(str(exc)[:46])
    return out


PROBE_NAMES = [
    "unknown enum value kept as text",
    "missing and null fields",
    "lone surrogates in a page",
    "300-digit count",
    "negative count",
    "int64 counter as a string",
    "number where text belongs (id: 12)",
    "7 fractional digits: truncated (tests pin it)",
    "TimeSpan.MaxValue",
    "a year-long duration (P1Y)",
    "error for nodeInfo: [...]",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--baseline", default="25ea304", help="git revision of the hand-written parsers")
    args = ap.parse_args()

    old_models, old_pools = baseline(args.baseline)
    impls: dict[str, dict[str, Callable[[bytes], Any]]] = {
        f"hand-written ({args.baseline})": dict_parsers(old_models, old_pools),
        "field metadata (this tree)": dict_parsers(new_models, new_pools, new_tasks),
    }
    if msgspec is None:
        print("msgspec is not installed (pip install msgspec): its column is left out\n")
    else:
        impls[f"msgspec {msgspec.__version__}"] = MSGSPEC
    bodies = asyncio.run(payloads())
    rows = []
    for kind, label in (
        ("jobs", "1 page of jobs"),
        ("nodes", "1 page of nodes"),
        ("tasks", "5 pages of tasks"),
    ):
        mib = sum(len(b) for b in bodies[kind]) / 2**20
        loads_wall, loads_cpu, _ = timed(
            lambda b: types.SimpleNamespace(items=json.loads(b)["value"]), bodies[kind], args.repeat
        )
        for name, parse in impls.items():
            wall, cpu, n = timed(parse[kind], bodies[kind], args.repeat)
            kept, peak = memory(parse[kind], bodies[kind])
            rows.append(
                (
                    f"{label}: {n:,} ({mib:.1f} MiB)",
                    name,
                    f"{wall * 1000:,.1f} ms",
                    f"{cpu * 1000:,.1f} ms",
                    f"{kept / 2**20:,.1f} MiB",
                    f"{peak / 2**20:,.1f} MiB",
                )
            )
        rows.append(
            ("", "(json.loads alone)", f"{loads_wall * 1000:,.1f} ms", f"{loads_cpu * 1000:,.1f} ms", "", "")
        )
    print(
        table(
            "Decode + parse from the response bytes",
            ["payload", "parser", "wall (median)", "CPU", "kept", "peak"],
            rows,
        )
    )
    print()
    results = [probes(parse) for parse in impls.values()]
    print(
        table(
            "The odd values of the hostile-server tests",
            ["odd value", *impls],
            [(name, *(r[i] for r in results)) for i, name in enumerate(PROBE_NAMES)],
        )
    )


if __name__ == "__main__":
    main()
