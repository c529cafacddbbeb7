"""Headless Chromium driven over the DevTools protocol (CDP), for ``batchtui serve``'s tests.

A small CDP client on aiohttp's websocket client (aiohttp comes with textual-serve): launch
Chromium with ``--remote-debugging-port=0``, read the port it chose from ``DevToolsActivePort``
in its profile directory, open tabs as targets, evaluate JavaScript in them.

textual-serve's xterm.js draws with its WebGL or canvas renderer, so the page's DOM holds no
text. What the renderer paints is the terminal's buffer: :meth:`Tab.terminal_text` finds the
page's xterm ``Terminal`` among the page's objects (``Runtime.queryObjects``; textual.js keeps it
in a closure, not a global) and reads its lines with xterm's public ``buffer`` API.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs a real browser: the Debian package chromium (apt-get install -y chromium; .ci/run installs it)",
)

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
)

# Runs in the page: the xterm Terminal held by textual.js's session object, its lines as text.
_READ_TERMINAL = """function () {
  for (const o of this) {
    try {
      const b = o && o.terminal && o.terminal.buffer && o.terminal.buffer.active;
      if (b && typeof b.getLine === "function") {
        const out = [];
        for (let y = 0; y < b.length; y++) {
          const line = b.getLine(y);
          out.push(line ? line.translateToString(true) : "");
        }
        return out.join("\\n");
      }
    } catch (e) {}
  }
  return null;
}"""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self) -> None:
        assert CHROMIUM is not None
        self._profile = tempfile.TemporaryDirectory(prefix="batchtui-chromium-", ignore_cleanup_errors=True)
        self._proc: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Browser:
        profile = Path(self._profile.name)
        self._proc = await asyncio.create_subprocess_exec(
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helpers (renderer, crashpad) are stopped with it
        )
        active = profile / "DevToolsActivePort"
        for _ in range(300):  # up to 30 s for a cold start on a busy machine
            if active.exists() and len(active.read_text().splitlines()) >= 2:
                break
            if self._proc.returncode is not None:
                raise CDPError(f"chromium exited at once (code {self._proc.returncode})")
            await asyncio.sleep(0.1)
        else:
            raise CDPError("chromium did not open its DevTools port within 30 s")
        port, path = active.read_text().splitlines()[:2]
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=64 << 20)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
        if self._proc is not None:
            if self._proc.returncode is None:
                _signal_group(self._proc.pid, signal.SIGTERM)
                try:
                    async with asyncio.timeout(10):
                        await self._proc.wait()
                except TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
            _signal_group(self._proc.pid, signal.SIGKILL)  # a helper still writing the profile
        # Chromium's helpers may still be closing files in the profile for a moment after the
        # browser exits ("Directory not empty" seen on a loaded CI machine): try for a while.
        for _ in range(50):
            try:
                shutil.rmtree(self._profile.name)
                break
            except FileNotFoundError:
                break
            except OSError:
                await asyncio.sleep(0.1)
        self._profile.cleanup()

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                if "error" in data:
                    future.set_exception(CDPError(str(data["error"])))
                else:
                    future.set_result(data.get("result", {}))

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        assert self._ws is not None
        n = next(self._ids)
        message: dict[str, Any] = {"id": n, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[n] = future
        await self._ws.send_str(json.dumps(message))
        async with asyncio.timeout(30):
            return await future

    async def open(self, url: str) -> Tab:
        target = await self.call("Target.createTarget", {"url": url})
        attached = await self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        return Tab(self, target["targetId"], attached["sessionId"])


class Tab:
    def __init__(self, browser: Browser, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session

    async def evaluate(self, expression: str) -> Any:
        result = await self.browser.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session
        )
        return result["result"].get("value")

    async def terminal_text(self) -> str | None:
        """The lines of the page's terminal as xterm holds them for its renderer, or None.

        None too while the page is between documents (loading, reloading): the objects of the
        old one are gone, and the caller asks again."""
        try:
            return await self._terminal_text()
        except CDPError as exc:
            if "context" in str(exc).lower() or "object" in str(exc).lower():
                return None
            raise

    async def _terminal_text(self) -> str | None:
        call = self.browser.call
        group = {"objectGroup": "batchtui-probe"}
        proto = await call("Runtime.evaluate", {"expression": "Object.prototype", **group}, self.session)
        found = await call(
            "Runtime.queryObjects", {"prototypeObjectId": proto["result"]["objectId"], **group}, self.session
        )
        result = await call(
            "Runtime.callFunctionOn",
            {
                "objectId": found["objects"]["objectId"],
                "functionDeclaration": _READ_TERMINAL,
                "returnByValue": True,
            },
            self.session,
        )
        await call("Runtime.releaseObjectGroup", group, self.session)
        value = result["result"].get("value")
        return value if isinstance(value, str) else None

    async def close(self) -> None:
        await self.browser.call("Target.closeTarget", {"targetId": self.target})
