"""``batchtui exporter`` against the simulator: ``/metrics`` as Prometheus reads it (parsed with
prometheus_client's own parser) equals what the simulator answers to direct client reads; the
reads happen on the refresh engine's clock (a ManualTimer the test moves), never on a scrape;
completed jobs leave after ``--completed-for``; an account that is down or hangs does not hold
up the others."""

from __future__ import annotations

import asyncio
import collections
import urllib.request
from collections.abc import Callable, Iterable
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sim_support import make_client, make_sim

from batchtui.batch.client import BatchClient
from batchtui.batch.models import Job
from batchtui.exporter.metrics import TASK_STATES
from batchtui.exporter.service import Account, Exporter
from batchtui.refresh.timer import ManualTimer
from batchtui.sim import Simulator

REFRESH = 15.0


def samples(text: str) -> dict[str, list[Sample]]:
    """Every sample of a /metrics body, by sample name, through prometheus_client's parser."""
    out: dict[str, list[Sample]] = collections.defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name].append(sample)
    return out


def by_labels(items: Iterable[Sample], *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[k] for k in keys): s.value for s in items}


async def until(condition: Callable[[], object], within: float = 20.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition(), f"timed out waiting for {condition}"


async def settle(exporter: Exporter, timer: ManualTimer) -> None:
    """Every account's loop has finished its poll and waits on the timer again."""
    await until(lambda: timer.sleeping >= len(exporter.handles) > 0)


async def step(exporter: Exporter, timer: ManualTimer, seconds: float = REFRESH) -> None:
    await settle(exporter, timer)
    timer.advance(seconds)
    await asyncio.sleep(0)
    await settle(exporter, timer)


def exporter_for(sims: Iterable[tuple[Simulator, BatchClient]], timer: ManualTimer, **kw: object) -> Exporter:
    accounts = [Account(s.config.account, c, now=s.clock.now) for s, c in sims]
    return Exporter(accounts, refresh=REFRESH, timer=timer, **kw)  # type: ignore[arg-type]


async def truth(client: BatchClient, cutoff_ok: Callable[[Job], bool]) -> dict[str, object]:
    """What a direct read of the account says: the exported jobs, their pools, states and counts."""
    jobs = [j for j in await client.list_jobs() if cutoff_ok(j)]
    counts = {j.id: await client.get_task_counts(j.id or "") for j in jobs}
    return {"jobs": jobs, "counts": counts, "pools": await client.list_pool_node_counts()}


async def scrape_http(url: str) -> str:
    def get() -> str:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            return r.read().decode()

    return await asyncio.to_thread(get)


async def test_metrics_over_http_equal_the_simulators_answers() -> None:
    sim = make_sim(jobs=30, time_scale=0)
    timer = ManualTimer()
    exporter = exporter_for([(sim, make_client(sim))], timer, completed_for=timedelta(days=3650))
    host, port = exporter.serve_http("127.0.0.1", 0)
    exporter.start()
    try:
        await settle(exporter, timer)
        got = samples(await scrape_http(f"http://{host}:{port}/metrics"))
        async with make_client(sim) as direct:
            want = await truth(direct, lambda j: True)
    finally:
        await exporter.aclose()
    jobs: list[Job] = want["jobs"]  # type: ignore[assignment]
    counts = want["counts"]
    assert len(jobs) >= 20
    account = sim.config.account
    assert by_labels(got["azure_batch_job_info"], "account", "job", "pool", "state") == {
        (account, j.id, j.effective_pool_id or "", j.state): 1.0 for j in jobs
    }
    tasks = by_labels(got["azure_batch_job_tasks"], "job", "state")
    slots = by_labels(got["azure_batch_job_task_slots"], "job", "state")
    assert set(tasks) == set(slots) == {(j.id, s) for j in jobs for s in TASK_STATES}
    for j in jobs:
        for state in TASK_STATES:
            assert tasks[(j.id, state)] == getattr(counts[j.id].task_counts, state)  # type: ignore[index]
            assert slots[(j.id, state)] == getattr(counts[j.id].task_slot_counts, state)  # type: ignore[index]
    assert by_labels(got["azure_batch_up"], "account") == {(account,): 1.0}
    assert len(got["azure_batch_last_success_timestamp_seconds"]) == 1
    # One list and one counts read per job, each counted under its call and status.
    assert by_labels(got["batchtui_requests_total"], "call", "status") == {
        ("list_jobs", "200"): 1.0,
        ("get_task_counts", "200"): float(len(jobs)),
        ("list_pool_node_counts", "200"): 1.0,
    }


async def test_scrapes_never_call_the_account_and_reads_follow_the_engines_clock() -> None:
    sim = make_sim(jobs=12, time_scale=0)
    timer = ManualTimer()
    exporter = exporter_for([(sim, make_client(sim))], timer)
    exporter.start()
    try:
        await settle(exporter, timer)
        first = len(sim.requests)
        assert first > 0
        for _ in range(10):  # ten scrapers
            assert b"azure_batch_up" in exporter.scrape()
        assert len(sim.requests) == first
        for _ in range(8):
            await step(exporter, timer)
        per_interval = (len(sim.requests) - first) / 8
    finally:
        await exporter.aclose()
    # Each interval: the list, plus the counts of jobs that can change (a frozen world's counts
    # never change, so the cadence spreads them out) — fewer than a full re-read.
    assert 1 <= per_interval < 1 + 12


async def test_completed_jobs_leave_after_completed_for() -> None:
    sim = make_sim(jobs=40, time_scale=0)
    async with make_client(sim) as direct:
        jobs = await direct.list_jobs()
    done = sorted(
        (j for j in jobs if j.state == "completed" and j.state_transition_time),
        key=lambda j: j.state_transition_time,  # type: ignore[arg-type,return-value]
    )
    assert len(done) >= 4
    now = sim.clock.now()
    # Keep the newer half of the completed jobs: cut between two of them.
    middle = done[len(done) // 2].state_transition_time
    assert middle is not None
    keep_for = now - middle + timedelta(seconds=1)
    timer = ManualTimer()
    seen: list[str] = []
    client = make_client(sim, on_event=lambda e: seen.append(e.url))
    exporter = exporter_for([(sim, client)], timer, completed_for=keep_for)
    exporter.start()
    try:
        await settle(exporter, timer)
        got = samples(exporter.scrape().decode())
        exported = {s.labels["job"] for s in got["azure_batch_job_info"]}
        recent = {j.id for j in jobs if j.state != "completed" or j.state_transition_time >= now - keep_for}  # type: ignore[operator]
        assert exported == recent
        assert {j.id for j in done[len(done) // 2 :]} <= exported
        assert not {j.id for j in done[: len(done) // 2 - 1]} & exported
        # The filter went to the service: old completed jobs are not even listed.
        assert any("stateTransitionTime+ge+DateTime" in u or "stateTransitionTime%20ge" in u for u in seen)
        counted = {u.split("/jobs/")[1].split("/")[0] for u in seen if "/taskcounts" in u}
        assert counted == recent
        # Time passes: every job completed before the new cutoff leaves, its counts with it.
        sim.clock.advance(keep_for.total_seconds())
        await step(exporter, timer)
        later = samples(exporter.scrape().decode())
        async with make_client(sim) as direct:
            now_jobs = await direct.list_jobs()  # the world moved on: new jobs, newly completed ones
        cutoff = sim.clock.now() - keep_for
        left = {s.labels["job"] for s in later["azure_batch_job_info"]}
        assert left == {
            j.id
            for j in now_jobs
            if j.state != "completed" or j.state_transition_time >= cutoff  # type: ignore[operator]
        }
        assert not {j.id for j in done} & left  # every job completed before the first read is gone
        assert {s.labels["job"] for s in later["azure_batch_job_tasks"]} <= left
    finally:
        await exporter.aclose()


class Hang(httpx.AsyncBaseTransport):
    """An account that never answers (a black-holed network)."""

    def __init__(self) -> None:
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_an_account_that_is_down_or_hangs_does_not_hold_up_the_others() -> None:
    good = make_sim(jobs=6, time_scale=0, account="good")
    down = make_sim(jobs=6, time_scale=0, account="down")
    hung = make_sim(jobs=6, time_scale=0, account="hung")
    down.faults.outage(3600)  # 503 ServerBusy to everything
    hang = Hang()
    timer = ManualTimer()
    exporter = exporter_for(
        [(good, make_client(good)), (down, make_client(down)), (hung, make_client(hung, transport=hang))],
        timer,
    )
    exporter.start()
    try:
        good_feed, down_feed, hung_feed = exporter.feeds
        await until(lambda: good_feed.polls >= 1 and down_feed.polls >= 1 and hang.sent >= 1)
        for n in range(2, 6):
            timer.advance(REFRESH)
            await until(lambda n=n: good_feed.polls >= n)
        got = samples(exporter.scrape().decode())
    finally:
        await exporter.aclose()
    assert by_labels(got["azure_batch_up"], "account") == {("good",): 1.0, ("down",): 0.0, ("hung",): 0.0}
    assert {s.labels["account"] for s in got["azure_batch_last_success_timestamp_seconds"]} == {"good"}
    assert {s.labels["account"] for s in got["azure_batch_job_info"]} == {"good"}
    assert hung_feed.polls == 0 and hang.sent == 1  # still waiting on its first answer
    requests = by_labels(got["batchtui_requests_total"], "account", "call", "status")
    assert requests[("down", "list_jobs", "503")] >= 1
    assert not any(k[0] == "hung" for k in requests)  # no answer, nothing finished yet


async def test_requests_total_matches_what_the_simulator_served() -> None:
    sim = make_sim(jobs=10, time_scale=0, error_rate=0.3, throttle_rate=0.2)

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    client = make_client(sim, attempts=3, sleep=no_wait)
    timer = ManualTimer()
    exporter = exporter_for([(sim, client)], timer)
    exporter.start()
    try:
        for _ in range(6):
            await step(exporter, timer)
        got = samples(exporter.scrape().decode())
    finally:
        await exporter.aclose()

    def call_of(path: str) -> str:
        if path == "/nodecounts":
            return "list_pool_node_counts"
        return "get_task_counts" if path.endswith("/taskcounts") else "list_jobs"

    served = collections.Counter((call_of(r.path), str(r.status)) for r in sim.requests)
    assert by_labels(got["batchtui_requests_total"], "call", "status") == {
        k: float(v) for k, v in served.items()
    }
    assert {s for _, s in served} >= {"200", "429"}


class RefusesTimeFilters(httpx.AsyncBaseTransport):
    """A service that does not take the exporter's completed-for $filter (400, as the real one
    answers a filter it cannot parse), and otherwise is the simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.filters: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/jobs":
            query = request.url.params.get("$filter")
            self.filters.append(query)
            if query and query.startswith("state ne 'completed' or stateTransitionTime"):
                body = b'{"odata.metadata":"x","code":"InvalidQueryParameterValue","message":{"lang":"en-US","value":"Value for one of the query parameters specified in the request URI is invalid."}}'
                return httpx.Response(400, content=body, headers={"content-type": "application/json"})
        return await self.inner.handle_async_request(request)


async def test_a_service_that_refuses_the_time_filter_gets_every_job_listed_and_trimmed_here() -> None:
    sim = make_sim(jobs=30, time_scale=0)
    transport = RefusesTimeFilters(sim)
    keep_for = timedelta(minutes=30)
    timer = ManualTimer()
    exporter = exporter_for([(sim, make_client(sim, transport=transport))], timer, completed_for=keep_for)
    exporter.start()
    try:
        await settle(exporter, timer)
        await step(exporter, timer)
        got = samples(exporter.scrape().decode())
    finally:
        await exporter.aclose()
    async with make_client(sim) as direct:
        jobs = await direct.list_jobs()
    cutoff = sim.clock.now() - keep_for
    want = {j.id for j in jobs if j.state != "completed" or j.state_transition_time >= cutoff}  # type: ignore[operator]
    assert want != {j.id for j in jobs}  # some completed jobs are old enough to leave
    assert {s.labels["job"] for s in got["azure_batch_job_info"]} == want
    assert by_labels(got["azure_batch_up"], "account") == {(sim.config.account,): 1.0}
    # Asked once with the filter, then the whole list without it, then what changed since.
    assert transport.filters[0] is not None and transport.filters[0].startswith("state ne 'completed'")
    assert transport.filters[1] is None
    assert transport.filters[2:] and all(f and f.startswith("lastModified ge") for f in transport.filters[2:])


def test_label_values_from_the_service_are_escaped_and_parse_back_as_they_were() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from batchtui.batch.models import TaskCounts, TaskCountsResult
    from batchtui.exporter.metrics import FeedView, families
    from batchtui.exporter.poller import AccountSnapshot, PoolCounts

    odd = 'a"b\\c\nd\x1b[31m}{,=é'
    snapshot = AccountSnapshot(
        jobs=(Job(id=odd, state="active", pool_id=odd),),
        counts={odd: TaskCountsResult(TaskCounts(active=3, failed=1), TaskCounts(active=6, failed=2))},
        pools=(PoolCounts(odd, {"idle": 2, "unusable": 1}, {"preempted": 4}),),
        jobs_ok=True,
        pools_ok=True,
    )
    view = FeedView(odd, snapshot, True, 1.5e9, {("list_jobs", "200"): 2})

    class One:
        def collect(self) -> list:  # type: ignore[type-arg]
            return families([view])

    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())  # type: ignore[arg-type]
    got = samples(generate_latest(registry).decode())
    assert by_labels(got["azure_batch_job_tasks"], "account", "job", "state")[(odd, odd, "failed")] == 1.0
    assert by_labels(got["azure_batch_job_task_slots"], "job", "state")[(odd, "active")] == 6.0
    assert by_labels(got["azure_batch_job_info"], "job", "pool", "state") == {(odd, odd, "active"): 1.0}
    assert by_labels(got["azure_batch_pool_nodes"], "pool", "kind", "state") == {
        (odd, "dedicated", "idle"): 2.0,
        (odd, "dedicated", "unusable"): 1.0,
        (odd, "lowPriority", "preempted"): 4.0,
    }
    assert by_labels(got["batchtui_requests_total"], "account", "call", "status") == {
        (odd, "list_jobs", "200"): 2.0
    }


async def test_a_deleted_job_leaves_by_the_next_full_list_at_the_latest() -> None:
    from batchtui.exporter.poller import FULL_LIST_SECONDS

    sim = make_sim(jobs=20, time_scale=0)
    timer = ManualTimer()
    exporter = exporter_for([(sim, make_client(sim))], timer, completed_for=timedelta(days=3650))
    exporter.start()
    try:
        await settle(exporter, timer)
        before = {s.labels["job"] for s in samples(exporter.scrape().decode())["azure_batch_job_info"]}
        async with make_client(sim) as direct:
            jobs = await direct.list_jobs()
        # A completed job: its counts are never read again, so only a list can tell it is gone.
        gone = next(j.id for j in jobs if j.state == "completed")
        assert gone in before and sim.delete_job(gone)
        ticks = 0
        while gone in {s.labels["job"] for s in samples(exporter.scrape().decode())["azure_batch_job_info"]}:
            await step(exporter, timer)
            ticks += 1
            assert ticks * REFRESH <= FULL_LIST_SECONDS, "still exported after a full list"
        after = {s.labels["job"] for s in samples(exporter.scrape().decode())["azure_batch_job_info"]}
    finally:
        await exporter.aclose()
    assert after == before - {gone}
    assert ticks >= 1


async def test_ten_scrapers_between_two_reads_cost_one_render() -> None:
    import gzip

    sim = make_sim(jobs=10, time_scale=0)
    timer = ManualTimer()
    exporter = exporter_for([(sim, make_client(sim))], timer)
    host, port = exporter.serve_http("127.0.0.1", 0)
    exporter.start()
    url = f"http://{host}:{port}/metrics"

    def get(encoding: str | None) -> tuple[str | None, bytes]:
        request = urllib.request.Request(url, headers={"Accept-Encoding": encoding} if encoding else {})
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - loopback
            return r.headers.get("Content-Encoding"), r.read()

    try:
        await settle(exporter, timer)
        assert exporter.http is not None
        before = exporter.http.renders
        plain = [await asyncio.to_thread(get, None) for _ in range(10)]
        zipped = [await asyncio.to_thread(get, "gzip") for _ in range(10)]
        assert exporter.http.renders - before == 2  # one per negotiated form
        assert {enc for enc, _ in plain} == {None} and {enc for enc, _ in zipped} == {"gzip"}
        assert len({body for _, body in plain}) == 1
        assert gzip.decompress(zipped[0][1]) == plain[0][1]
        assert plain[0][1] == exporter.scrape()
        await step(exporter, timer)  # a read: the next scrape renders afresh
        _, after = await asyncio.to_thread(get, None)
        assert exporter.http.renders - before == 3 and after == exporter.scrape()
    finally:
        await exporter.aclose()
