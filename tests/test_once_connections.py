"""``--once`` opens no more connections than requests it may have in flight, and the flag sets
how many (bench/README.md, sessions 4-6: --once is CPU-bound, and each connection over TLS
costs a handshake)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import batchtui.demo as demo
from batchtui.batch.client import DEFAULT_CONCURRENCY, BatchClient
from batchtui.cli import main
from batchtui.sim import SimConfig, Simulator
from batchtui.sim.server import BackgroundServer
from batchtui.sim.tls import make_server_certificate


def test_once_over_tls_opens_at_most_its_connections_and_reads_every_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 20 ms per answer, so requests overlap and each one in flight holds a connection.
    sim = Simulator(SimConfig(seed=3, jobs=80, time_scale=0, latency_ms=20))
    tls = make_server_certificate(tmp_path, "127.0.0.1")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca_file))
    with BackgroundServer(sim, tls=tls) as server:
        account, key = sim.config.account, sim.config.key
        code = main(["--once", "-o", "json", "--endpoint", server.url, "--account", account, "--key", key])
        handshakes = server.server.tls_handshakes
        counts = sum(r.path.endswith("/taskcounts") for r in sim.requests)
    out, err = capsys.readouterr()
    assert code == 0, err
    jobs = json.loads(out)["jobs"]
    assert len(jobs) >= 70 and all(j["taskCounts"] is not None for j in jobs)
    assert counts == len(jobs)
    assert 1 < handshakes <= DEFAULT_CONCURRENCY


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--once"], DEFAULT_CONCURRENCY),
        (["--once", "--concurrency", "12"], 12),
        (["--concurrency", "5", "--once"], 5),
    ],
)
def test_the_flag_sets_how_many_requests_once_has_in_flight(
    argv: list[str], expected: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    class Spy(BatchClient):
        def __init__(self, *args: object, **kwargs: object) -> None:
            seen.update(kwargs)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(demo, "BatchClient", Spy)
    assert main(["--demo", *argv, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["jobs"]
    assert seen["max_concurrency"] == expected
