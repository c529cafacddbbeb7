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


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--time-scale", "1e308"], "--time-scale must be from 0 (frozen) to 10000, not 1e+308"),
        (["--time-scale", "nan"], "argument --time-scale: not a finite number: 'nan'"),
        (["--time-scale", "fast"], "argument --time-scale: not a number: 'fast'"),
        (["--latency-ms", "1e308"], "--latency-ms must be from 0 to 60000, not 1e+308"),
        (["--latency-ms", "inf"], "argument --latency-ms: not a finite number: 'inf'"),
        (["--throttle-rate", "lots"], "argument --throttle-rate: not a number: 'lots'"),
        (["--port", "http"], "argument --port: not a whole number: 'http'"),
        (["--jobs", "1.5"], "argument --jobs: not a whole number: '1.5'"),
        (["--seed", "-1"], "--seed must be between 0 and 9223372036854775807, not -1"),
    ],
)
def test_absurd_values_are_refused_in_plain_words(argv: list[str], line: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    assert err.getvalue() == f"batchtui sim: error: {line}\n"


def test_sigterm_with_a_request_in_flight_exits_within_two_seconds() -> None:
    import threading

    code = "import sys; from batchtui.sim.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["--port", "0", "--jobs", "2", "--time-scale", "0", "--latency-ms", "20000"]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        endpoint = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not endpoint:
            line = proc.stdout.readline().strip()
            endpoint = line.removeprefix("export AZURE_BATCH_ENDPOINT=") if "ENDPOINT=" in line else ""
        assert endpoint
        in_flight = threading.Event()

        def ask() -> None:
            for _ in range(200):
                try:
                    with httpx.Client(timeout=30) as http:
                        in_flight.set()
                        http.get(endpoint + "/jobs", params={"api-version": API})
                    return
                except httpx.ConnectError:
                    time.sleep(0.05)
                except httpx.HTTPError:
                    return  # cut off by the shutdown: expected

        threading.Thread(target=ask, daemon=True).start()
        assert in_flight.wait(20)
        time.sleep(0.5)  # the request is in the simulator's 20 s latency now
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert took < 2.0, f"exited {took:.1f} s after SIGTERM"
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
