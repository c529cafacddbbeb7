"""Where batchtui keeps the user's files: config (config.toml, themes) and state (history, pins).

Apart from config.py so the UI (themes) and the refresh engine (history) can find their files
without importing the account settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """batchtui's per-user config directory; ``BATCHTUI_CONFIG_DIR`` overrides it."""
    environ = os.environ if env is None else env
    override = environ.get("BATCHTUI_CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("batchtui", appauthor=False))


def user_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """batchtui's per-user state directory; ``BATCHTUI_STATE_DIR`` overrides it."""
    environ = os.environ if env is None else env
    override = environ.get("BATCHTUI_STATE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir("batchtui", appauthor=False))
