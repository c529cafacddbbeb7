"""Rank summary and MPI failure detection (batchtui.ui.ranks) and the task query (task_query)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchtui.batch.models import TaskCounts
from batchtui.batch.task_models import Subtask, Task
from batchtui.refresh import task_query
from batchtui.refresh.task_query import TaskQuery, expected_total, load_note, near_bottom
from batchtui.ui.ranks import (
    Rank,
    collect_ranks,
    detect_alerts,
    failed_while_running,
    stragglers,
    summarize,
)

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sub(
    i: int,
    state: str,
    *,
    start: float | None = 0,
    end: float | None = None,
    exit_code=None,
    result=None,
    code=None,
    node="tvm-1",
) -> Subtask:
    body: dict = {"id": i, "state": state, "nodeInfo": {"nodeId": node, "poolId": "mpi-pool"}}
    if start is not None:
        body["startTime"] = iso(T0 + timedelta(seconds=start))
    if end is not None:
        body["endTime"] = iso(T0 + timedelta(seconds=end))
    if exit_code is not None:
        body["exitCode"] = exit_code
    if result is not None:
        body["result"] = result
    if code is not None:
        body["failureInfo"] = {"category": "usererror", "code": code, "message": "boom"}
    return Subtask.parse(body)


def mpi_task(state: str = "running", n: int = 8, **execution) -> Task:
    return Task.parse(
        {
            "id": "mpi-1",
            "state": state,
            "multiInstanceSettings": {"numberOfInstances": n, "coordinationCommandLine": "cmd /c start"},
            "executionInfo": {"startTime": iso(T0), "retryCount": 0, "requeueCount": 0, **execution},
            "nodeInfo": {"nodeId": "tvm-0", "poolId": "mpi-pool"},
        }
    )


# ----------------------------------------------------------------------------- summary


def test_summary_reads_like_the_issue_example() -> None:
    subs = [sub(i, "running") for i in range(1, 6)]
    subs += [sub(6, "completed", end=30, exit_code=1, result="failure"), sub(7, "preparing", start=None)]
    ranks = collect_ranks(mpi_task(), subs)
    assert [r.id for r in ranks] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert ranks[0].primary and ranks[0].node_id == "tvm-0"
    assert summarize(ranks, 8).text == "6/8 running, 1 failed, 1 preparing"


def test_ranks_not_listed_yet_count_as_waiting() -> None:
    ranks = collect_ranks(mpi_task(state="active"), [])
    assert summarize(ranks, 8).text == "0/8 running, 8 waiting"


def test_primary_is_not_added_twice_when_the_service_lists_rank_zero() -> None:
    subs = [sub(i, "running") for i in range(8)]
    ranks = collect_ranks(mpi_task(), subs)
    assert [r.id for r in ranks] == list(range(8))
    assert not any(r.primary for r in ranks)
    assert summarize(ranks, 8).text == "8/8 running"


def test_completed_without_result_falls_back_to_exit_code() -> None:
    ok = Rank(id=1, state="completed", exit_code=0)
    bad = Rank(id=2, state="completed", exit_code=137)
    assert (ok.category, bad.category) == ("succeeded", "failed")
    assert summarize([ok, bad], 2).text == "0/2 running, 1 failed, 1 succeeded"


def test_unknown_states_are_counted_under_their_own_name() -> None:
    ranks = [Rank(id=1, state="running"), Rank(id=2, state="hibernating")]
    assert summarize(ranks, 2).text == "1/2 running, 1 hibernating"


# ----------------------------------------------------------------------------- alerts


def test_one_rank_failed_while_others_keep_running() -> None:
    subs = [sub(i, "running") for i in range(1, 8)]
    subs[2] = sub(3, "completed", end=40, exit_code=137, result="failure", code="FailureExitCode")
    ranks = collect_ranks(mpi_task(), subs)
    alert = failed_while_running(ranks)
    assert alert is not None and alert.rank_ids == (3,)
    assert alert.message == (
        "rank 3 failed (exit 137, FailureExitCode) while 7 others keep running: the MPI job may hang"
    )


def test_no_failure_alert_once_nothing_runs() -> None:
    ranks = [
        Rank(id=1, state="completed", result="failure", exit_code=1),
        Rank(id=2, state="completed", result="success", exit_code=0),
    ]
    assert failed_while_running(ranks) is None


def test_straggler_runs_far_longer_than_its_completed_peers() -> None:
    peers = [sub(i, "completed", start=0, end=600, exit_code=0, result="success") for i in range(1, 7)]
    slow = sub(7, "running", start=0)
    ranks = collect_ranks(mpi_task(state="running"), [*peers, slow])
    # The primary runs as long as the task (it waits for every rank): only rank 7 is flagged.
    now = T0 + timedelta(minutes=25)
    alert = stragglers(ranks, now)
    assert alert is not None and alert.kind == "straggler"
    assert alert.rank_ids == (7,)
    assert alert.message == (
        "straggler: rank 7 still running after 25m00s; 6 completed peers took 10m00s (median)"
    )
    assert stragglers(ranks, T0 + timedelta(minutes=14)) is None


def test_straggler_needs_a_real_gap_for_short_tasks() -> None:
    ranks = [
        Rank(id=1, state="completed", result="success", start_time=T0, end_time=T0 + timedelta(seconds=5)),
        Rank(id=2, state="running", start_time=T0),
    ]
    # 3× a 5 s baseline is noise, not a straggler; 65 s is past baseline + 60 s.
    assert stragglers(ranks, T0 + timedelta(seconds=15)) is None
    assert stragglers(ranks, T0 + timedelta(seconds=65)) is not None


def test_failed_peers_do_not_make_a_baseline() -> None:
    ranks = [
        Rank(id=1, state="completed", result="failure", start_time=T0, end_time=T0 + timedelta(seconds=3)),
        Rank(id=2, state="running", start_time=T0),
    ]
    alerts = detect_alerts(ranks, T0 + timedelta(hours=1))
    assert [a.kind for a in alerts] == ["rank-failed"]


# ----------------------------------------------------------------------------- task query


def test_state_filters_send_the_documented_odata() -> None:
    by_key = {f.key: f for f in task_query.STATE_FILTERS}
    assert by_key["a"].odata is None
    assert by_key["1"].odata == "state eq 'active'"
    assert by_key["2"].odata == "state eq 'running' or state eq 'preparing'"
    assert by_key["3"].odata == "state eq 'completed'"
    assert by_key["4"].odata == "executionInfo/result eq 'failure'"
    # Keys must not clash with the screens' common bindings.
    assert not {f.key for f in task_query.STATE_FILTERS} & set("jkgGspq?/")


def test_query_selects_only_what_is_shown_and_grows_by_steps() -> None:
    q = TaskQuery()
    assert q.odata_filter is None and q.max_results == 1000
    assert {"id", "state", "executionInfo", "nodeInfo", "multiInstanceSettings"} <= set(q.select)
    assert "commandLine" not in q.select  # fetched per task, on demand
    q2 = q.with_filter("failed").grown().grown()
    assert q2.odata_filter == "executionInfo/result eq 'failure'"
    assert q2.cap == task_query.INITIAL_CAP + 2 * task_query.CAP_STEP
    assert q2.with_filter("active").cap == task_query.INITIAL_CAP
    assert TaskQuery(first=200).max_results == 200
    small = TaskQuery(first=25, step=10).grown()
    assert (small.cap, small.max_results) == (35, 35)
    assert small.with_filter("running").cap == 25
    with pytest.raises(KeyError):
        TaskQuery(filter_name="sleeping")
    with pytest.raises(ValueError):
        TaskQuery(step=0)


def test_expected_total_and_note() -> None:
    counts = TaskCounts(active=90_000, running=4_000, completed=6_000, succeeded=5_000, failed=1_000)
    assert expected_total("all", counts) == 100_000
    assert expected_total("running", counts) == 4_000
    assert expected_total("failed", counts) == 1_000
    assert expected_total("all", None) is None
    assert load_note(5_000, True, 100_000) == "showing 5,000 of ~100,000 tasks: scroll down for more"
    # Counts lag: when they claim fewer than we hold, do not print a nonsense "of".
    assert load_note(5_000, True, 4_000) == (
        "showing the first 5,000 tasks (more on the service): scroll down for more"
    )
    assert load_note(120, False, 120) == ""


def test_near_bottom() -> None:
    assert not near_bottom(0, 5000)
    assert near_bottom(4960, 5000)
    assert not near_bottom(0, 0)
    assert not near_bottom(0, 50) and not near_bottom(44, 50) and near_bottom(45, 50)


# ----------------------------------------------------------------------------- properties

_rank = st.builds(
    Rank,
    id=st.integers(0, 63),
    state=st.sampled_from([None, "active", "preparing", "running", "completed", "odd-state"]),
    result=st.sampled_from([None, "success", "failure"]),
    exit_code=st.sampled_from([None, 0, 1, 137]),
)


@given(st.lists(_rank, max_size=20), st.integers(0, 30))
def test_summary_accounts_for_every_rank_once(ranks: list[Rank], n: int) -> None:
    summary = summarize(ranks, n)
    assert summary.total == max(n, len(ranks))
    assert sum(count for _, count in summary.counts) == summary.total
    assert summary.text.startswith(f"{summary.count('running')}/{summary.total} running")


def test_the_pure_modules_do_not_import_textual() -> None:
    code = "import sys, batchtui.ui.ranks, batchtui.refresh.task_query; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
