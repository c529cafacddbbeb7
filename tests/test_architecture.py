"""Import boundaries from ARCHITECTURE.md, checked in a fresh interpreter."""

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))
client = sorted(m for m in sys.modules if m.startswith('batchtui.batch'))
print('textual' if bad else 'ok', 'client' if client else 'noclient')
"""


@pytest.mark.parametrize(
    "module",
    ["batchtui.batch.models", "batchtui.batch.client", "batchtui.sim", "batchtui.sim.app", "batchtui.config"],
)
def test_data_layer_never_imports_textual(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "ok", f"{module} pulls in textual"


@pytest.mark.parametrize("module", ["batchtui.sim", "batchtui.sim.app"])
def test_simulator_stands_alone(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1] == "noclient", f"{module} imports batchtui.batch: the simulator must stand alone"
