"""``batchtui logs --node POOL NODE``: a node's start task output through the node-files API,
against the simulator: the exact bytes, ``--stderr`` and ``--file``, ``-f`` until the start
task completes, and refusals as one line (exit 1) or usage errors (exit 2)."""

from __future__ import annotations

import io

import pytest
from test_logs_cli import client_of, make_sim, run

from batchtui.batch.files import FileUnavailable
from batchtui.logs_cli import main
from batchtui.sim import Simulator
from batchtui.sim.file_tree import node_file

POOL = "pool-hpc-a"


def truth(sim: Simulator, pool: str, index: int, name: str) -> bytes:
    t = sim.clock.seconds()
    f = node_file(sim.world, pool, index, f"startup\\{name}", t)
    assert f is not None and f.content is not None
    return f.content.read(0, f.content.size(t), t)


def node_in(sim: Simulator, pool_id: str, state: str, start_task: str | None = None) -> int | None:
    pool = sim.world.pools[pool_id]
    for k, plan in enumerate(pool.nodes):
        view = sim.world.nodes.find_node(pool, plan.id, sim.clock.seconds())
        if view is None or view.state != state:
            continue
        if start_task is None or (view.start_task is not None and view.start_task.state == start_task):
            return k
    return None


def test_the_start_task_output_of_a_node_exactly() -> None:
    sim = make_sim()
    failed = node_in(sim, POOL, "starttaskfailed")
    idle = node_in(sim, POOL, "idle")
    assert failed is not None and idle is not None
    nodes = sim.world.pools[POOL].nodes
    code, out, _ = run(sim, ["--node", POOL, nodes[failed].id, "--stderr"])
    assert code == 0 and out == truth(sim, POOL, failed, "stderr.txt")
    assert out.count(b"E: Could not get lock") == 3
    code, out, _ = run(sim, ["--node", POOL, nodes[idle].id])
    assert code == 0 and out == truth(sim, POOL, idle, "stdout.txt") and b"Setting up openmpi-bin" in out
    # --file: any file of the node, from its root (either separator)
    code, same, _ = run(sim, ["--node", POOL, nodes[idle].id, "--file", "startup\\stdout.txt"])
    assert code == 0 and same == out
    code, tail, _ = run(sim, ["--node", POOL, nodes[idle].id, "--tail", "2"])
    assert tail == b"".join(out.splitlines(keepends=True)[-2:])


def test_follow_writes_until_the_start_task_completes() -> None:
    sim = make_sim()
    index = None
    for _ in range(200):  # pool-hpc-b is resizing: its new nodes run their start task in turn
        sim.clock.advance(5)
        index = node_in(sim, "pool-hpc-b", "waitingforstarttask", "running")
        if index is not None:
            break
    assert index is not None
    node = sim.world.pools["pool-hpc-b"].nodes[index].id
    code, out, _ = run(sim, ["--node", "pool-hpc-b", node, "-f"])
    assert code == 0 and out == truth(sim, "pool-hpc-b", index, "stdout.txt")
    assert out.endswith(b"setup-node.sh: node ready\n")


def test_refusals_are_one_line_and_a_rank_with_node_is_a_usage_error() -> None:
    sim = make_sim()
    rebooting = node_in(sim, POOL, "rebooting")
    assert rebooting is not None
    for node, code in (
        (sim.world.pools[POOL].nodes[rebooting].id, "NodeNotReady"),
        ("tvm-nope", "NodeNotFound"),
    ):
        with pytest.raises(FileUnavailable) as info:
            run(sim, ["--node", POOL, node], client=client_of(sim))
        assert code in str(info.value) and "\n" not in str(info.value)
    err = io.StringIO()
    assert main(["--demo", "--node", POOL, "n", "--rank", "1"], stdout=io.BytesIO(), stderr=err) == 2
    assert err.getvalue().count("\n") == 1 and "--rank" in err.getvalue()
