"""A file of the test's own in front of the simulator: ``PlantedFile(sim, path, data)`` is an
ASGI app that answers HEAD and GET (``ocp-range`` honoured, answered 200 as the service does)
of one task file with ``data`` (which the test may grow or replace), and passes everything
else to the simulator. For contents the simulated world does not write: hostile bytes, lines
cut at any byte, a file that shrinks."""

from __future__ import annotations

from typing import Any

from batchtui.sim import Simulator


class PlantedFile:
    def __init__(self, sim: Simulator, path: str, data: bytes) -> None:
        self.sim, self.path, self.data = sim, path, data
        self.requests: list[tuple[str, str | None]] = []  # (method, ocp-range) of each read

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.sim(scope, receive, send)
            return
        asked = dict(scope["headers"]).get(b"ocp-range")
        self.requests.append((scope["method"], asked.decode() if asked else None))
        body = self.data
        if asked:
            start, end = (int(x) for x in asked.decode().split("=")[1].split("-"))
            if start >= len(self.data) and self.data:
                await _send(send, 416, b"", [])
                return
            body = self.data[start : end + 1]
        head = scope["method"] == "HEAD"
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"content-length", str(len(self.data) if head else len(body)).encode()),
            (b"last-modified", b"Tue, 01 Dec 2026 09:00:00 GMT"),
            (b"ocp-batch-file-isdirectory", b"False"),
        ]
        await _send(send, 200, b"" if head else body, headers)


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
