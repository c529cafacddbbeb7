"""The recorded pool, node and node-count payloads parse, with their real values checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchtui.batch.errors import ModelError
from batchtui.batch.node_counts import parse_node_counts_page
from batchtui.batch.pools import parse_node, parse_node_page, parse_pool, parse_pool_page
from tests.conftest import load_data


def recorded(name: str, index: int = 0) -> Any:
    return load_data(name)["Entries"][index]["ResponseBody"]


def test_recorded_pool_list() -> None:
    page = parse_pool_page(recorded("recorded_js_Pools_ListPools.json"))
    assert len(page.items) == 7 and page.next_link is None
    first = page.items[0]
    assert first.id == "jssdkPool-Basic2e14" and first.vm_size == "standard_d1_v2"
    assert (first.current_dedicated_nodes, first.target_dedicated_nodes) == (4, 4)
    assert first.allocation_state == "steady" and first.e_tag == "0x8DE62B754EF2131"
    assert first.start_task_command_line == "cmd /c echo hello > hello.txt"
    deleting = page.items[1]
    assert deleting.state == "deleting" and deleting.allocation_state == "resizing"
    assert deleting.resize_timeout == timedelta(minutes=7, seconds=9.497)
    assert all(p.resize_errors == () for p in page.items)


def test_recorded_pool_get() -> None:
    pool = parse_pool(recorded("recorded_js_Pools_GetPool.json"))
    assert pool.id == "jssdkPool-Basic2e14" and pool.task_slots_per_node == 1


def test_recorded_node_counts_keep_their_camel_case_keys_in_order() -> None:
    body = recorded("recorded_js_Pools_ListPoolNodeCounts.json")
    page = parse_node_counts_page(body)
    assert len(page.items) == 7
    for item, raw in zip(page.items, body["value"], strict=True):
        assert item.pool_id == raw["poolId"]
        assert item.dedicated.to_wire() == raw["dedicated"]
        assert list(item.dedicated.to_wire()) == list(raw["dedicated"])  # the order, too
        assert item.low_priority.to_wire() == raw["lowPriority"]
    leaving = next(i for i in page.items if i.dedicated.get("leavingPool"))
    assert leaving.dedicated.get("leavingPool") == 2 and leaving.get("leavingpool") == 0
    assert page.items[0].dedicated.get("starting") == 4 and page.items[0].total == 4
    assert page.items[0].sick == 0


def test_recorded_node() -> None:
    node = parse_node(recorded("recorded_js_Nodes_GetNode.json"))
    assert node.state == "idle" and node.scheduling_state == "enabled" and node.is_dedicated
    assert node.last_boot_time == datetime(2026, 2, 3, 18, 17, 56, 370149, tzinfo=UTC)
    info = node.start_task_info
    assert info is not None and info.state == "completed" and info.exit_code == 0 and not info.failed
    assert node.agent_version == "1.12.39" and node.errors == () and node.recent_tasks == ()
    assert node.image == "microsoftwindowsserver/windowsserver/2022-Datacenter (latest)"
    assert not node.sick


def test_recorded_node_list_and_recent_tasks() -> None:
    page = parse_node_page(recorded("recorded_js_Nodes_ListNodes.json"))
    assert len(page.items) == 4 and {n.state for n in page.items} == {"idle"}
    busy = parse_node_page(recorded("recorded_net_Nodes_ListNodes_recentTasks.json")).items[0]
    assert busy.total_tasks_run == 5 and len(busy.recent_tasks) == 5
    last = busy.recent_tasks[-1]
    assert (last.job_id, last.task_id, last.task_state) == ("batchJob1", "task-4", "completed")
    assert last.execution_info is not None and last.execution_info.result == "success"


def test_recorded_reboot_keeps_the_old_boot_time() -> None:
    rebooting = parse_node(recorded("recorded_net_Nodes_GetNode_rebooting_then_starting.json", 0))
    starting = parse_node(recorded("recorded_net_Nodes_GetNode_rebooting_then_starting.json", 1))
    assert (rebooting.state, starting.state) == ("rebooting", "starting")
    assert rebooting.last_boot_time == starting.last_boot_time
    assert rebooting.start_task_info is None


def test_sick_nodes_and_unknown_states() -> None:
    errors = [{"code": "DiskFull", "message": "full", "errorDetails": [{"name": "Path", "value": "/mnt"}]}]
    with_errors = parse_node({"id": "n", "state": "idle", "errors": errors})
    assert with_errors.sick and with_errors.errors[0].details[0].value == "/mnt"
    assert parse_node({"id": "n", "state": "starttaskfailed"}).sick
    novel = parse_node({"id": "n", "state": "hibernating"})  # a state from a future api-version
    assert novel.state == "hibernating" and not novel.sick
    selected = parse_node({"id": "n"})
    assert selected.state is None and selected.errors == () and selected.start_task_info is None
    failed = parse_node({"startTaskInfo": {"state": "completed", "exitCode": 1}})
    assert failed.start_task_info is not None and failed.start_task_info.failed  # no result: by exit code


@pytest.mark.parametrize(
    "body",
    [
        {"id": "n", "errors": {"code": "x"}},
        {"id": "n", "runningTasksCount": "many"},
        {"id": "n", "recentTasks": ["task-1"]},
        [],
    ],
)
def test_malformed_nodes_raise_model_errors(body: object) -> None:
    with pytest.raises(ModelError):
        parse_node(body)
