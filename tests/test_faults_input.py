"""Bad input from the operator, beyond what tests/test_cli.py and tests/test_config.py cover:
an unknown theme, plain http to a remote host (the message says why), bad settings from the
environment and from the config file. Each is one line naming what to fix, exit code 2, no
traceback and never the key."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from batchtui.cli import main
from batchtui.ui.themes import available_theme_names

KEY = base64.b64encode(b"input-test-key-" * 4).decode()
ENDPOINT = "https://acct.eastus.batch.azure.com"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


def one_line(code: int, err: str, *needles: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("batchtui: error: ") and "Traceback" not in err
    assert KEY not in err
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def test_unknown_theme_lists_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--demo", "--theme", "nope")
    line = one_line(code, err, "unknown theme 'nope'", "choose one of:")
    names = sorted(available_theme_names())
    assert names and line.endswith(", ".join(names))


def test_unknown_theme_from_the_console_script_has_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "batchtui", "--demo", "--theme", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "endpoint", ["http://batch.example.com", "http://10.0.0.5:8080", "http://[2001:db8::1]"]
)
def test_plain_http_to_a_remote_host_is_refused_and_says_why(
    capsys: pytest.CaptureFixture[str], endpoint: str
) -> None:
    code, err = run(capsys, "--once", "--endpoint", endpoint, "--account", "a", "--key", KEY)
    one_line(
        code,
        err,
        "refusing to send credentials over plain http",
        "could read or replay them",
        "use an https:// endpoint",
    )


def test_plain_http_refused_for_entra_id_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--once", "--endpoint", "http://batch.example.com", "--auth", "aad")
    one_line(code, err, "plain http")


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"AZURE_BATCH_ENDPOINT": "https://exa mple"}, ("endpoint", "not a valid URL")),
        ({"AZURE_BATCH_ENDPOINT": "ftp://acct.batch.azure.com"}, ("endpoint", "not a valid URL")),
        (
            {"AZURE_BATCH_ENDPOINT": ENDPOINT, "AZURE_BATCH_ACCOUNT": "a", "AZURE_BATCH_ACCESS_KEY": "zz*"},
            ("key", "base64"),
        ),
        ({"AZURE_BATCH_ENDPOINT": ENDPOINT, "AZURE_BATCH_ACCESS_KEY": KEY}, ("account",)),
        ({"AZURE_BATCH_ENDPOINT": ENDPOINT, "AZURE_BATCH_AUTH_MODE": "password"}, ("password",)),
    ],
)
def test_bad_settings_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    needles: tuple[str, ...],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, err = run(capsys, "--once")
    one_line(code, err, *needles)


def test_a_config_file_with_a_bad_value_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(tmp_path))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[accounts.prod]\nendpoint = "{ENDPOINT}"\naccount = "a"\nkey = "{KEY}*"\n')
    cfg.chmod(0o600)
    code, err = run(capsys, "--once")
    one_line(code, err, "base64")
