"""batchtui: a keyboard-driven terminal dashboard for Azure Batch."""

import logging
import sys

__version__ = "0.1.0"

# A library's loggers stay silent unless someone listens (--log does): without this, Python's
# last-resort handler would print batchtui's warnings (a refused action) onto the terminal.
logging.getLogger("batchtui").addHandler(logging.NullHandler())


def _skip_httpx_command_line() -> None:
    """Keep httpx from importing its command-line client, which batchtui never uses.

    httpx's ``__init__`` imports ``httpx._main`` whenever click, pygments and rich are
    installed (uvicorn brings click, Textual brings rich and pygments), and falls back to a stub
    ``httpx.main`` on ImportError, as it does without those extras. That import is ~50 ms of
    every start (bench/README.md, "httpx's command line"): a tenth of ``--once`` at 200 jobs,
    the margin of its 10x goal. httpx has no public switch for it; a ``None`` entry in
    ``sys.modules`` is the import system's documented way of saying "not importable".

    This is the one private name of a dependency batchtui touches; tests/test_httpx_cli.py
    fails when httpx stops importing ``_main`` eagerly (then delete this) or stops falling
    back quietly (then this would break httpx).
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


_skip_httpx_command_line()
