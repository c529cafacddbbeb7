"""The one private name of a dependency batchtui touches: ``httpx._main`` (batchtui/__init__.py).

Each case runs in a fresh interpreter, since what is measured is what an import pulls in.
If the first test fails, httpx no longer imports its command-line client on ``import httpx``:
delete ``_skip_httpx_command_line``. If the second fails, httpx no longer falls back quietly
when that module cannot be imported: the skip would break httpx, so remove it too.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CLI_MODULES = ("httpx._main", "click", "pygments", "rich")

PROBE = """
import json, sys
{setup}
import httpx
loaded = [m for m in {modules!r} if sys.modules.get(m) is not None]
print(json.dumps({{"loaded": loaded, "main": callable(getattr(httpx, "main", None))}}))
"""


def probe(setup: str) -> dict[str, object]:
    code = PROBE.format(setup=setup, modules=CLI_MODULES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_plain_httpx_still_imports_its_command_line_client() -> None:
    pytest.importorskip("click")  # installed with uvicorn; without it there is nothing to skip
    result = probe("")
    assert "httpx._main" in result["loaded"] and "click" in result["loaded"]  # type: ignore[operator]


def test_batchtui_keeps_it_out_and_httpx_still_works() -> None:
    result = probe("import batchtui")
    assert result == {"loaded": [], "main": True}  # httpx's own fallback `main` is in place
    # and the client is whole: a real request through httpx's transport
    code = (
        "import batchtui, httpx\n"
        "t = httpx.MockTransport(lambda r: httpx.Response(200, text='ok'))\n"
        "print(httpx.Client(transport=t).get('http://x/').text)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "ok"
