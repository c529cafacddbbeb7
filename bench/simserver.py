"""Start ``batchtui sim`` on a free loopback port for a benchmark, and stop it after."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_EXPORT = re.compile(
    r"^(?:export\s+)?(AZURE_BATCH_[A-Z_]+|SSL_CERT_FILE|REQUESTS_CA_BUNDLE)=['\"]?([^'\"\s]+)"
)


@dataclass(frozen=True)
class SimServer:
    endpoint: str
    env: dict[str, str]  # AZURE_BATCH_* (and with --tls the trust variables) as the simulator printed them
    process: subprocess.Popen[str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sim_server(*args: str, timeout: float = 60.0) -> Iterator[SimServer]:
    port = free_port()
    cmd = [sys.executable, "-m", "batchtui", "sim", "--port", str(port), *args]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ}
    )
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or line.startswith("# Ctrl+C"):  # the last line it prints before serving
                break
            m = _EXPORT.match(line.strip())
            if m:
                found[m.group(1)] = m.group(2)
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"simulator did not start: {' '.join(cmd)}")
        yield SimServer(found.get("AZURE_BATCH_ENDPOINT", f"http://127.0.0.1:{port}"), found, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
