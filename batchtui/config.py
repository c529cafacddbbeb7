"""Which Batch account to talk to, and how to sign in.

Each setting is taken from the first of these that has it:

1. command-line flags (``--endpoint``, ``--account``, ``--key``, ``--auth``; ``--profile`` picks
   a named account from batchtui's config file and ranks just below the flags),
2. the environment variables the Azure CLI reads (``AZURE_BATCH_ENDPOINT``, ``AZURE_BATCH_ACCOUNT``,
   ``AZURE_BATCH_ACCESS_KEY``, ``AZURE_BATCH_AUTH_MODE``),
3. the ``[batch]`` section ``az batch account login`` writes to the Azure CLI config file
   (``$AZURE_CONFIG_DIR/config``, default ``~/.azure/config``),
4. batchtui's own ``config.toml`` (several named accounts; ``default_account`` picks one).

Credentials follow their endpoint: a source that names a *different* endpoint than the one
chosen contributes no account, key or auth mode, so a key is never paired with another
account's URL. No key and no mode means Microsoft Entra ID.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from batchtui.batch.auth import check_endpoint
from batchtui.batch.client import DEFAULT_API_VERSION
from batchtui.batch.errors import ConfigError
from batchtui.paths import user_config_dir

AuthMode = Literal["shared_key", "aad"]

_AUTH_ALIASES: dict[str, AuthMode] = {
    "shared_key": "shared_key",
    "sharedkey": "shared_key",
    "key": "shared_key",
    "aad": "aad",
    "entra": "aad",
    "entra_id": "aad",
}

_ACCOUNT_KEYS = frozenset({"endpoint", "account", "key", "auth", "api_version", "readonly"})
_BOOL_KEYS = frozenset({"readonly"})
_TOP_KEYS = frozenset(
    {"default_account", "accounts", "utc", "alerts", "notify", "alert_rise", "alert_offline"}
)
ALERT_CHOICES = ("all", "pinned")
NOTIFY_CHOICES = ("auto", "off", "osc9", "osc777", "osc99")


@dataclass(frozen=True)
class AccountSettings:
    endpoint: str  # always with a scheme, no trailing slash
    account: str | None
    key: str | None = field(repr=False)  # never printed
    auth_mode: AuthMode
    api_version: str = DEFAULT_API_VERSION
    source: str = "flag"  # where the endpoint came from: flag, env, az-config, batchtui-config
    warnings: tuple[str, ...] = ()  # things to tell the user that do not stop us
    profile: str | None = None  # the config.toml account used, if any
    #: nothing but GET and HEAD goes on the wire: --readonly, BATCHTUI_READONLY=1, or
    #: `readonly = true` for the account in config.toml (any one of them is enough)
    readonly: bool = False

    def __str__(self) -> str:
        return repr(self)


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
    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        return _Layer(source="az-config")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the Azure CLI config {path}: {exc}") from None
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


def _normalise_endpoint(endpoint: str) -> str:
    text = endpoint.strip()
    if "://" not in text:
        text = f"https://{text}"
    return check_endpoint(text, with_credentials=True)


def _same_endpoint(a: str, b: str) -> bool:
    try:
        return _normalise_endpoint(a).lower() == _normalise_endpoint(b).lower()
    except ConfigError:
        return False


def _auth_mode(value: str, where: str) -> AuthMode:
    mode = _AUTH_ALIASES.get(value.strip().lower().replace("-", "_"))
    if mode is None:
        raise ConfigError(f"unknown auth mode {value!r} from {where}: use shared_key or aad")
    return mode


def _group_or_other_readable(path: Path) -> bool:
    if os.name != "posix":
        return False
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o044)
    except OSError:
        return False


_WHERE = {
    "flag": "the command line",
    "env": "the environment",
    "az-config": "the Azure CLI config",
    "batchtui-config": "batchtui's config.toml",
}


def times_in_utc(*, env: Mapping[str, str] | None = None, config_file: Path | None = None) -> bool:
    """``utc = true`` in config.toml: times are shown in UTC (by default, in local time)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    path = config_file if config_file is not None else user_config_dir(environ) / "config.toml"
    doc = _load_toml(path)
    if doc is None:
        return False
    _toml_accounts(doc, path)  # the same checks (and one-line errors) as for the accounts
    return bool(doc.get("utc", False))


@dataclass(frozen=True)
class DashboardPrefs:
    """The dashboard's own settings in config.toml (flags override them)."""

    utc: bool = False
    alerts: str = "all"  # "all" jobs alert, or only the "pinned" ones
    notify: str = "auto"  # desktop notifications: the terminal's protocol, "off", or one named
    alert_rise: int = 1  # a job alerts again once its failures rose by this many
    alert_offline: float = 60.0  # seconds unreachable before the account alerts as offline
    profiles: tuple[str, ...] = ()  # every [accounts.<name>], in file order (--all-profiles)


def dashboard_prefs(
    *, env: Mapping[str, str] | None = None, config_file: Path | None = None
) -> DashboardPrefs:
    """The top-level settings of config.toml (defaults when there is no file)."""
    environ: Mapping[str, str] = os.environ if env is None else env
    path = config_file if config_file is not None else user_config_dir(environ) / "config.toml"
    doc = _load_toml(path)
    if doc is None:
        return DashboardPrefs()
    accounts = _toml_accounts(doc, path)
    return DashboardPrefs(
        utc=bool(doc.get("utc", False)),
        alerts=str(doc.get("alerts", "all")),
        notify=str(doc.get("notify", "auto")),
        alert_rise=int(doc.get("alert_rise", 1)),
        alert_offline=float(doc.get("alert_offline", 60)),
        profiles=tuple(accounts),
    )


def resolve_settings(
    *,
    endpoint: str | None = None,
    account: str | None = None,
    key: str | None = None,
    auth: str | None = None,
    api_version: str | None = None,
    profile: str | None = None,
    readonly: bool = False,
    env: Mapping[str, str] | None = None,
    az_config_dir: Path | None = None,
    config_file: Path | None = None,
) -> AccountSettings:
    """Work out the account settings; raise ConfigError with a one-line message if they are unusable."""
    environ: Mapping[str, str] = os.environ if env is None else env
    az_path = (az_config_dir / "config") if az_config_dir is not None else az_config_file(environ)
    toml_path = config_file if config_file is not None else user_config_dir(environ) / "config.toml"

    flags = _Layer(
        source="flag",
        endpoint=_clean(endpoint),
        account=_clean(account),
        key=_clean(key),
        auth=_clean(auth),
        api_version=_clean(api_version),
    )
    toml, toml_holds_key, toml_hint = _toml_layer(toml_path, _clean(profile))
    layers = [flags, _env_layer(environ), _az_layer(az_path), toml]
    if profile:
        # An explicit --profile is a command-line choice: it outranks env and az config.
        layers = [flags, toml, layers[1], layers[2]]

    chosen = next((layer for layer in layers if layer.endpoint), None)
    if chosen is None or chosen.endpoint is None:
        message = (
            "no Batch account endpoint: pass --endpoint, set AZURE_BATCH_ENDPOINT, run "
            f"`az batch account login`, or add an account to {toml_path}"
        )
        if toml_hint:
            message += f" ({toml_hint})"
        raise ConfigError(message)
    resolved_endpoint = _normalise_endpoint(chosen.endpoint)

    # Only sources that agree on the endpoint (or name none) may supply the credentials.
    usable = [
        layer
        for layer in layers
        if layer is chosen or layer.endpoint is None or _same_endpoint(layer.endpoint, resolved_endpoint)
    ]

    def pick(attr: str) -> tuple[str | None, _Layer | None]:
        for layer in usable:
            value = getattr(layer, attr)
            if value:
                return value, layer
        return None, None

    account_value, _ = pick("account")
    key_value, key_layer = pick("key")
    auth_value, auth_layer = pick("auth")
    version_value = next((v.api_version for v in usable if v.api_version), None) or DEFAULT_API_VERSION

    if auth_value is not None:
        assert auth_layer is not None
        mode = _auth_mode(auth_value, _WHERE[auth_layer.source])
    else:
        mode = "shared_key" if key_value else "aad"

    warnings: list[str] = []
    if mode == "aad":
        if flags.key:
            warnings.append("--key is ignored with Microsoft Entra ID sign-in (--auth aad)")
        key_value, key_layer = None, None
    else:
        if not account_value:
            raise ConfigError(
                "Shared Key authentication needs the account name: pass --account or set AZURE_BATCH_ACCOUNT"
            )
        if not key_value:
            raise ConfigError(
                "Shared Key authentication needs the account key: pass --key or set AZURE_BATCH_ACCESS_KEY "
                "(or use --auth aad)"
            )
        try:
            if not base64.b64decode(key_value, validate=True):
                raise ValueError("empty")
        except (binascii.Error, ValueError):
            where = _WHERE[key_layer.source] if key_layer else "the settings"
            raise ConfigError(f"the account key from {where} is not valid base64") from None

    checked: set[Path] = set()
    files_with_keys = []
    if key_layer is not None and key_layer.path is not None:
        files_with_keys.append(key_layer.path)
    if toml_holds_key:
        files_with_keys.append(toml_path)
    for path in files_with_keys:
        if path not in checked and _group_or_other_readable(path):
            warnings.append(f"{path} holds an account key and is readable by other users: chmod 600 {path}")
        checked.add(path)

    return AccountSettings(
        endpoint=resolved_endpoint,
        account=account_value,
        key=key_value,
        auth_mode=mode,
        api_version=version_value,
        source=chosen.source,
        warnings=tuple(warnings),
        profile=toml.profile if toml.profile and any(layer is toml for layer in usable) else None,
        # Read-only is a safety catch: any source that asks for it gets it.
        readonly=readonly
        or _truthy(environ.get("BATCHTUI_READONLY"))
        or any(layer.readonly for layer in usable),
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
