"""The shared argument types: what each flag wants, said on one line, nan and infinities refused."""

from __future__ import annotations

import argparse

import pytest

from batchtui.cli_args import seconds, whole


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (seconds("--refresh", 0, above=True), "0", "--refresh must be more than 0 seconds, not 0"),
        (seconds("--refresh", 0, above=True), "inf", "--refresh must be more than 0 seconds, not inf"),
        (seconds("--cycle", 1, 3600), "nan", "--cycle must be from 1 to 3600 seconds, not nan"),
        (
            seconds("--timeout", 0, 86_400, above=True),
            "86401",
            "--timeout must be more than 0 and at most 86400 seconds, not 86401",
        ),
        (
            seconds("--refresh", 0, 3600, above=True, below=True),
            "3600",
            "--refresh must be more than 0 and less than 3600 seconds, not 3600",
        ),
        (seconds("--cycle", 1, 3600), "soon", "--cycle wants a number of seconds, not 'soon'"),
        (whole("--port", 1, 65535), "0", "--port must be from 1 to 65535, not 0"),
        (whole("--tail", 0), "-1", "--tail must be 0 or more, not -1"),
        (whole("--tail", 0), "1.5", "--tail wants a whole number, not '1.5'"),
    ],
)
def test_refusals_say_what_the_flag_wants(parse: object, value: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        parse(value)  # type: ignore[operator]
    assert str(refused.value) == message


def test_values_in_bounds_pass_through() -> None:
    assert seconds("--cycle", 1, 3600)("1") == 1.0
    assert seconds("--cycle", 1, 3600)("3600") == 3600.0
    assert seconds("--refresh", 0, above=True)("0.5") == 0.5
    assert whole("--port", 1, 65535)("65535") == 65535
