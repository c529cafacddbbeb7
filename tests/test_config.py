"""Settings resolution: flags > env > az CLI [batch] > batchtui's config.toml, and validation.

The autouse fixture in conftest.py points HOME, AZURE_CONFIG_DIR, BATCHTUI_CONFIG_DIR and
XDG_CONFIG_HOME at temp dirs and clears AZURE_BATCH_*, so nothing here sees a real account.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest

from batchtui.batch import auth as auth_module
from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth
from batchtui.batch.client import DEFAULT_API_VERSION, BatchClient
from batchtui.batch.errors import ConfigError, InsecureEndpointError
from batchtui.config import AccountSettings, resolve_settings
from batchtui.paths import user_config_dir

KEY_FLAG = base64.b64encode(b"f" * 64).decode()
KEY_ENV = base64.b64encode(b"e" * 64).decode()
KEY_AZ = base64.b64encode(b"a" * 64).decode()
KEY_TOML = base64.b64encode(b"t" * 64).decode()


def az_dir() -> Path:
    return Path(os.environ["AZURE_CONFIG_DIR"])


def toml_dir() -> Path:
    return Path(os.environ["BATCHTUI_CONFIG_DIR"])


def write_az(body: str, mode: int = 0o600) -> Path:
    az_dir().mkdir(parents=True, exist_ok=True)
    path = az_dir() / "config"
    path.write_text(body, encoding="utf-8")
    path.chmod(mode)
    return path


def write_toml(body: str, mode: int = 0o600) -> Path:
    toml_dir().mkdir(parents=True, exist_ok=True)
    path = toml_dir() / "config.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(mode)
    return path


AZ_CONFIG = f"""
[cloud]
name = AzureCloud

[batch]
account = azacct
endpoint = https://azacct.westus.batch.azure.com
access_key = {KEY_AZ}
auth_mode = shared_key
"""

TOML_CONFIG = f"""
default_account = "prod"

[accounts.prod]
endpoint = "prodacct.eastus.batch.azure.com"
account = "prodacct"
key = "{KEY_TOML}"
auth = "shared_key"

[accounts.lab]
endpoint = "https://labacct.northeurope.batch.azure.com"
account = "labacct"
api_version = "2024-07-01.20.0"
"""


# ------------------------------------------------------------------ precedence


def test_precedence_flags_env_az_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(TOML_CONFIG)
    s = resolve_settings()
    assert (s.endpoint, s.account, s.key, s.auth_mode, s.source, s.profile) == (
        "https://prodacct.eastus.batch.azure.com",
        "prodacct",
        KEY_TOML,
        "shared_key",
        "batchtui-config",
        "prod",
    )

    write_az(AZ_CONFIG)
    s = resolve_settings()
    assert (s.endpoint, s.account, s.key, s.source) == (
        "https://azacct.westus.batch.azure.com",
        "azacct",
        KEY_AZ,
        "az-config",
    )

    monkeypatch.setenv("AZURE_BATCH_ENDPOINT", "envacct.uksouth.batch.azure.com")
    monkeypatch.setenv("AZURE_BATCH_ACCOUNT", "envacct")
    monkeypatch.setenv("AZURE_BATCH_ACCESS_KEY", KEY_ENV)
    s = resolve_settings()
    assert (s.endpoint, s.account, s.key, s.source) == (
        "https://envacct.uksouth.batch.azure.com",
        "envacct",
        KEY_ENV,
        "env",
    )

    s = resolve_settings(
        endpoint="https://flagacct.japaneast.batch.azure.com", account="flagacct", key=KEY_FLAG
    )
    assert (s.endpoint, s.account, s.key, s.source) == (
        "https://flagacct.japaneast.batch.azure.com",
        "flagacct",
        KEY_FLAG,
        "flag",
    )


def test_flags_override_single_fields_of_a_lower_source(monkeypatch: pytest.MonkeyPatch) -> None:
    write_az(AZ_CONFIG)
    s = resolve_settings(auth="aad")
    assert (s.endpoint, s.account, s.key, s.auth_mode) == (
        "https://azacct.westus.batch.azure.com",
        "azacct",
        None,
        "aad",
    )
    monkeypatch.setenv("AZURE_BATCH_AUTH_MODE", "aad")
    assert resolve_settings().auth_mode == "aad"
    assert resolve_settings(auth="shared_key").key == KEY_AZ


def test_credentials_follow_their_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """The az config's key belongs to azacct; it must not be paired with another endpoint."""
    write_az(AZ_CONFIG)
    monkeypatch.setenv("AZURE_BATCH_ENDPOINT", "https://other.eastus.batch.azure.com")
    s = resolve_settings()
    assert (s.endpoint, s.account, s.key, s.auth_mode) == (
        "https://other.eastus.batch.azure.com",
        None,
        None,
        "aad",
    )
    # the same endpoint written differently still matches
    monkeypatch.setenv("AZURE_BATCH_ENDPOINT", "AZACCT.westus.batch.azure.com/")
    s = resolve_settings()
    assert (s.account, s.key, s.auth_mode) == ("azacct", KEY_AZ, "shared_key")


def test_explicit_env_mapping_and_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_BATCH_ENDPOINT", "https://ignored.eastus.batch.azure.com")
    (tmp_path / "az").mkdir()
    (tmp_path / "az" / "config").write_text("[batch]\nendpoint = azonly.eastus.batch.azure.com\n")
    s = resolve_settings(env={}, az_config_dir=tmp_path / "az")
    assert (s.endpoint, s.source) == ("https://azonly.eastus.batch.azure.com", "az-config")
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('[accounts.x]\nendpoint = "x.eastus.batch.azure.com"\n')
    s = resolve_settings(env={}, az_config_dir=tmp_path / "nothing", config_file=cfg)
    assert (s.endpoint, s.source, s.profile) == ("https://x.eastus.batch.azure.com", "batchtui-config", "x")


# ------------------------------------------------------------------ named accounts


def test_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    write_toml(TOML_CONFIG)
    lab = resolve_settings(profile="lab")
    assert (lab.endpoint, lab.account, lab.key, lab.auth_mode, lab.api_version, lab.profile) == (
        "https://labacct.northeurope.batch.azure.com",
        "labacct",
        None,
        "aad",
        "2024-07-01.20.0",
        "lab",
    )
    # --profile is a command-line choice: it outranks the environment
    monkeypatch.setenv("AZURE_BATCH_ENDPOINT", "https://envacct.uksouth.batch.azure.com")
    assert resolve_settings(profile="lab").endpoint == "https://labacct.northeurope.batch.azure.com"
    assert resolve_settings().endpoint == "https://envacct.uksouth.batch.azure.com"
    # --api-version beats the profile's
    assert resolve_settings(profile="lab", api_version="2025-06-01").api_version == "2025-06-01"
    with pytest.raises(ConfigError, match=r"no account 'staging' in .*config\.toml \(known: lab, prod\)"):
        resolve_settings(profile="staging")


def test_several_accounts_without_default_are_not_guessed() -> None:
    write_toml(TOML_CONFIG.replace('default_account = "prod"', ""))
    with pytest.raises(ConfigError, match="several accounts: choose one with --profile") as info:
        resolve_settings()
    assert "\n" not in str(info.value)
    assert resolve_settings(profile="prod").account == "prodacct"


def test_default_account_must_exist() -> None:
    write_toml(TOML_CONFIG.replace('default_account = "prod"', 'default_account = "qa"'))
    with pytest.raises(ConfigError, match="no account 'qa'"):
        resolve_settings()


# ------------------------------------------------------------------ defaults and validation


def test_endpoint_gets_https_and_no_key_means_entra_id() -> None:
    s = resolve_settings(endpoint="acct.eastus.batch.azure.com")
    assert s.endpoint == "https://acct.eastus.batch.azure.com"
    assert (s.auth_mode, s.key, s.account, s.api_version, s.source) == (
        "aad",
        None,
        None,
        DEFAULT_API_VERSION,
        "flag",
    )


def test_missing_endpoint_is_one_line_naming_every_way_to_set_it() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings()
    text = str(info.value)
    assert "\n" not in text
    for needle in (
        "--endpoint",
        "AZURE_BATCH_ENDPOINT",
        "az batch account login",
        str(toml_dir() / "config.toml"),
    ):
        assert needle in text


@pytest.mark.parametrize(
    "endpoint",
    ["http://acct.eastus.batch.azure.com", "http://10.0.0.5:8080", "http://127.0.0.1.example.com"],
)
def test_plain_http_is_refused(endpoint: str) -> None:
    with pytest.raises(InsecureEndpointError, match="plain http"):
        resolve_settings(endpoint=endpoint, account="a", key=KEY_FLAG)
    with pytest.raises(InsecureEndpointError):  # a bearer token is a credential too
        resolve_settings(endpoint=endpoint)


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8765", "http://localhost:9000", "http://[::1]:8765"])
def test_plain_http_to_loopback_is_allowed(endpoint: str) -> None:
    s = resolve_settings(endpoint=endpoint, account="a", key=KEY_FLAG)
    assert s.endpoint == endpoint and s.auth_mode == "shared_key"


@pytest.mark.parametrize(
    "endpoint", ["https://", "not a url at all", "https://host:port", "ftp://acct.example.com"]
)
def test_endpoint_must_be_a_url_with_a_host(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        resolve_settings(endpoint=endpoint, account="a", key=KEY_FLAG)


def test_bad_key_is_reported_without_the_key() -> None:
    secret = "abc$def-not-base64-SECRET"
    with pytest.raises(ConfigError, match="not valid base64") as info:
        resolve_settings(endpoint="https://a.eastus.batch.azure.com", account="a", key=secret)
    assert secret not in str(info.value) and "SECRET" not in repr(info.value)


def test_shared_key_needs_an_account_and_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="account name"):
        resolve_settings(endpoint="https://a.eastus.batch.azure.com", key=KEY_FLAG)
    with pytest.raises(ConfigError, match="account key"):
        resolve_settings(endpoint="https://a.eastus.batch.azure.com", account="a", auth="shared_key")


def test_unknown_auth_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_BATCH_AUTH_MODE", "kerberos")
    with pytest.raises(ConfigError, match="unknown auth mode 'kerberos' from the environment"):
        resolve_settings(endpoint="https://a.eastus.batch.azure.com")


def test_unknown_toml_keys_are_reported() -> None:
    path = write_toml('[accounts.prod]\nendpoint = "https://a.eastus.batch.azure.com"\nacount = "a"\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'acount' in \[accounts.prod\]") as info:
        resolve_settings()
    assert str(path) in str(info.value)
    write_toml('default_acount = "prod"\n')
    with pytest.raises(ConfigError, match="unknown setting 'default_acount'"):
        resolve_settings()
    write_toml("[accounts.prod]\nendpoint = 5\n")
    with pytest.raises(ConfigError, match="accounts.prod.endpoint must be a string"):
        resolve_settings()


def test_toml_that_does_not_parse_names_file_and_line() -> None:
    path = write_toml('default_account = "prod"\n[accounts.prod\nendpoint = "x"\n')
    with pytest.raises(ConfigError) as info:
        resolve_settings()
    text = str(info.value)
    assert str(path) in text and "line 2" in text and "\n" not in text


def test_az_config_that_does_not_parse_is_named() -> None:
    path = write_az("this is not an ini file\n")
    with pytest.raises(ConfigError, match="Azure CLI config") as info:
        resolve_settings()
    assert str(path) in str(info.value)


def test_world_readable_key_files_warn_but_work() -> None:
    toml = write_toml(TOML_CONFIG, mode=0o644)
    s = resolve_settings()
    assert s.key == KEY_TOML
    assert s.warnings == (f"{toml} holds an account key and is readable by other users: chmod 600 {toml}",)
    toml.chmod(0o600)
    assert resolve_settings().warnings == ()

    az = write_az(AZ_CONFIG, mode=0o640)
    s = resolve_settings()
    assert s.key == KEY_AZ
    assert s.warnings == (f"{az} holds an account key and is readable by other users: chmod 600 {az}",)
    # a readable az config whose key is not used is not our business
    assert resolve_settings(endpoint="https://x.eastus.batch.azure.com").warnings == ()


def test_settings_repr_hides_the_key() -> None:
    s = resolve_settings(endpoint="https://a.eastus.batch.azure.com", account="a", key=KEY_FLAG)
    assert KEY_FLAG not in repr(s) and KEY_FLAG not in str(s)
    assert s.key == KEY_FLAG


def test_user_config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert user_config_dir() == toml_dir()
    assert user_config_dir({"BATCHTUI_CONFIG_DIR": str(tmp_path)}) == tmp_path
    monkeypatch.delenv("BATCHTUI_CONFIG_DIR")
    default = user_config_dir()
    assert default.name == "batchtui"
    assert str(default).startswith(os.environ["HOME"])  # the fake home, never the real one


# ------------------------------------------------------------------ settings -> client


async def test_client_from_shared_key_settings_signs_requests() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"value": []})

    s = resolve_settings(
        endpoint="acct.eastus.batch.azure.com", account="acct", key=KEY_FLAG, api_version="x-1"
    )
    client = BatchClient.from_settings(s, transport=httpx.MockTransport(handler))
    assert isinstance(client._auth, SharedKeyAuth)
    async with client:
        assert await client.list_jobs() == []
    assert seen[0].headers["authorization"].startswith("SharedKey acct:")
    assert seen[0].url.params["api-version"] == "x-1"
    assert client.account == "acct"


async def test_client_from_entra_settings_closes_the_credential_it_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.test_auth import FakeCredential

    created = FakeCredential()
    monkeypatch.setattr(auth_module, "_default_credential", lambda: created)
    s = resolve_settings(endpoint="https://acct.chinanorth.batch.chinacloudapi.cn")
    client = BatchClient.from_settings(
        s, transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"taskCounts": {}}))
    )
    assert isinstance(client._auth, EntraIdAuth)
    client._auth._clock = lambda: created.now
    async with client:
        await client.get_task_counts("j")
    assert created.calls == [("https://batch.chinacloudapi.cn//.default",)]
    assert created.closed


def test_client_refuses_http_with_credentials_from_settings() -> None:
    s = AccountSettings(endpoint="http://acct.example.com", account="a", key=KEY_FLAG, auth_mode="shared_key")
    with pytest.raises(InsecureEndpointError):
        BatchClient.from_settings(s)


def test_a_key_flag_ignored_by_entra_id_is_mentioned() -> None:
    s = resolve_settings(endpoint="https://a.eastus.batch.azure.com", key=KEY_FLAG, auth="aad")
    assert s.key is None and s.auth_mode == "aad"
    assert s.warnings == ("--key is ignored with Microsoft Entra ID sign-in (--auth aad)",)
    assert KEY_FLAG not in repr(s)


def test_client_from_incomplete_shared_key_settings_is_a_config_error() -> None:
    s = AccountSettings(
        endpoint="https://a.eastus.batch.azure.com", account="a", key=None, auth_mode="shared_key"
    )
    with pytest.raises(ConfigError, match="account and a key"):
        BatchClient.from_settings(s)
