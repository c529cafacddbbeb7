"""The pool, node and failure pollers against the simulator: what they read, in how many requests."""

from __future__ import annotations

from datetime import datetime

from sim_support import make_client, make_sim

from batchtui.batch.node_counts import PoolNodeCounts
from batchtui.batch.pools import Pool
from batchtui.refresh.failures import Failure, FailuresPoller, summarize
from batchtui.refresh.pools import (
    NodePoller,
    NodesPoller,
    PoolHealth,
    PoolHealthPoller,
    PoolsPoller,
    queued_hint,
)
from batchtui.sim import Simulator


def wire(sim: Simulator) -> list[str]:
    return [r.path for r in sim.requests]


async def test_pools_and_every_pools_counts_in_two_requests() -> None:
    sim = make_sim()
    async with make_client(sim) as client:
        snap = await PoolsPoller(client, sim.clock.now).poll("timer")
    assert wire(sim) == ["/pools", "/nodecounts"] or sorted(wire(sim)) == ["/nodecounts", "/pools"]
    assert [p.id for p in snap.pools] == sorted(snap.counts)
    assert snap.counts["pool-hpc-a"].get("startTaskFailed") == 1
    assert snap.counts["pool-render-spot"].low_priority.get("preempted") >= 1
    assert snap.counts["pool-render-spot"].sick >= 3  # preempted, and one offline


async def test_a_pool_of_a_thousand_nodes_is_one_page_and_selected() -> None:
    sim = make_sim(instances=1000)
    async with make_client(sim) as client:
        snap = await NodesPoller(client, "pool-hpc-a", sim.clock.now).poll("timer")
        per_node = client.stats.bytes_received / len(snap.nodes)
    assert len(snap.nodes) == 1000 and not snap.truncated
    assert sorted(wire(sim)) == ["/pools/pool-hpc-a", "/pools/pool-hpc-a/nodes"]
    assert all(n.recent_tasks == () for n in snap.nodes)  # not selected: the costly part
    assert per_node < 700  # id, state, start task info...: a narrow $select
    assert sum(n.sick for n in snap.nodes) >= 2


async def test_a_capped_node_list_says_it_was_cut() -> None:
    sim = make_sim(max_page=10)
    async with make_client(sim) as client:
        snap = await NodesPoller(client, "pool-hpc-a", sim.clock.now, cap=25).poll("timer")
    assert len(snap.nodes) == 25 and snap.truncated
    assert wire(sim).count("/pools/pool-hpc-a/nodes") == 3  # 30 read, never the other 34


async def test_one_node_with_its_recent_tasks_in_one_request() -> None:
    sim = make_sim()
    async with make_client(sim) as client:
        nodes = await client.list_nodes("pool-etl-d16", select=["id", "state"])
        sim.requests.clear()
        busy = next(n for n in nodes if n.state == "running")
        snap = await NodePoller(client, "pool-etl-d16", busy.id or "", sim.clock.now).poll("timer")
    assert wire(sim) == [f"/pools/pool-etl-d16/nodes/{busy.id}"]
    assert snap.node.recent_tasks and snap.node.running_tasks_count


async def test_failures_are_read_once_per_change_of_the_failed_count() -> None:
    sim = make_sim(max_page=5)
    async with make_client(sim) as client:
        counts = await client.get_task_counts("etl-nightly-0011")
        sim.requests.clear()
        poller = FailuresPoller(client, "etl-nightly-0011", sim.clock.now)
        poller.expected = counts.task_counts.failed
        first = await poller.poll("timer")
        pages = len(sim.requests)
        again = await poller.poll("timer")  # nothing moved: answered from what it has
        after_again = len(sim.requests)
        await poller.poll("now")  # ctrl+r reads again
        after_now = len(sim.requests)
        poller.expected = (poller.expected or 0) + 1
        await poller.poll("timer")
    failed = counts.task_counts.failed
    assert first.summary.total == failed and first.summary.complete
    assert pages == -(-failed // 5)  # 5 a page
    assert after_again == pages and again.summary is first.summary
    assert after_now == 2 * pages and len(sim.requests) == 3 * pages
    bad = first.summary.bad_node
    assert bad is not None and bad.node_id.split("_")[1].startswith("7-") and bad.exits[0][0] == 137
    line = first.summary.line()
    assert line.startswith(f"{failed} failed · {bad.count} on {bad.node_id} (exit 137)")


async def test_failures_past_the_cap_are_counted_as_more() -> None:
    sim = make_sim(max_page=3)
    async with make_client(sim) as client:
        snap = await FailuresPoller(client, "etl-nightly-0011", sim.clock.now, cap=6).poll("timer")
    assert snap.summary.total == 6 and not snap.summary.complete
    assert len(sim.requests) == 2 and snap.summary.line().startswith("6+ failed")


def f(node: str | None, exit_code: int | None, code: str | None = "FailureExitCode") -> Failure:
    return Failure("t", code, exit_code, "p", node)


def test_grouping_by_code_exit_and_node() -> None:
    summary = summarize([f("tvm-07", 137)] * 15 + [f("a", 1), f("b", 1), f("c", 1)])
    assert summary.line() == "18 failed · 15 on tvm-07 (exit 137) · 3 exit 1 on 3 nodes"
    assert summary.bad_node is not None and summary.bad_node.count == 15
    spread = summarize([f("a", 1), f("b", 1), f("c", 2), f(None, None, "ResourceFileDownloadFailed")])
    assert spread.bad_node is None
    assert spread.line() == (
        "4 failed · 2 exit 1 on 2 nodes · 1 exit 2 on 1 node · 1 ResourceFileDownloadFailed before reaching a node"
    )
    timeouts = summarize([f("a", 137, "TaskEnded"), f("b", 137, "TaskEnded")])
    assert timeouts.line() == "2 failed · 2 TaskEnded (exit 137) on 2 nodes"
    tie = summarize([f("a", 1)] * 3 + [f("b", 1)] * 3)
    assert tie.bad_node is None  # no one node holds most of them
    assert summarize([]).line() == ""


def counts(pool_id: str, **by_key: int) -> PoolNodeCounts:
    side = {**by_key, "total": sum(by_key.values())}
    return PoolNodeCounts.parse({"poolId": pool_id, "dedicated": side, "lowPriority": {"total": 0}})


def test_queued_hints_in_the_operators_words() -> None:
    now = datetime(2026, 11, 21)
    pool = Pool(id="p", allocation_state="steady", current_dedicated_nodes=4, target_dedicated_nodes=4)
    assert queued_hint("disabled", None) == "the job is disabled: its tasks wait until it is enabled"
    assert (
        queued_hint("active", PoolHealth("p", None, None, now)) == "pool p no longer exists: nothing can run"
    )
    failed = PoolHealth("p", pool, counts("p", startTaskFailed=3, unusable=1), now)
    assert queued_hint("active", failed) == "3 of 4 nodes in p failed their start task; none can run tasks"
    unusable = PoolHealth("p", pool, counts("p", unusable=4), now)
    assert queued_hint("active", unusable) == "every node in p is unusable"
    starting = PoolHealth("p", pool, counts("p", starting=2, waitingForStartTask=2), now)
    assert queued_hint("active", starting) == "no node in p is ready yet: 4 of 4 starting"
    resizing = Pool(id="p", allocation_state="resizing", current_dedicated_nodes=0, target_dedicated_nodes=8)
    assert (
        queued_hint("active", PoolHealth("p", resizing, counts("p"), now))
        == "pool p has no nodes yet: resizing to 8"
    )
    healthy = PoolHealth("p", pool, counts("p", idle=2, running=2), now)
    assert queued_hint("active", healthy) is None


async def test_the_queued_job_is_explained_by_its_pool() -> None:
    sim = make_sim()
    async with make_client(sim) as client:
        job = await client.get_job("llm-train-0008")
        health = await PoolHealthPoller(client, job.pool_id or "", sim.clock.now).poll("timer")
        sim.world.delete_pool("pool-gpu-h100")
        gone = await PoolHealthPoller(client, "pool-gpu-h100", sim.clock.now).poll("timer")
    assert queued_hint(job.state, health) == (
        "pool pool-gpu-h100 has no nodes: its resize failed: AccountCoreQuotaReached "
        "(The specified account has reached VM core quota limit)"
    )
    assert queued_hint(job.state, gone) == "pool pool-gpu-h100 no longer exists: nothing can run"
