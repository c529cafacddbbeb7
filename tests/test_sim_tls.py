"""`batchtui sim --tls`: HTTPS with a certificate the simulator writes and names, trusted by
batchtui (SSL_CERT_FILE) and the official SDK (REQUESTS_CA_BUNDLE), handshakes counted."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from test_sim_support import API, SharedKey

from batchtui.sim import SimConfig, Simulator
from batchtui.sim.cli import main
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate

azure_batch = pytest.importorskip("azure.batch")
from azure.core.credentials import AzureNamedKeyCredential  # noqa: E402
from azure.core.exceptions import ServiceRequestError  # noqa: E402

TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def clean_env() -> dict[str, str]:
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", *TRUST_VARIABLES}
    return {k: v for k, v in os.environ.items() if k.upper() not in drop and not k.startswith("AZURE_BATCH_")}


def start_sim(*args: str) -> tuple[subprocess.Popen[str], dict[str, str], list[str]]:
    """``batchtui sim`` on a free port; its process, the exports it printed, and its lines."""
    cmd = [sys.executable, "-m", "batchtui", "sim", "--port", "0", "--jobs", "6", "--time-scale", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lines and lines[-1].startswith("# Ctrl+C")):
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    exports = dict(x.removeprefix("export ").split("=", 1) for x in lines if x.startswith("export "))
    return proc, exports, lines


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:  # never left running, whatever failed
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0
    return proc.stderr.read() if proc.stderr else ""


@contextmanager
def sim_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], list[str]]]:
    proc, exports, lines = start_sim(*args)
    try:
        yield proc, exports, lines
    finally:
        if proc.poll() is None:  # never left running, whatever failed
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def tls_sim() -> Iterator[tuple[dict[str, str], list[str], subprocess.Popen[str]]]:
    with sim_process("--tls") as (proc, exports, lines):
        yield exports, lines, proc


def test_it_prints_an_https_endpoint_and_the_certificate_to_trust(
    tls_sim: tuple[dict[str, str], list[str], subprocess.Popen[str]],
) -> None:
    exports, lines, _proc = tls_sim
    assert exports["AZURE_BATCH_ENDPOINT"].startswith("https://127.0.0.1:")
    ca = Path(exports["SSL_CERT_FILE"])
    assert exports["REQUESTS_CA_BUNDLE"] == str(ca)
    assert ca.is_file() and ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert any("trust the simulator's certificate authority only" in line for line in lines)


def test_batchtui_once_trusts_it_through_ssl_cert_file(
    tls_sim: tuple[dict[str, str], list[str], subprocess.Popen[str]],
) -> None:
    exports, _lines, _proc = tls_sim
    env = {**clean_env(), **exports}
    env.pop("REQUESTS_CA_BUNDLE")  # SSL_CERT_FILE alone is enough for batchtui
    out = subprocess.run(
        [sys.executable, "-m", "batchtui", "--once", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["endpoint"] == exports["AZURE_BATCH_ENDPOINT"]
    assert len(doc["jobs"]) >= 5 and all(j["taskCounts"] is not None for j in doc["jobs"])


def test_batchtui_refuses_it_untrusted_in_one_line(
    tls_sim: tuple[dict[str, str], list[str], subprocess.Popen[str]],
) -> None:
    exports, _lines, _proc = tls_sim
    env = {**clean_env(), **{k: v for k, v in exports.items() if k.startswith("AZURE_BATCH_")}}
    out = subprocess.run(
        [sys.executable, "-m", "batchtui", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # At once (not retried like an outage), one line, in the operator's words.
    assert out.returncode == 1
    port = exports["AZURE_BATCH_ENDPOINT"].rsplit(":", 1)[1]
    assert out.stderr.splitlines() == [
        f"batchtui: error: list_jobs: the TLS certificate of 127.0.0.1:{port} is not trusted (self-signed "
        "certificate in certificate chain): if your network signs it (a proxy, a private CA), point "
        "SSL_CERT_FILE or REQUESTS_CA_BUNDLE to that CA's bundle"
    ], out.stderr


def test_the_sdk_trusts_it_through_requests_ca_bundle(
    tls_sim: tuple[dict[str, str], list[str], subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    exports, _lines, _proc = tls_sim
    for name in TRUST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    credential = AzureNamedKeyCredential(exports["AZURE_BATCH_ACCOUNT"], exports["AZURE_BATCH_ACCESS_KEY"])
    sdk = azure_batch.BatchClient(exports["AZURE_BATCH_ENDPOINT"], credential)
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        list(sdk.list_jobs(connection_timeout=5, retry_total=0))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", exports["REQUESTS_CA_BUNDLE"])
    sdk = azure_batch.BatchClient(exports["AZURE_BATCH_ENDPOINT"], credential)
    jobs = list(sdk.list_jobs())
    assert len(jobs) >= 5
    assert sdk.get_job_task_counts(jobs[0].id).task_counts is not None


def test_a_temporary_certificate_folder_is_removed_on_exit() -> None:
    with sim_process("--tls") as (proc, exports, _lines):
        folder = Path(exports["SSL_CERT_FILE"]).parent
        assert folder.is_dir()
        assert "Traceback" not in stop(proc)
    assert not folder.exists()


def test_cert_dir_keeps_the_authority_across_restarts(tmp_path: Path) -> None:
    with sim_process("--tls", "--cert-dir", str(tmp_path)) as (proc, exports, _lines):
        stop(proc)
    ca = Path(exports["SSL_CERT_FILE"])
    assert ca == tmp_path / "ca.pem"
    first = ca.read_bytes()
    for key in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((tmp_path / key).stat().st_mode) == 0o600
    with sim_process("--tls", "--cert-dir", str(tmp_path)) as (proc, exports, _lines):
        assert ca.read_bytes() == first  # a client told to trust it still does
        r = httpx.get(
            exports["AZURE_BATCH_ENDPOINT"] + "/jobs",
            params={"api-version": API},
            auth=SharedKey(exports["AZURE_BATCH_ACCOUNT"], exports["AZURE_BATCH_ACCESS_KEY"]),
            verify=ssl.create_default_context(cafile=str(ca)),
        )
        assert r.status_code == 200
        stop(proc)
    assert ca.exists()  # a folder of the operator's is left in place


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(["--cert-dir", "/tmp"], "--cert-dir needs --tls")],
)
def test_bad_tls_flags_exit_2_with_one_line(argv: list[str], needle: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, out=out, err=err) == 2
    assert err.getvalue().splitlines() == [f"batchtui sim: error: {needle}"]


def test_an_unwritable_cert_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--port", "0", "--tls", "--cert-dir", str(blocker / "sub")], out=out, err=err) == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("batchtui sim: error: cannot write certificates to ")


# ---------------------------------------------------------------------- in process


def test_handshakes_are_counted_at_the_server(tmp_path: Path) -> None:
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0))
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    trust = ssl.create_default_context(cafile=str(tls.ca_file))
    auth = SharedKey(sim.config.account, sim.config.key)
    with BackgroundServer(sim, tls=tls) as server:
        assert server.url.startswith("https://")
        with httpx.Client(base_url=server.url, auth=auth, verify=trust) as c:
            for _ in range(3):
                assert c.get("/jobs", params={"api-version": API}).status_code == 200
        assert server.server.tls_handshakes == 1  # three requests, one kept connection
        with httpx.Client(base_url=server.url, auth=auth, verify=trust) as c:
            assert c.get("/jobs", params={"api-version": API}).status_code == 200
        assert server.server.tls_handshakes == 2


def test_after_a_refuse_outage_it_listens_again_over_tls(tmp_path: Path) -> None:
    sim = Simulator(SimConfig(seed=1, jobs=2, time_scale=0))
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    trust = ssl.create_default_context(cafile=str(tls.ca_file))
    auth = SharedKey(sim.config.account, sim.config.key)
    with BackgroundServer(sim, tls=tls) as server:
        sim.faults.outage(60, "refuse")
        assert wait_for_port(server.port, listening=False)
        sim.faults.clear()
        assert wait_for_port(server.port, listening=True)
        with httpx.Client(base_url=server.url, auth=auth, verify=trust) as c:
            assert c.get("/jobs", params={"api-version": API}).status_code == 200


def wait_for_port(port: int, *, listening: bool, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            up = True
        except OSError:
            up = False
        if up == listening:
            return True
        time.sleep(0.02)
    return False
