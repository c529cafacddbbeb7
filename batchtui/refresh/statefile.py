"""Small JSON files in the user state directory (history, pins): written atomically, read bounded.

A state file is a convenience, never a reason to stop: one that is missing, too large, torn
or not JSON reads as None and the caller starts afresh. Writes go to a temporary file in the
same directory, flushed to disk, then renamed over the old one, so a crash or a full disk
leaves the previous version whole.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

#: a state file larger than this is not read (history for 2,000 jobs is about 2 MB)
MAX_STATE_BYTES = 16 * 1024 * 1024


def save_json(path: Path, doc: object) -> None:
    """Write ``doc`` to ``path`` atomically; raises OSError (the caller says it could not save)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_json(path: Path, max_bytes: int = MAX_STATE_BYTES) -> object | None:
    """The document in ``path``, or None when there is none or it cannot be used."""
    try:
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError:
        return None
    if len(raw) > max_bytes:
        return None
    try:
        doc: object = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return doc


def _no_constant(name: str) -> object:
    # NaN and Infinity are not JSON: a sample at time "Infinity" would break every comparison.
    raise ValueError(f"{name} is not a number batchtui writes")
