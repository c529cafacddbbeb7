"""Arbitrary JSON thrown at every parser: the only exception allowed out is ModelError.

Two strategies: fully random JSON, and "almost right" bodies built from the real field
names with random values, which reach far deeper into the parsers than random keys do.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchtui.batch import models, task_models
from batchtui.batch.errors import ModelError

PARSERS = [
    models.parse_job,
    task_models.parse_task,
    models.parse_task_counts,
    models.parse_job_page,
    task_models.parse_task_page,
    task_models.parse_subtask_page,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-02-03T01:09:18.3528274Z",
            "P10675199DT2H48M5.4775807S",
            "PT0S",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00-23:59",
            "P",
            "12",
            "-1",
            "true",
            "completed",
            "running",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)

FIELDS = [
    "id",
    "displayName",
    "state",
    "previousState",
    "creationTime",
    "stateTransitionTime",
    "lastModified",
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "constraints",
    "maxWallClockTime",
    "retentionTime",
    "maxTaskRetryCount",
    "poolInfo",
    "poolId",
    "autoPoolSpecification",
    "executionInfo",
    "startTime",
    "endTime",
    "exitCode",
    "result",
    "retryCount",
    "requeueCount",
    "failureInfo",
    "category",
    "code",
    "message",
    "details",
    "name",
    "value",
    "nodeInfo",
    "affinityId",
    "nodeUrl",
    "nodeId",
    "taskRootDirectory",
    "multiInstanceSettings",
    "numberOfInstances",
    "coordinationCommandLine",
    "commonResourceFiles",
    "requiredSlots",
    "taskCounts",
    "taskSlotCounts",
    "active",
    "running",
    "completed",
    "succeeded",
    "failed",
    "stats",
    "readIOps",
    "numTaskRetries",
    "odata.nextLink",
    "metadata",
    "schedulingError",
    "containerInfo",
    "affinityInfo",
]
shaped = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), children, max_size=6)
    ),
    max_leaves=30,
)


def _check(body: Any) -> None:
    for parse in PARSERS:
        try:
            parse(body)
        except ModelError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_raises_only_model_error(body: Any) -> None:
    _check(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped)
def test_almost_right_bodies_raise_only_model_error(body: Any) -> None:
    _check(body)
    _check({"value": [body, body]})


def test_unknown_enum_values_and_fields_are_kept_as_text() -> None:
    job = models.parse_job({"id": "j", "state": "hibernating", "futureField": {"x": 1}})
    assert job.state == "hibernating"
    task = task_models.parse_task(
        {"id": "t", "executionInfo": {"result": "partial", "failureInfo": {"category": "cosmicray"}}}
    )
    assert task.result == "partial"
    assert task.execution_info is not None and task.execution_info.failure_info is not None
    assert task.execution_info.failure_info.category == "cosmicray"


def test_wrong_shape_names_the_field() -> None:
    try:
        task_models.parse_task({"id": "t", "nodeInfo": ["not", "an", "object"]})
    except ModelError as exc:
        assert "task.nodeInfo" in str(exc)
    else:
        raise AssertionError("a list where nodeInfo's object belongs must be a ModelError")
