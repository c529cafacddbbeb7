"""Signing requests to the Batch service: Shared Key and Microsoft Entra ID.

Both are ``httpx.Auth`` flows, so the client stays unaware of which one is in use. Neither
ever puts its secret (the account key, a bearer token) into a repr, a message or a log line.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

import httpx

from batchtui.batch.errors import AuthError, ConfigError, InsecureEndpointError

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken
    from azure.core.credentials_async import AsyncTokenCredential

# --------------------------------------------------------------------------- endpoints

PUBLIC_SCOPE = "https://batch.core.windows.net//.default"

# Endpoint host suffix -> the Batch resource of that cloud (azure-cli cloud.py). The double
# slash in the scope is deliberate: resource URI (with its trailing slash) + "/.default".
_SOVEREIGN_SCOPES = (
    ("chinacloudapi.cn", "https://batch.chinacloudapi.cn//.default"),
    ("usgovcloudapi.net", "https://batch.core.usgovcloudapi.net//.default"),
    ("cloudapi.de", "https://batch.cloudapi.de//.default"),
    ("sovcloud-api.fr", "https://batch.sovcloud-api.fr//.default"),
)


def batch_scope_for(endpoint: str) -> str:
    """The Entra ID scope for the Batch resource of the cloud ``endpoint`` belongs to."""
    host = (urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or "").lower()
    for suffix, scope in _SOVEREIGN_SCOPES:
        if host == suffix or host.endswith("." + suffix):
            return scope
    return PUBLIC_SCOPE


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1: the only hosts plain http may carry secrets to."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?", re.IGNORECASE)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and _HOST_NAME.fullmatch(host) is not None
    return True


def check_endpoint(endpoint: str, *, with_credentials: bool) -> str:
    """Validate an endpoint URL (scheme and host present); refuse credentials over plain http.

    Returns the endpoint without a trailing slash. A one-line ``ConfigError`` (or its
    ``InsecureEndpointError`` subclass) explains what is wrong.
    """
    text = endpoint.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a non-numeric port
    except ValueError as exc:
        raise ConfigError(f"endpoint {text!r} is not a valid URL: {exc}") from None
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"endpoint {text!r} is not a valid URL: expected https://<account>.<region>.batch.azure.com"
        )
    if not _valid_host(parts.hostname):
        raise ConfigError(f"endpoint {text!r} is not a valid URL: bad host name")
    if parts.username or parts.password:
        raise ConfigError("endpoint must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ConfigError(f"endpoint {text!r} must not have a query or fragment")
    if with_credentials and parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise InsecureEndpointError(
            f"refusing to send credentials over plain http to {parts.hostname}: anyone on the "
            "network path could read or replay them; use an https:// endpoint (plain http is "
            "allowed only for localhost/127.0.0.1/::1)"
        )
    return text.rstrip("/")


# --------------------------------------------------------------------------- Shared Key

# The standard headers whose values make up the string-to-sign, in this order.
_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


#: the last second formatted and its text: a burst of requests shares one second
_last_date: tuple[int, str] = (-1, "")


def ocp_date_now(clock: Callable[[], float] = time.time) -> str:
    """RFC 1123 in English regardless of locale (a German ``Mär`` once caused 403s)."""
    global _last_date
    second = int(clock())
    if second != _last_date[0]:  # formatdate is ~2% of a request's CPU; once a second is enough
        _last_date = (second, email.utils.formatdate(second, usegmt=True))
    return _last_date[1]


def string_to_sign(method: str, url: httpx.URL, headers: httpx.Headers, account: str) -> str:
    """The Batch Shared Key string-to-sign for a request exactly as httpx will send it."""
    # httpx's Headers.get scans and decodes every header per lookup: one pass instead.
    values: dict[str, list[str]] = {}
    for key, value in headers.multi_items():
        values.setdefault(key.lower(), []).append(value)
    lines = [method.upper()]
    for name in _SIGNED_HEADERS:
        value = ", ".join(values.get(name, ()))  # as Headers.get joins a repeated header
        if name == "content-length" and not value and method.upper() not in ("GET", "HEAD"):
            value = "0"  # what the Python/Java/legacy .NET SDKs sign for an empty body
        if name == "date":
            value = ""  # ocp-date is always set, and then Date must be signed empty
        lines.append(value)
    text = "\n".join(lines) + "\n"
    ocp = sorted(
        (name, " ".join(value.replace("\r\n", " ").split()))
        for name, vs in values.items()
        if name.startswith("ocp-")
        for value in vs
    )
    seen: set[str] = set()
    for name, value in ocp:
        if name not in seen:  # each header once
            seen.add(name)
            text += f"{name}:{value}\n"
    raw = url.raw_path.decode("ascii")
    path, _, query = raw.partition("?")
    text += f"/{account}{path}"
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        text += f"\n{name}:{','.join(sorted(params[name]))}"
    return text


class SharedKeyAuth(httpx.Auth):
    """``Authorization: SharedKey <account>:<HMAC-SHA256 of the string-to-sign>``."""

    requires_request_body = False

    def __init__(self, account: str, key: str) -> None:
        if not account:
            raise ConfigError("Shared Key authentication needs the Batch account name")
        try:
            secret = base64.b64decode(key.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("the Batch account key is not valid base64") from None
        if not secret:
            raise ConfigError("the Batch account key is empty")
        self.account = account
        self.__secret = secret

    def __repr__(self) -> str:
        return f"SharedKeyAuth(account={self.account!r}, key=<hidden>)"

    __str__ = __repr__

    def sign(self, request: httpx.Request) -> None:
        """Set ``ocp-date`` (if absent) and ``Authorization`` on ``request`` in place."""
        if "date" in request.headers:
            # ocp-date wins over Date on the service; a stray Date would only confuse proxies
            # and other signers, so it never leaves with our signature.
            del request.headers["date"]
        if "ocp-date" not in request.headers:
            request.headers["ocp-date"] = ocp_date_now()
        payload = string_to_sign(request.method, request.url, request.headers, self.account)
        mac = hmac.new(self.__secret, payload.encode("utf-8"), hashlib.sha256).digest()
        request.headers["Authorization"] = f"SharedKey {self.account}:{base64.b64encode(mac).decode()}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


# --------------------------------------------------------------------------- Entra ID

# Refresh this long before expiry so a token never dies in flight (and clocks may drift).
REFRESH_MARGIN = 300.0


def _default_credential() -> AsyncTokenCredential:
    # azure.identity.aio defaults to an aiohttp transport that azure-identity does not
    # install; the requests-based asyncio transport needs only what azure-core depends on.
    from azure.core.pipeline.transport import AsyncioRequestsTransport
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential(transport=AsyncioRequestsTransport())


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


#: the largest 401 body read before re-sending with a new token (the service's is ~300 bytes)
RESEND_BODY_LIMIT = 64 * 1024


def _small_plain_body(response: httpx.Response) -> bool:
    """Whether the answer's body is declared small and uncompressed.

    Before an auth flow's next request, httpx reads the previous answer in full, past the
    client's byte cap; a length-framed, uncompressed body cannot grow beyond what it declares.
    """
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return False
    try:
        length = int(response.headers.get("content-length", ""))
    except ValueError:
        return False
    return 0 <= length <= RESEND_BODY_LIMIT


class EntraIdAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` from an async azure-identity credential.

    The token is cached and refreshed ``REFRESH_MARGIN`` seconds before it expires; however
    many requests are waiting, only one ``get_token`` call is in flight at a time. A request
    answered 401 is sent once more, at once, with a newly acquired token.
    """

    requires_request_body = False

    def __init__(
        self,
        credential: AsyncTokenCredential | None = None,
        *,
        scope: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        self._credential = credential
        self._owns_credential = credential is None
        self.scope = scope or (batch_scope_for(endpoint) if endpoint else PUBLIC_SCOPE)
        self._token: AccessToken | None = None
        self._lock = asyncio.Lock()
        self._clock = time.time
        self.token_requests = 0  # how many times we asked the credential (for tests and --log)
        self._failures = 0
        self._last_error: str | None = None

    def __repr__(self) -> str:
        return f"EntraIdAuth(scope={self.scope!r})"

    __str__ = __repr__

    def _fresh(self, token: AccessToken) -> bool:
        return token.expires_on - self._clock() > REFRESH_MARGIN

    async def token(self) -> str:
        """A valid access token, from the cache when it is not about to expire."""
        cached = self._token
        if cached is not None and self._fresh(cached):
            return cached.token
        failures_seen = self._failures
        async with self._lock:
            token = self._token
            if token is not None and self._fresh(token):  # somebody refreshed while we waited
                return token.token
            if self._failures != failures_seen and self._last_error is not None:
                # The refresh we queued behind just failed: share its answer rather than
                # hammering a credential chain that can take seconds per try.
                raise AuthError(self._last_error)
            try:
                token = await self._fetch()
            except AuthError as exc:
                self._failures += 1
                self._last_error = str(exc)
                raise
            self._token = token
            return token.token

    async def _fetch(self) -> AccessToken:
        if self._credential is None:
            try:
                self._credential = _default_credential()
            except Exception as exc:  # ImportError, ValueError from bad env config, ...
                raise AuthError(f"cannot set up Microsoft Entra ID sign-in: {_one_line(str(exc))}") from None
        self.token_requests += 1
        try:
            return await self._credential.get_token(self.scope)
        except Exception as exc:  # azure-identity raises several unrelated types
            raise AuthError(
                f"could not get a Microsoft Entra ID token for {self.scope}: "
                f"{_one_line(str(exc)) or type(exc).__name__} "
                "(try `az login`, or use --auth shared_key with --account and --key)"
            ) from None

    def invalidate(self, used: str | None = None) -> None:
        """Forget the cached token (only if it is still ``used``, when given)."""
        if self._token is not None and (used is None or self._token.token == used):
            self._token = None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("EntraIdAuth works only with httpx.AsyncClient")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        if "ocp-date" not in request.headers:
            request.headers["ocp-date"] = ocp_date_now()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # Revoked or expired early: forget the token, and send this request once more, at
        # once, with a new one (an operator should not see "token rejected" for a refresh
        # that a new token would have answered).
        self.invalidate(token)
        if not _small_plain_body(response):
            return  # httpx reads a re-sent request's first answer whole: only a bounded one
        fresh = await self.token()
        if fresh == token:
            return  # the credential handed back the same token: sending it again is pointless
        request.headers["Authorization"] = f"Bearer {fresh}"
        response = yield request
        if response.status_code == 401:
            self.invalidate(fresh)

    async def aclose(self) -> None:
        """Close the credential if this object created it (a given one belongs to the caller)."""
        self._token = None
        if not self._owns_credential:
            return
        credential, self._credential = self._credential, None
        if credential is not None:
            await credential.close()
