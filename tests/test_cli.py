"""The command line as an operator meets it: one-line errors with exit 2, --once output, logs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from batchtui.cli import main
from tests.conftest import load_data

KEY = base64.b64encode(b"k" * 64).decode()
ENDPOINT = "https://acct.eastus.batch.azure.com"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse exits by itself
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_usage_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("batchtui: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--refresh", "0"], "--refresh"),
        (["--refresh", "-3"], "--refresh"),
        (["--refresh", "soon"], "--refresh"),
        (["--state", "sleeping"], "--state"),
        (["--auth", "password"], "--auth"),
        (["--output", "xml", "--once"], "--output"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "many"], "--concurrency"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv, needle) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert_one_line_usage_error(code, out, err, needle)


def test_missing_endpoint_says_what_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--once")
    assert_one_line_usage_error(code, out, err, "AZURE_BATCH_ENDPOINT", "--endpoint")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--endpoint", "https://", "--account", "a", "--key", KEY], "endpoint"),
        (["--endpoint", "not a url at all", "--account", "a", "--key", KEY], "endpoint"),
        (["--endpoint", ENDPOINT, "--account", "a", "--key", "not*base64!"], "base64"),
        (["--endpoint", ENDPOINT, "--key", KEY], "account"),
        (["--endpoint", "http://batch.example.com", "--account", "a", "--key", KEY], "http"),
    ],
)
def test_bad_account_settings(capsys: pytest.CaptureFixture[str], argv, needle) -> None:
    code, out, err = run_cli(capsys, "--once", *argv)
    assert_one_line_usage_error(code, out, err, needle)
    assert KEY not in err


def test_broken_config_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text("[accounts.prod\nendpoint = 'x'\n")
    code, out, err = run_cli(capsys, "--once")
    assert_one_line_usage_error(code, out, err, "config.toml")


def test_unknown_key_in_config_is_reported(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[accounts.prod]\nendpoint = "{ENDPOINT}"\naccount = "a"\nkee = "{KEY}"\n')
    cfg.chmod(0o600)
    code, out, err = run_cli(capsys, "--once")
    assert_one_line_usage_error(code, out, err, "kee")


def test_once_json_against_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--demo", "--once", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"endpoint", "account", "fetched_at", "jobs", "pools"}
    assert doc["account"] == "demo"
    assert doc["fetched_at"].endswith("Z")
    assert len(doc["jobs"]) > 5
    states = [j["state"] for j in doc["jobs"]]
    assert "active" in states and "completed" in states
    # unfinished jobs first (the dashboard's order), then the finished ones, newest first
    finished = [s == "completed" for s in states]
    assert finished == sorted(finished)
    done = [j["creationTime"] for j, f in zip(doc["jobs"], finished, strict=True) if f]
    assert done == sorted(done, reverse=True)
    for job in doc["jobs"]:
        assert set(job) == {
            "id",
            "displayName",
            "state",
            "poolId",
            "creationTime",
            "taskCounts",
            "taskSlotCounts",
            "error",
        }
        assert job["error"] is None
        c = job["taskCounts"]
        assert set(c) == {"active", "running", "completed", "succeeded", "failed"}
        assert c["succeeded"] + c["failed"] == c["completed"]
        assert job["taskSlotCounts"]["completed"] >= c["completed"]
    # every pool with its node counts spelled exactly as /nodecounts spells them
    recorded = load_data("recorded_js_Pools_ListPoolNodeCounts.json")["Entries"][0]["ResponseBody"]["value"][
        0
    ]
    assert [p["id"] for p in doc["pools"]] == sorted(p["id"] for p in doc["pools"]) and len(doc["pools"]) == 6
    for pool in doc["pools"]:
        assert set(pool) == {"id", "dedicated", "lowPriority"}
        assert list(pool["dedicated"]) == list(recorded["dedicated"])
        assert list(pool["lowPriority"]) == list(recorded["lowPriority"])
    hpc = next(p for p in doc["pools"] if p["id"] == "pool-hpc-a")
    assert hpc["dedicated"]["startTaskFailed"] == 1 and hpc["dedicated"]["total"] == 64


def test_once_state_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--demo", "--once", "-o", "json", "--state", "completed")
    assert code == 0
    jobs = json.loads(out)["jobs"]
    assert jobs and {j["state"] for j in jobs} == {"completed"}


def test_once_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--demo", "--once", "-o", "table")
    assert code == 0
    lines = out.splitlines()
    header = ["JOB", "STATE", "POOL", "ACTIVE", "RUNNING", "SUCCEEDED", "FAILED", "DONE%", "NOTE"]
    assert lines[0].split() == header
    assert "jobs · demo · 6 pools" in lines[-1]
    pools = lines.index("") + 1
    assert lines[pools].split() == [
        "POOL",
        "DEDICATED",
        "SPOT",
        "IDLE",
        "RUNNING",
        "STARTING",
        "SICK",
        "NOTE",
    ]
    stuck = next(line for line in lines[pools:] if line.startswith("pool-hpc-a"))
    assert "start task failed" in stuck


def test_once_does_not_import_the_ui() -> None:
    # Neither Textual nor what httpx's own command-line client would drag in (rich, click).
    code = (
        "import sys, io, contextlib\n"
        "from batchtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['--demo', '--once', '-o', 'json'])\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print(rc, sorted(top & {'textual', 'rich', 'click', 'pygments'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "[]"]


#: what --once never needs: the task, pool and node models, file reads, the log file's handler,
#: the config files' parsers (with none to read), and httpcore with anyio (httpx imports it
#: for its own transport only)
ONCE_NEVER_LOADS = (
    "batchtui.batch.task_models",
    "batchtui.batch.pools",
    "batchtui.batch.files",
    "logging.handlers",
    "tomllib",
    "configparser",
    "anyio",
    "httpcore",
)


def test_once_over_the_wire_loads_only_what_it_uses(tmp_path: Path) -> None:
    """Every module costs every start; a frozen dataclass ~1.3 ms to build (bench/README.md)."""
    from batchtui.sim import SimConfig, Simulator
    from batchtui.sim.server import BackgroundServer

    sim = Simulator(SimConfig(seed=3, jobs=20, time_scale=0))
    code = (
        "import sys, io, contextlib\n"
        "from batchtui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    rc = main(['--once', '-o', 'json'])\n"
        "jobs = len(__import__('json').loads(out.getvalue())['jobs'])\n"
        "print(rc, jobs, 'uvloop' in sys.modules, end=' ')\n"
        f"print([m for m in {ONCE_NEVER_LOADS!r} if m in sys.modules])\n"
    )
    with BackgroundServer(sim) as server:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),  # no config file of the developer's
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "AZURE_CONFIG_DIR": str(tmp_path / "az"),
            "AZURE_BATCH_ENDPOINT": server.url,
            "AZURE_BATCH_ACCOUNT": sim.config.account,
            "AZURE_BATCH_ACCESS_KEY": sim.config.key,
        }
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
        )
    assert done.returncode == 0, done.stderr
    rc, jobs, uvloop, loaded = done.stdout.split(maxsplit=3)
    assert (rc, loaded.strip()) == ("0", "[]") and int(jobs) >= 15
    # its event loop is uvloop's where installed (a dependency but on Windows): less CPU
    assert uvloop == str(sys.platform != "win32")


def test_log_file_has_requests_and_no_secret(capsys, tmp_path: Path) -> None:
    from batchtui.sim import DEMO_KEY

    log = tmp_path / "batchtui.log"
    code, _, err = run_cli(capsys, "--demo", "--once", "-o", "json", "--log", str(log))
    assert code == 0, err
    text = log.read_text()
    assert "GET http://127.0.0.1:8765/jobs?" in text
    assert "request-id=" in text and "request-id=-" not in text.splitlines()[0]
    assert DEMO_KEY not in text
    assert "SharedKey" not in text


def test_unwritable_log_is_a_usage_error(capsys, tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "--demo", "--once", "--log", str(tmp_path / "no" / "such" / "dir.log"))
    assert_one_line_usage_error(code, out, err, "log")


def test_console_script_reports_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "batchtui", "--refresh", "-3"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_concurrency_flag_bounds_the_client(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    import batchtui.demo as demo

    seen: dict[str, object] = {}
    real = demo.BatchClient

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            seen.update(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(demo, "BatchClient", Spy)
    code, out, err = run_cli(capsys, "--demo", "--once", "-o", "json", "--concurrency", "3")
    assert code == 0, err
    assert seen["max_concurrency"] == 3
    assert json.loads(out)["jobs"]


def test_main_called_as_a_library_leaves_the_collector_alone(capsys: pytest.CaptureFixture[str]) -> None:
    # The console script tunes the collector for its own process (gc.freeze, and a larger
    # young generation for --once); a program or test calling main() keeps its own settings.
    import gc

    before = gc.get_threshold(), gc.get_freeze_count()
    code, _, _ = run_cli(capsys, "--demo", "--once", "-o", "json")
    assert code == 0
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
