"""batchtui: a keyboard-driven terminal dashboard for Azure Batch."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line client whenever click and rich happen to be installed
# (uvicorn brings click, Textual brings rich): click, pygments and rich.progress, ~50 ms of
# every start, for a module batchtui never uses. A None entry is Python's way of saying "not
# importable": httpx then falls back to a stub `httpx.main`, as it does without those extras.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
