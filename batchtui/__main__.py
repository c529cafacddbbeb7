"""``python -m batchtui``."""

from batchtui.cli import run

run()
