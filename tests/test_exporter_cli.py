"""``batchtui exporter`` as an operator runs it: one-line errors, a warning off loopback, and a real
process exporting two config.toml profiles (two simulators on loopback), one of which goes away."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.client import BatchClient
from batchtui.cli import main
from batchtui.exporter.cli import is_loopback, parse_listen
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer

KEY = base64.b64encode(b"k" * 64).decode()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["exporter", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--listen", "9464"], "--listen"),
        (["--listen", "127.0.0.1:99999"], "port"),
        (["--listen", "[::1"], "--listen"),
        (["--refresh", "0"], "--refresh"),
        (["--refresh", "often"], "--refresh"),
        (["--completed-for", "a while"], "--completed-for"),
        (["--completed-for", "-1h"], "--completed-for"),
        (["--completed-for", "400d"], "--completed-for"),
        (["--profile", "a", "--endpoint", "https://a.eastus.batch.azure.com"], "--profile"),
        (["--profile", "nosuch"], "nosuch"),
        (["--bogus"], "--bogus"),
        (["--key", KEY], "--key"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv, needle) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui exporter: error: "), err
    assert needle in lines[0]
    assert KEY not in err


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_listen("[::1]:9464") == ("::1", 9464)
    assert parse_listen("localhost:0") == ("localhost", 0)
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("example.com")


def write_profiles(home: Path, **endpoints: tuple[str, str]) -> None:
    cfg = home / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(
        "".join(
            f'[accounts.{name}]\nendpoint = "{url}"\naccount = "{account}"\nkey = "{KEY}"\n'
            for name, (url, account) in endpoints.items()
        )
    )
    cfg.chmod(0o600)


def test_two_profiles_naming_one_account_are_refused(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path))
    write_profiles(tmp_path, a=("http://127.0.0.1:1", "same"), b=("http://127.0.0.1:2", "same"))
    code, _, err = run(capsys, "--profile", "a", "--profile", "b")
    assert code == 2 and "'same'" in err and len(err.strip().splitlines()) == 1


def test_a_non_loopback_address_warns_before_anything_is_served(capsys) -> None:
    # 192.0.2.1 (TEST-NET-1) is nobody's address here: the bind fails after the warning.
    code, out, err = run(capsys, "--demo", "--listen", "192.0.2.1:9464")
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert lines[0].startswith("batchtui exporter: warning: serving on 192.0.2.1, not loopback")
    assert "no authentication" in lines[0]
    assert lines[-1].startswith("batchtui exporter: error: cannot listen on 192.0.2.1:9464")
    assert "Traceback" not in err


def sim_server(account: str) -> BackgroundServer:
    # Anchored at the real now (as --demo is): a real account's exporter reads the wall clock.
    warmup = SimConfig().warmup
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=warmup)
    sim = Simulator(SimConfig(account=account, key=KEY, seed=3, jobs=8, time_scale=0, start=start))
    return BackgroundServer(sim).start()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback
        text = r.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def value(metrics: dict, name: str, **labels: str) -> float | None:
    return metrics.get((name, tuple(sorted(labels.items()))))


def direct_job_ids(server: BackgroundServer, account: str) -> set[str]:
    async def read() -> set[str]:
        async with BatchClient(server.url, SharedKeyAuth(account, KEY), account=account) as client:
            return {j.id or "" for j in await client.list_jobs()}

    return asyncio.run(read())


@pytest.fixture
def two_sims() -> Iterator[tuple[BackgroundServer, BackgroundServer]]:
    one, two = sim_server("acctone"), sim_server("accttwo")
    try:
        yield one, two
    finally:
        one.stop()
        two.stop()


def test_one_process_exports_two_profiles_and_survives_one_going_away(
    two_sims: tuple[BackgroundServer, BackgroundServer], tmp_path: Path
) -> None:
    one, two = two_sims
    write_profiles(tmp_path, one=(one.url, "acctone"), two=(two.url, "accttwo"))
    env = {**os.environ, "BATCHTUI_CONFIG_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    argv = ["--listen", "127.0.0.1:0", "--refresh", "1", "--completed-for", "2d"]
    argv += ["--profile", "one", "--profile", "two"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "batchtui", "exporter", *argv],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        banner = proc.stderr.readline()
        m = re.search(r"serving (http://127\.0\.0\.1:\d+/metrics) for acctone, accttwo", banner)
        assert m, banner
        url = m.group(1)
        deadline = time.monotonic() + 30
        metrics: dict = {}
        while time.monotonic() < deadline:
            metrics = scrape(url)
            if all(value(metrics, "azure_batch_up", account=a) == 1.0 for a in ("acctone", "accttwo")):
                break
            time.sleep(0.2)
        for account, server in (("acctone", one), ("accttwo", two)):
            assert value(metrics, "azure_batch_up", account=account) == 1.0
            jobs = {k[1] for k in metrics if k[0] == "azure_batch_job_info" and ("account", account) in k[1]}
            assert {dict(k)["job"] for k in jobs} == direct_job_ids(server, account) != set()
        # Every request the exporter sent is a GET (read-only), on the engine's pace.
        assert {r.method for r in one.sim.requests} == {"GET"}
        two.stop()  # accttwo goes away: connection refused from now on
        stamp = value(metrics, "azure_batch_last_success_timestamp_seconds", account="acctone")
        while time.monotonic() < deadline:
            metrics = scrape(url)
            if value(metrics, "azure_batch_up", account="accttwo") == 0.0:
                break
            time.sleep(0.2)
        assert value(metrics, "azure_batch_up", account="accttwo") == 0.0
        while time.monotonic() < deadline:  # acctone keeps its pace
            metrics = scrape(url)
            later = value(metrics, "azure_batch_last_success_timestamp_seconds", account="acctone")
            if later is not None and stamp is not None and later > stamp + 1:
                break
            time.sleep(0.2)
        assert value(metrics, "azure_batch_up", account="acctone") == 1.0
        assert later is not None and stamp is not None and later > stamp + 1
        assert not any(k[0] == "azure_batch_job_info" and ("account", "accttwo") in k[1] for k in metrics)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "account accttwo: cannot be read" in err
    assert KEY not in err
