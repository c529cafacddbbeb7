"""The field-metadata parser (batch/wire.py): what its fast paths must not change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from batchtui.batch import wire
from batchtui.batch.client import BatchClient
from batchtui.batch.errors import BatchClientError, ModelError
from batchtui.batch.models import parse_job
from batchtui.batch.pools import parse_node, parse_pool
from batchtui.batch.retry import RetryPolicy
from batchtui.batch.task_models import parse_task_page

moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@given(moments, st.integers(min_value=0, max_value=9))
def test_the_services_date_time_form_reads_as_the_general_reading(moment: datetime, seventh: int) -> None:
    text = (
        moment.replace(tzinfo=None).isoformat(timespec="microseconds") + f"{seventh}Z"
    )  # 7 digits, as the service writes
    assert len(text) == 28
    fast = wire.when(text)
    general = wire.when(" " + text)  # not the exact form: read by the regular expression
    assert fast == general == moment and fast.tzinfo is UTC


@given(st.text(alphabet="0123456789-T:.Z+", min_size=28, max_size=28))
def test_odd_28_character_stamps_are_read_or_refused_as_the_general_reading(text: str) -> None:
    def read(s: str) -> datetime | str:
        try:
            return wire.when(s)
        except wire.Bad:
            return "refused"

    assert read(text) == read(" " + text)


def test_repeated_durations_are_the_same_and_the_memo_is_bounded() -> None:
    for i in range(600):
        assert wire.span(f"PT{i}S") == timedelta(seconds=i)
    assert len(wire._SPANS) <= 256
    assert wire.span("P1Y") == timedelta(days=365)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"constraints": []}, "job.constraints: expected an object, got list"),
        ({"constraints": {"maxWallClockTime": 5}}, "job.constraints.maxWallClockTime: expected a duration"),
        (
            {"poolInfo": {"autoPoolSpecification": {"autoPoolIdPrefix": {}}}},
            "job.poolInfo.autoPoolSpecification.autoPoolIdPrefix: expected a string, got dict",
        ),
        (
            {"poolInfo": {"autoPoolSpecification": 3}},
            "job.poolInfo.autoPoolSpecification: expected an object",
        ),
        ({"metadata": [{"name": "a"}, None]}, "job.metadata[1]: expected an object, got null"),
        (
            {"executionInfo": {"schedulingError": {"details": [{"value": []}]}}},
            "job.executionInfo.schedulingError.details[0].value: expected a string, got list",
        ),
    ],
)
def test_errors_name_the_field_however_deep(body: dict[str, object], where: str) -> None:
    with pytest.raises(ModelError) as caught:
        parse_job({"id": "j", **body})
    assert str(caught.value).startswith(where)


def test_errors_in_a_page_name_the_item() -> None:
    good = {"id": "t", "executionInfo": {"exitCode": 0}}
    with pytest.raises(ModelError, match=r"^tasks\.value\[2\]\.executionInfo\.exitCode: expected an integer"):
        parse_task_page({"value": [good, good, {"id": "t", "executionInfo": {"exitCode": "x"}}]})


def test_pool_and_node_errors_keep_their_layouts() -> None:
    detail = [{"name": "Reason", "value": "quota"}]
    pool = parse_pool(
        {
            "resizeErrors": [{"code": "AccountCoreQuotaReached", "values": detail}],
            "autoScaleRun": {"error": {"code": "InvalidFormula", "values": detail}},
        }
    )
    assert pool.resize_errors[0].details[0].value == "quota"
    assert pool.auto_scale_error is not None and pool.auto_scale_error.details[0].name == "Reason"
    assert parse_pool({"autoScaleRun": {"error": {}}}).auto_scale_error is None
    node = parse_node({"errors": [{"code": "DiskFull", "errorDetails": detail}]})
    assert node.errors[0].details[0].value == "quota"
    with pytest.raises(
        ModelError, match=r"^node\.virtualMachineInfo\.imageReference\.offer: expected a string"
    ):
        parse_node({"virtualMachineInfo": {"imageReference": {"publisher": "p", "offer": []}}})


async def test_a_pool_id_with_a_lone_surrogate_is_refused_before_the_wire() -> None:
    seen: list[str] = []
    transport = httpx.MockTransport(lambda r: seen.append(str(r.url)) or httpx.Response(200, json={}))
    async with BatchClient("http://127.0.0.1:9", transport=transport, retry=RetryPolicy(max_attempts=1)) as c:
        with pytest.raises(BatchClientError, match="pool id 'p\\\\udfff' cannot be sent"):
            await c.list_nodes("p\udfff")
        with pytest.raises(BatchClientError, match="must not be empty"):
            await c.get_node("pool", "")
    assert seen == []
