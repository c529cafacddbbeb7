"""``batchtui serve`` without a browser: one-line errors, loopback unless --allow-remote, the command
each tab runs (read-only, every word quoted), and the tab cap at textual-serve's websocket, with
real processes against a simulator on loopback."""

from __future__ import annotations

import asyncio
import base64
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from batchtui.cli import main
from batchtui.serve import build_parser, tab_command
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

KEY = base64.b64encode(b"s" * 64).decode()
ACCOUNT = "servetest"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["serve", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "0"], "--port"),
        (["--port", "http"], "--port"),
        (["--max-sessions", "0"], "--max-sessions"),
        (["--max-sessions", "lots"], "--max-sessions"),
        (["--host", "0.0.0.0", "--demo"], "--allow-remote"),
        (["--refresh", "0", "--demo"], "--refresh"),
        (["--state", "sleeping", "--demo"], "--state"),
        (["--profile", "nosuch"], "nosuch"),
        (["--key", KEY], "--key"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv, needle) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui serve: error: "), err
    assert needle in lines[0]
    assert KEY not in err


def test_each_tab_runs_a_read_only_dashboard_and_no_word_reaches_the_shell_unquoted() -> None:
    hostile = "prod'; touch /tmp/batchtui-pwned; echo '$(id)`id`"
    args = build_parser().parse_args(["--profile", hostile, "--refresh", "2", "--state", "active"])
    command = tab_command(args)
    assert shlex.split(command) == [
        sys.executable,
        "-m",
        "batchtui",
        "--readonly",
        "--profile",
        hostile,
        "--refresh",
        "2.0",
        "--state",
        "active",
    ]
    # Through a real shell, as textual-serve runs it: the words arrive as they were given.
    prefix = shlex.join([sys.executable, "-m", "batchtui"])
    assert command.startswith(prefix + " ")
    echoed = subprocess.run(
        ["/bin/sh", "-c", shlex.join(["printf", "%s\\n"]) + command.removeprefix(prefix)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert echoed == ["--readonly", "--profile", hostile, "--refresh", "2.0", "--state", "active"]
    assert shlex.split(tab_command(build_parser().parse_args(["--demo"]))) == [
        sys.executable,
        "-m",
        "batchtui",
        "--readonly",
        "--demo",
    ]


def test_allow_remote_warns_and_says_to_put_a_proxy_in_front(capsys: pytest.CaptureFixture[str]) -> None:
    # 192.0.2.1 (TEST-NET-1) is nobody's address here: the bind fails after the warning.
    code, out, err = run(capsys, "--demo", "--host", "192.0.2.1", "--allow-remote")
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert lines[0].startswith("batchtui serve: warning: serving on 192.0.2.1, beyond loopback")
    assert "no authentication" in lines[0] and "proxy that authenticates" in lines[0]
    assert lines[1].startswith("batchtui serve: error: cannot listen on 192.0.2.1:8000")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def anchored_sim(**kw: object) -> Simulator:
    """A frozen world whose times read as now (the dashboard's clock is the wall clock)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=SimConfig().warmup)
    return Simulator(SimConfig(account=ACCOUNT, key=KEY, seed=5, time_scale=0, start=start, **kw))  # type: ignore[arg-type]


class Served:
    """A ``batchtui serve`` process pointed at a loopback simulator."""

    def __init__(self, sim_url: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "AZURE_BATCH_ACCESS_KEY": KEY, "PYTHONUNBUFFERED": "1"}
        argv = ["serve", "--port", str(self.port), "--endpoint", sim_url, "--account", ACCOUNT, *extra]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "batchtui", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        self.banner = self.proc.stdout.readline() + self.proc.stdout.readline()

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        return self.banner + out


@pytest.fixture
def sim_server() -> Iterator[BackgroundServer]:
    server = BackgroundServer(anchored_sim(jobs=12)).start()
    try:
        yield server
    finally:
        server.stop()


async def wait_http(url: str, status: int, within: float = 30) -> str:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as r:
                    if r.status == status:
                        return await r.text()
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"{url} never answered {status}"
            await asyncio.sleep(0.2)


async def first_bytes(ws: aiohttp.ClientWebSocketResponse, within: float = 60) -> bytes:
    async with asyncio.timeout(within):
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 10:
                return bytes(message.data)
    raise AssertionError("the socket closed without a byte")


async def test_tabs_over_the_cap_are_refused_with_a_message(sim_server: BackgroundServer) -> None:
    served = Served(sim_server.url, "--max-sessions", "1", "--refresh", "1")
    try:
        assert "read-only" in served.banner and "its own batchtui process" in served.banner
        await wait_http(served.url + "/", 200)
        ws_url = served.url.replace("http", "ws") + "/ws?width=100&height=30"
        async with aiohttp.ClientSession() as http:
            first = await http.ws_connect(ws_url)
            await first_bytes(first)  # a dashboard is drawing
            # The tab's dashboard polls the account, read-only.
            deadline = time.monotonic() + 30
            while not any(r.path == "/jobs" for r in sim_server.sim.requests):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
            page = await wait_http(served.url + "/", 503)
            assert "--max-sessions 1" in page and "close a tab" in page
            second = await http.ws_connect(ws_url)
            refused = (await first_bytes(second, within=10)).decode()
            assert "1 dashboard is open already" in refused and "--max-sessions 1" in refused
            await second.close()
            await first.close()
            await wait_http(served.url + "/", 200)  # the tab's place is free again
            # Its process has gone: the account hears nothing more from it.
            await asyncio.sleep(1.5)
            heard = len(sim_server.sim.requests)
            await asyncio.sleep(2.5)  # more than two refresh intervals
            assert len(sim_server.sim.requests) == heard
    finally:
        out = served.stop()
    assert {r.method for r in sim_server.sim.requests} == {"GET"}
    assert "Traceback" not in out and KEY not in out
    assert served.proc.returncode == 0
