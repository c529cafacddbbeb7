"""scripts/prometheus_check.py, run as the README says: a real Prometheus (the Debian package)
scrapes ``batchtui exporter`` against the simulator and the values read back through its HTTP API
equal the simulator's; promtool checks and unit-tests the shipped alert rules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "prometheus_check.py"


@pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="needs the Debian package prometheus (apt-get install -y prometheus; .ci/run installs it)",
)
def test_a_real_prometheus_reads_the_exporters_values_back() -> None:
    run = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "prometheus-check: all checks passed" in run.stdout
    assert "(the simulator says" in run.stdout
    assert "AzureBatchAccountDown pending" in run.stdout or "AzureBatchAccountDown firing" in run.stdout
    assert "Traceback" not in run.stderr
