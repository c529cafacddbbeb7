"""Shared fixtures. Keep this small and general: every test file may rely on it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the developer's real home, Azure CLI config or batchtui config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(home / ".azure"))
    monkeypatch.setenv("BATCHTUI_CONFIG_DIR", str(home / "batchtui-config"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in list(os.environ):
        if name.startswith("AZURE_BATCH_"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def batchtui_log(tmp_path: Path) -> Iterator[Path]:
    """``--log FILE`` as the CLI sets it up; the handler is removed again afterwards."""
    import logging

    from batchtui import cli

    path = tmp_path / "batchtui.log"
    before = list(cli.log.handlers)
    assert cli._setup_log(str(path))
    yield path
    for handler in cli.log.handlers[len(before) :]:
        handler.close()
        cli.log.removeHandler(handler)
    cli.log.setLevel(logging.NOTSET)


@pytest.fixture(autouse=True)
def machine_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC in every test (snapshots show local times); a test may set another TZ."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def load_data(name: str) -> Any:
    """A file from tests/data, parsed."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture
def data() -> Any:
    """``data("Jobs_ListJobs.json")`` -> the parsed JSON of a file in tests/data."""
    return load_data
