"""Themes as files: the shipped ones (``themes/*.toml``) plus the user's own.

Shipped themes live in the package's ``themes`` folder in a wheel (pyproject force-includes
the repository's ``themes/`` there) and in the repository's ``themes/`` in a checkout. User
themes live in ``<user config dir>/themes``. Every file is validated strictly: an unknown key
or a colour that does not parse gets that file reported (once) and skipped, never a crash.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from batchtui.paths import user_config_dir

DEFAULT_THEME = "batchtui-dark"

#: dashboard colours every theme may set (screens' CSS uses only these and Textual's own)
APP_VARIABLES: tuple[str, ...] = (
    "state-active",
    "state-running",
    "state-succeeded",
    "state-failed",
    "state-completed",
    "state-disabled",
    "row-changed",
)
# Where a theme that does not set a dashboard colour gets it from (its own semantic colours).
_DERIVED: dict[str, str] = {
    "state-active": "warning",
    "state-running": "primary",
    "state-succeeded": "success",
    "state-failed": "error",
    "state-completed": "foreground-muted",
    "state-disabled": "foreground-disabled",
    "row-changed": "primary-muted",
}
_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Values of the dashboard's variables for ``theme`` when it does not set them itself."""
    generated = theme.to_color_system().generate()
    return {name: generated[source] for name, source in _DERIVED.items()}


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message says what is wrong in it."""


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"theme file {self.path.name} skipped: {self.message}"


@cache
def _textual_variables() -> dict[str, bool]:
    """Textual's own theme variables -> whether their value is a colour."""
    generated = Theme(name="probe", primary="black").to_color_system().generate()
    out: dict[str, bool] = {}
    for name, value in generated.items():
        try:
            Color.parse(value)
            out[name] = True
        except ColorParseError:
            out[name] = False
    return out


def _colour(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{where} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{where} = {value[:40]!r} is not a colour") from None
    return value


def parse_theme(data: Mapping[str, Any]) -> Theme:
    """A validated Theme from a theme file's table (raises ThemeFileError)."""
    allowed = set(_COLOUR_FIELDS) | set(_OTHER_FIELDS) | {"variables"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ThemeFileError(f"unknown key(s): {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeFileError("name must be lower-case letters, digits, '-' or '_' (at most 41)")
    if "primary" not in data:
        raise ThemeFileError("primary is required")
    kwargs: dict[str, Any] = {"name": name}
    for key in _COLOUR_FIELDS:
        if key in data:
            kwargs[key] = _colour(data[key], key)
    for key, kind in _OTHER_FIELDS.items():
        if key == "name" or key not in data:
            continue
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind):
            raise ThemeFileError(f"{key} must be a {kind.__name__}")
        kwargs[key] = value
    variables = data.get("variables", {})
    if not isinstance(variables, Mapping):
        raise ThemeFileError("[variables] must be a table")
    textual_vars = _textual_variables()
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if key in APP_VARIABLES or textual_vars.get(key):
            checked[key] = _colour(value, f"variables.{key}")
        elif key in textual_vars:
            if not isinstance(value, str) or not value.strip():
                raise ThemeFileError(f"variables.{key} must be a non-empty string")
            checked[key] = value
        else:
            raise ThemeFileError(f"unknown variable {key!r}")
    kwargs["variables"] = checked
    return Theme(**kwargs)


def load_theme_file(path: Path) -> Theme:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ThemeFileError(f"cannot read it ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"not valid TOML ({exc})") from None
    return parse_theme(data)


def shipped_theme_dirs() -> list[Path]:
    """The package's themes (wheel), then the repository's themes/ (running from a checkout)."""
    here = Path(__file__).resolve().parent.parent  # batchtui/
    dirs = [here / "themes", here.parent / "themes"]
    return [d for d in dirs if d.is_dir()]


def user_theme_dir() -> Path:
    """The user's own theme files live beside batchtui's config.toml."""
    return user_config_dir() / "themes"


def _load_dir(directory: Path, themes: dict[str, Theme], problems: list[ThemeProblem]) -> None:
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix == ".toml" and p.is_file())
    except OSError:
        return
    for path in files:
        try:
            theme = load_theme_file(path)
        except ThemeFileError as exc:
            problems.append(ThemeProblem(path, str(exc)))
            continue
        themes[theme.name] = theme


def load_themes(user_dir: Path | None = None) -> tuple[dict[str, Theme], list[ThemeProblem]]:
    """All usable themes by name (user files override shipped ones) and the files skipped."""
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    shipped = shipped_theme_dirs()
    # In a checkout the package dir has no themes/, so this is one directory either way.
    if shipped:
        _load_dir(shipped[0], themes, problems)
    _load_dir(user_dir if user_dir is not None else user_theme_dir(), themes, problems)
    return themes, problems


def available_theme_names(user_dir: Path | None = None) -> list[str]:
    """Names ``--theme`` accepts (for the CLI's one-line error)."""
    themes, _ = load_themes(user_dir)
    return sorted(themes)
