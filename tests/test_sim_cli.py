"""`batchtui sim`: flags, one-line errors, loopback by default, and a real serve."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from test_sim_support import API, SharedKey

from batchtui.sim import DEMO_KEY
from batchtui.sim.cli import main, parse_config


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "70000"], "--port"),
        (["--jobs", "many"], "--jobs"),
        (["--throttle-rate", "1.5"], "--throttle-rate"),
        (["--error-rate", "-0.1"], "--error-rate"),
        (["--time-scale", "-1"], "--time-scale"),
        (["--key", "not base64!"], "--key"),
        (["--account", "Bad_Name"], "--account"),
        (["--instances", "0"], "--instances"),
        (["--frobnicate"], "--frobnicate"),
        (["--host", "0.0.0.0"], "--allow-remote"),
        (["--host", "10.1.2.3"], "--allow-remote"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv: list[str], needle: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui sim: error: ")
    assert needle in lines[0]
    assert out.getvalue() == ""


def test_flags_reach_the_config() -> None:
    config, host, port = parse_config(
        [
            "--seed",
            "3",
            "--jobs",
            "1000",
            "--tasks",
            "5",
            "--instances",
            "1000",
            "--time-scale",
            "0",
            "--latency-ms",
            "20",
            "--throttle-rate",
            "0.1",
            "--error-rate",
            "0.05",
            "--port",
            "0",
            "--host",
            "0.0.0.0",
            "--allow-remote",
            "--account",
            "acct1",
        ]
    )
    assert (host, port) == ("0.0.0.0", 0)
    assert (config.seed, config.jobs, config.tasks, config.instances, config.time_scale) == (
        3,
        1000,
        5,
        1000,
        0,
    )
    assert (config.latency_ms, config.throttle_rate, config.error_rate) == (20, 0.1, 0.05)
    assert config.account == "acct1" and config.key == DEMO_KEY
    assert DEMO_KEY not in repr(config)  # the key is kept out of reprs


def test_serves_and_prints_the_lines_to_paste() -> None:
    code = "import sys; from batchtui.sim.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--jobs", "5", "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            x.startswith("export AZURE_BATCH_AUTH_MODE") for x in lines
        ):
            lines.append(proc.stdout.readline().strip())
        env = dict(x.removeprefix("export ").split("=", 1) for x in lines if x.startswith("export "))
        assert env["AZURE_BATCH_ACCOUNT"] == "demo"
        assert env["AZURE_BATCH_ACCESS_KEY"] == DEMO_KEY
        assert env["AZURE_BATCH_AUTH_MODE"] == "shared_key"
        assert env["AZURE_BATCH_ENDPOINT"].startswith("http://127.0.0.1:")
        auth = SharedKey(env["AZURE_BATCH_ACCOUNT"], env["AZURE_BATCH_ACCESS_KEY"])
        r = None
        while time.monotonic() < deadline:
            try:
                r = httpx.get(env["AZURE_BATCH_ENDPOINT"] + "/jobs", params={"api-version": API}, auth=auth)
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r is not None and r.status_code == 200 and len(r.json()["value"]) == 5
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def test_port_in_use_is_a_one_line_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        err = io.StringIO()
        assert main(["--port", str(port)], out=io.StringIO(), err=err) == 1
    assert err.getvalue().count("\n") == 1 and "cannot listen" in err.getvalue()
