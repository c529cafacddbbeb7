"""The jobs an operator pinned (``*``): kept at the top, read every tick, shown on the kiosk.

One small file per account in the user state directory, written at each change (a pin is a
deliberate act: it must survive a crash as well as a restart). Bounded: at most ``MAX_PINS``
ids, each at most the service's 64 characters (longer ones in a file are ignored).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from batchtui.refresh.statefile import load_json, save_json

MAX_PINS = 200
MAX_ID = 64  # the service's limit for a job id
FILE_VERSION = 1


class PinStore:
    """Pinned job ids in the order they were pinned."""

    def __init__(self, ids: Iterable[str] = (), path: Path | None = None) -> None:
        self.path = path  # None: remembered only while batchtui runs
        self._ids: dict[str, None] = {}
        for job_id in ids:
            if len(self._ids) >= MAX_PINS:
                break
            self._ids[job_id] = None

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._ids

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def toggle(self, job_id: str) -> bool:
        """Pin or unpin ``job_id``; True when it is pinned now. Saves (OSError if it cannot)."""
        if job_id in self._ids:
            del self._ids[job_id]
            pinned = False
        else:
            if len(self._ids) >= MAX_PINS:
                raise ValueError(f"at most {MAX_PINS} jobs can be pinned")
            self._ids[job_id] = None
            pinned = True
        self.save()
        return pinned

    def save(self) -> None:
        if self.path is not None:
            save_json(self.path, {"version": FILE_VERSION, "pinned": list(self._ids)})

    @classmethod
    def load(cls, path: Path) -> PinStore:
        doc = load_json(path, max_bytes=64 * 1024)
        ids: list[str] = []
        if (
            isinstance(doc, dict)
            and doc.get("version") == FILE_VERSION
            and isinstance(doc.get("pinned"), list)
        ):
            ids = [i for i in doc["pinned"] if isinstance(i, str) and 0 < len(i) <= MAX_ID]
        return cls(ids, path)
