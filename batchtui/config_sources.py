"""Where account settings come from, each source read and checked on its own: the environment,
the Azure CLI's config file, and batchtui's config.toml (its accounts and its top-level settings).

Each source becomes a :class:`_Layer` of what it offers; ``batchtui.config`` ranks the layers
and resolves one account from them. A file that does not parse, or names a setting batchtui
does not know, is a one-line ConfigError here, before anything is resolved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchtui.batch.errors import ConfigError

_ACCOUNT_KEYS = frozenset({"endpoint", "account", "key", "auth", "api_version", "readonly"})
_BOOL_KEYS = frozenset({"readonly"})
_TOP_KEYS = frozenset(
    {"default_account", "accounts", "utc", "alerts", "notify", "alert_rise", "alert_offline"}
)
ALERT_CHOICES = ("all", "pinned")
NOTIFY_CHOICES = ("auto", "off", "osc9", "osc777", "osc99")


@dataclass
class _Layer:
    """The settings one source offers (None = not set there)."""

    source: str
    endpoint: str | None = None
    account: str | None = None
    key: str | None = None
    auth: str | None = None
    api_version: str | None = None
    path: Path | None = None  # the file it came from, for permission warnings
    profile: str | None = None
    readonly: bool = False


def az_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The Azure CLI config file (``$AZURE_CONFIG_DIR/config``, default ``~/.azure/config``)."""
    environ = os.environ if env is None else env
    base = environ.get("AZURE_CONFIG_DIR") or str(Path("~/.azure").expanduser())
    return Path(base).expanduser() / "config"


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _env_layer(environ: Mapping[str, str]) -> _Layer:
    return _Layer(
        source="env",
        endpoint=_clean(environ.get("AZURE_BATCH_ENDPOINT")),
        account=_clean(environ.get("AZURE_BATCH_ACCOUNT")),
        key=_clean(environ.get("AZURE_BATCH_ACCESS_KEY")),
        auth=_clean(environ.get("AZURE_BATCH_AUTH_MODE")),
    )


def _az_layer(path: Path) -> _Layer:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _Layer(source="az-config")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the Azure CLI config {path}: {exc}") from None
    import configparser  # only when there is a file to parse: most starts have none (~3 ms)

    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first = " ".join(str(exc).split())
        raise ConfigError(f"the Azure CLI config {path} does not parse: {first}") from None
    if not parser.has_section("batch"):
        return _Layer(source="az-config", path=path)
    section = parser["batch"]
    return _Layer(
        source="az-config",
        endpoint=_clean(section.get("endpoint")),
        account=_clean(section.get("account")),
        key=_clean(section.get("access_key")),
        auth=_clean(section.get("auth_mode")),
        path=path,
    )


def _load_toml(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a file to parse (~4 ms of every start otherwise)

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)"
        raise ConfigError(f"{path} does not parse: {exc}") from None


def _toml_accounts(doc: Mapping[str, Any], path: Path) -> dict[str, Mapping[str, Any]]:
    for name in doc:
        if name not in _TOP_KEYS:
            raise ConfigError(
                f"{path}: unknown setting {name!r} "
                "(expected default_account, utc, alerts, notify, alert_rise, alert_offline or [accounts.<name>])"
            )
    accounts = doc.get("accounts", {})
    if not isinstance(accounts, Mapping):
        raise ConfigError(f"{path}: 'accounts' must be a table of [accounts.<name>] sections")
    for name, table in accounts.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{path}: accounts.{name} must be a table")
        for key, value in table.items():
            if key not in _ACCOUNT_KEYS:
                allowed = ", ".join(sorted(_ACCOUNT_KEYS))
                raise ConfigError(
                    f"{path}: unknown setting {key!r} in [accounts.{name}] (allowed: {allowed})"
                )
            if key in _BOOL_KEYS:
                if not isinstance(value, bool):
                    raise ConfigError(f"{path}: accounts.{name}.{key} must be true or false")
            elif not isinstance(value, str):
                raise ConfigError(f"{path}: accounts.{name}.{key} must be a string")
    default = doc.get("default_account")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default_account must be a string")
    if not isinstance(doc.get("utc", False), bool):
        raise ConfigError(f"{path}: utc must be true or false")
    for key, choices in (("alerts", ALERT_CHOICES), ("notify", NOTIFY_CHOICES)):
        if key in doc and doc[key] not in choices:
            raise ConfigError(f"{path}: {key} must be one of {', '.join(repr(c) for c in choices)}")
    rise = doc.get("alert_rise", 1)
    if isinstance(rise, bool) or not isinstance(rise, int) or not 1 <= rise <= 1_000_000:
        raise ConfigError(f"{path}: alert_rise must be a whole number from 1 to 1000000")
    offline = doc.get("alert_offline", 60)
    if isinstance(offline, bool) or not isinstance(offline, int | float) or not 0 <= offline <= 86_400:
        raise ConfigError(f"{path}: alert_offline must be a number of seconds from 0 to 86400")
    return dict(accounts)


def _toml_layer(path: Path, profile: str | None) -> tuple[_Layer, bool, str | None]:
    """The chosen account of batchtui's config, whether the file holds any key, and a hint."""
    doc = _load_toml(path)
    if doc is None:
        if profile:
            raise ConfigError(f"no account {profile!r}: {path} does not exist")
        return _Layer(source="batchtui-config"), False, None
    accounts = _toml_accounts(doc, path)
    holds_key = any("key" in table for table in accounts.values())
    name = profile or doc.get("default_account")
    hint = None
    if name is None:
        if len(accounts) == 1:
            name = next(iter(accounts))
        elif accounts:
            hint = f"{path} has several accounts: choose one with --profile or set default_account"
            return _Layer(source="batchtui-config", path=path), holds_key, hint
        else:
            return _Layer(source="batchtui-config", path=path), holds_key, None
    if name not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise ConfigError(f"no account {name!r} in {path} (known: {known})")
    table = accounts[name]
    layer = _Layer(
        source="batchtui-config",
        endpoint=_clean(table.get("endpoint")),
        account=_clean(table.get("account")),
        key=_clean(table.get("key")),
        auth=_clean(table.get("auth")),
        api_version=_clean(table.get("api_version")),
        path=path,
        profile=name,
        readonly=bool(table.get("readonly", False)),
    )
    return layer, holds_key, hint
