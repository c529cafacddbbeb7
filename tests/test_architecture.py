"""Import boundaries from ARCHITECTURE.md, as import-linter contracts (pyproject.toml).

.ci/run runs ``lint-imports`` too; this test keeps the check inside the README's test command
and proves the contracts bite: a module that breaks one is reported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") >= 4


def test_a_data_plane_module_that_imports_textual_breaks_a_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "batchtui", tmp_path / "batchtui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "batchtui" / "batch" / "leak.py").write_text("import textual\nimport batchtui.config\n")
    (tmp_path / "batchtui" / "sim" / "leak.py").write_text("import batchtui.batch.client\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "batchtui.batch.leak -> textual" in done.stdout
    assert "batchtui.batch.leak -> batchtui.config" in done.stdout
    assert "batchtui.sim.leak -> batchtui.batch.client" in done.stdout
