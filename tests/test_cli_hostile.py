"""``batchtui --once`` against hostile services on loopback (issue 14): an endless list, a
silent server, one that trickles a byte a second, lone surrogates in valid JSON; and the
diagnostic log (printed once, reopened when rotated)."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from loopback_servers import serving

from batchtui import cli
from batchtui.cli import main

KEY = base64.b64encode(b"k" * 64).decode()
COUNTS = {"active": 1, "running": 0, "completed": 2, "succeeded": 2, "failed": 0}


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = main(["--once", "--endpoint", url, "--account", "acct", "--key", KEY, *argv])
    out, err = capsys.readouterr()
    return code, out, err, time.monotonic() - started


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("batchtui: error: ") and "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ 14.1 endless paging


def test_once_against_an_endless_list_stops_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with serving("skiptoken", page_size=1) as server:
        code, out, err, _ = run(capsys, server.url)
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert line.startswith("batchtui: error: list_jobs: stopped after 1,000 pages (1,000 items, ")
    assert line.endswith("at most 1,000 pages a listing) and the service still sent another odata.nextLink")
    assert server.requests == 1_000


# ------------------------------------------------------------------ 14.8 deadline


@pytest.mark.parametrize("mode", ["silent", "trickle"])
def test_once_gives_up_at_the_timeout(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    with serving(mode) as server:
        code, out, err, took = run(capsys, server.url, "--timeout", "1.5")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert line == (
        f"batchtui: error: no complete answer from {server.url} within 1.5 s "
        "(--timeout SECONDS allows longer); nothing printed"
    )
    assert 1.5 <= took < 6
    assert server.requests >= 1


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon", "100000"])
def test_bad_timeouts_are_one_line_usage_errors(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--once", "--demo", "--timeout", value])
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert "--timeout" in one_error_line(err)


# ------------------------------------------------------------------ 14.4 lone surrogates

BAD_ID = "job-\udfff-x"
BAD_NAME = "name \ud800 here"


def surrogate_service(path: str) -> tuple[int, Any]:
    if path == "/jobs":
        jobs = [
            {"id": BAD_ID, "displayName": BAD_NAME, "state": "active", "poolInfo": {"poolId": "p\udfff"}},
            {"id": "job-ok", "state": "active", "poolInfo": {"poolId": "pool"}},
        ]
        return 200, {"value": jobs}
    if path.endswith("/taskcounts"):
        return 200, {"taskCounts": COUNTS, "taskSlotCounts": COUNTS}
    return 404, {"code": "NotFound", "message": {"value": "no"}}


def test_once_json_escapes_lone_surrogates_and_the_bad_id_fails_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving("routes", route=surrogate_service) as server:
        code, out, err, _ = run(capsys, server.url, "-o", "json")
    assert code == 0, err
    assert "\\udfff" in out and "\udfff" not in out
    doc = json.loads(out)
    rows = {j["id"]: j for j in doc["jobs"]}
    assert set(rows) == {BAD_ID, "job-ok"}  # the same strings the service sent
    assert rows[BAD_ID]["displayName"] == BAD_NAME and rows[BAD_ID]["poolId"] == "p\udfff"
    assert rows[BAD_ID]["taskCounts"] is None
    assert rows[BAD_ID]["error"] == "job id 'job-\\udfff-x' cannot be sent: it holds a lone surrogate"
    assert rows["job-ok"]["taskCounts"] == COUNTS and rows["job-ok"]["error"] is None
    # Only the good job's counts were asked for: the other could not be put in a URL.
    assert sum(p.endswith("/taskcounts") for p in [p.split("?")[0] for p in server.paths]) == 1


def test_once_table_shows_lone_surrogates_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with serving("routes", route=surrogate_service) as server:
        code, out, err, _ = run(capsys, server.url)
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert set(lines) == {"job-\\udfff-x", "job-ok"}
    assert "p\\udfff" in lines["job-\\udfff-x"] and "cannot be sent" in lines["job-\\udfff-x"]
    assert lines["job-ok"].split()[3:7] == ["1", "0", "2", "0"]


# ------------------------------------------------------------------ 14.5 / 14.9 the log


def test_an_error_is_printed_once_without_a_log() -> None:
    """logging's last-resort handler must not echo what main() already printed."""
    refused = json.dumps({"code": "AuthenticationFailed", "message": {"value": "bad key"}}).encode()
    with serving("fixed", status=403, body=refused) as server:
        argv = ["--once", "--endpoint", server.url, "--account", "acct", "--key", KEY]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_BATCH_")}
        done = subprocess.run(
            [sys.executable, "-m", "batchtui", *argv], capture_output=True, text=True, timeout=60, env=env
        )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "batchtui: error: the account key was rejected (403 AuthenticationFailed): "
        "check AZURE_BATCH_ACCESS_KEY / --key"
    ]


def test_the_log_file_is_reopened_when_rotated(tmp_path: Path) -> None:
    path = tmp_path / "batchtui.log"
    assert cli._setup_log(str(path))
    try:
        cli.log.info("before the rotation")
        path.rename(tmp_path / "batchtui.log.1")  # what logrotate does
        cli.log.info("after the rotation")
        cli.log.warning("a lone surrogate: \udfff")
    finally:
        cli._setup_log(None)
    assert "before the rotation" in (tmp_path / "batchtui.log.1").read_text()
    assert "after the rotation" not in (tmp_path / "batchtui.log.1").read_text()
    fresh = path.read_text(encoding="utf-8")
    assert "after the rotation" in fresh and "a lone surrogate: \\udfff" in fresh


def test_logging_is_quiet_without_a_log_file(capsys: pytest.CaptureFixture[str]) -> None:
    cli._setup_log(None)
    handlers = [h for h in cli.log.handlers if not isinstance(h, logging.NullHandler)]
    assert handlers == [] and any(isinstance(h, logging.NullHandler) for h in cli.log.handlers)


# ------------------------------------------------------------------ 14.11 a warning seen


async def test_a_key_file_readable_by_others_is_also_said_in_the_app(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from batchtui.ui.app import BatchApp

    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[accounts.lab]\nendpoint = "http://127.0.0.1:9"\naccount = "lab"\nkey = "{KEY}"\n')
    cfg.chmod(0o644)
    started: list[BatchApp] = []
    monkeypatch.setattr(BatchApp, "run", lambda self, *a, **k: started.append(self))  # no terminal here
    assert main([]) == 0
    warning = f"{cfg} holds an account key and is readable by other users: chmod 600 {cfg}"
    assert capsys.readouterr().err == f"batchtui: warning: {warning}\n"  # as before the full screen
    (app,) = started
    app.client.retry = cli_retry_once()
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        shown = [(n.title, n.message, n.severity) for n in app._notifications]
    assert ("Warning", warning, "warning") in shown


def cli_retry_once() -> Any:
    from batchtui.batch.retry import RetryPolicy

    return RetryPolicy(max_attempts=1)


# ------------------------------------------------------------------ 14.2 decompression bomb


def gzip_bomb(decoded: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
    zeros = b"\0" * (1 << 20)
    parts = [packer.compress(zeros) for _ in range(decoded >> 20)]
    return b"".join(parts) + packer.flush()


def test_once_against_a_decompression_bomb_stays_small_and_lets_go(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bomb = gzip_bomb(512 << 20)  # 512 MiB once decoded, 16 times the client's cap
    assert len(bomb) < 1 << 20
    with serving("fixed", body=bomb, headers={"Content-Encoding": "gzip"}) as server:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            code, out, err, _ = run(capsys, server.url)
            after, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert code == 1 and out == ""
    assert one_error_line(err) == (
        "batchtui: error: list_jobs: the answer is larger than 33,554,432 bytes once decoded; not read further"
    )
    # The cap (32 MiB) plus what one network chunk decodes to (httpx inflates each chunk whole:
    # ~64 MiB of zeros from 64 KiB), whatever the bomb's size; not its 512 MiB.
    assert peak - before < 200 << 20
    assert after - before < 8 << 20  # and it is let go once the command is done
