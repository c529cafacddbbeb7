"""How the client reaches the service: limits, keep-alive, trust and proxies set for Batch.

Everything here goes through httpx's public options, so httpx keeps doing what it does for
any program: proxies from ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``,
``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, HTTP/1.1 keep-alive. What is added:

- **Limits**: one connection per request in flight, and every one of them kept between
  bursts (httpx keeps 20 by default; the client has up to 32 in flight, so a list tick would
  close and re-open the rest every time).
- **Keep-alive** longer than any refresh interval, so a dashboard that asks every 5 s, or
  every minute for a quiet job, reuses its connections instead of paying a TLS handshake on
  most ticks (issue 15). The service's front end closes idle connections when it likes;
  the direct transport (batch/http11.py) notices an idle connection the server closed before
  it reuses it.
- **Trust**: ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` as well, which httpx does not read
  but requests (and so the Azure SDK and ``az``) does: operators behind a TLS-inspecting
  proxy have set them for those tools already.
- **Resumption**: the context is a :class:`~batchtui.batch.tls_sessions.ResumingContext`, so
  the direct transport's new connections resume the TLS session of an earlier one.

Which transport: with a proxy configured, httpx's own (it picks the proxy per URL and honours
``NO_PROXY``); with none, :class:`~batchtui.batch.network.DirectTransport`, h11
connections of its own over asyncio's sockets, the same limits and trust, and CPU that stays
flat as requests in flight grow (bench/README.md, sessions 5 and 6).
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from batchtui.batch.auth import is_loopback_host
from batchtui.batch.errors import ConfigError
from batchtui.batch.tls_sessions import resuming_context

#: Idle connections are kept this long (seconds). Longer than the refresh interval and the
#: slowest pacing of a quiet job (about a minute), shorter than the simulator keeps them
#: (so it is the client that closes an idle connection, never a request racing the
#: server's close), and than the ~4 minutes after which Azure's load balancers drop one.
KEEPALIVE_SECONDS = 120.0

#: Certificate bundles that requests, and so the Azure SDK and ``az``, trust instead of its
#: own; httpx reads only SSL_CERT_FILE / SSL_CERT_DIR.
REQUESTS_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

_PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def connection_limits(max_connections: int) -> httpx.Limits:
    """One connection per request in flight, all of them kept alive between bursts."""
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
    )


def proxies_from_env(endpoint: str, *, with_credentials: bool) -> bool:
    """Whether the client takes its proxies from the environment, as httpx does by default.

    Always for an https endpoint (through an http proxy the request travels inside a CONNECT
    tunnel, so the proxy sees only where it goes). A plain-http endpoint that is sent
    credentials is on loopback (:func:`~batchtui.batch.auth.check_endpoint`): a proxy on
    loopback may carry it, one elsewhere may not, since that would put the key in clear text
    on the network (and a remote proxy cannot reach this machine's loopback anyway), so then
    the connection goes direct.
    """
    if endpoint.lower().startswith("https:") or not with_credentials:
        return True
    proxies = urllib.request.getproxies()  # what httpx reads: the environment, or the OS's settings
    proxy = proxies.get("http") or proxies.get("all")
    if not proxy:
        return True
    host = urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname or ""
    return is_loopback_host(host)


def proxy_configured() -> bool:
    """Whether any proxy is set where httpx looks (the environment, or the OS's settings).

    Then the client keeps httpx's own transport, which picks the proxy per URL and honours
    ``NO_PROXY``; with none set it connects directly (batch/network.py, cheaper on CPU).
    """
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


def needs_tls(endpoint: str, env: Mapping[str, str] = os.environ) -> bool:
    """Whether the client can ever open a TLS connection: to an https endpoint, or to a proxy
    reached over https. Only same-origin links are followed and never a redirect, so an http
    endpoint (the loopback simulator) with no https proxy never does."""
    if endpoint.lower().startswith("https:"):
        return True
    values = (env.get(name) or env.get(name.lower()) or "" for name in _PROXY_VARIABLES)
    return any(value.strip().lower().startswith("https:") for value in values)


def trust_store(env: Mapping[str, str] = os.environ) -> ssl.SSLContext:
    """A verifying context trusting what httpx trusts by default (``SSL_CERT_FILE``, else
    ``SSL_CERT_DIR``, else certifi's bundle) and also the bundle requests is told to use
    (the first of ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``).

    Both are loaded when both are set: each was set by the operator for tools that read only
    their own, and the endpoint or its proxy may be known to either. A bundle that cannot be
    read is a :class:`ConfigError` naming the variable, not a traceback.
    """
    file, folder = env.get("SSL_CERT_FILE", "").strip(), env.get("SSL_CERT_DIR", "").strip()
    if file:
        sources = [("SSL_CERT_FILE", file)]
    elif folder:
        sources = [("SSL_CERT_DIR", folder)]
    else:
        import certifi  # only here: a plain-http client (the simulator) never needs it

        sources = [("certifi", certifi.where())]
    bundle = next(((n, env[n].strip()) for n in REQUESTS_BUNDLE_VARIABLES if env.get(n, "").strip()), None)
    if bundle is not None:
        sources.append(bundle)
    context: ssl.SSLContext | None = None  # a ResumingContext (batch/tls_sessions.py)
    loaded: set[str] = set()
    for name, path in sources:
        if os.path.realpath(path) in loaded:  # machines often point both at the system bundle
            continue
        loaded.add(os.path.realpath(path))
        capath = path if os.path.isdir(path) else None
        cafile = None if capath else path
        try:
            if context is None:  # Python's defaults (protocols, host names checked), this trust only
                context = resuming_context(cafile=cafile, capath=capath)
            else:
                context.load_verify_locations(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"cannot load the certificates that {name} names ({path}): {reason}") from None
    assert context is not None
    return context


def untrusting_context() -> ssl.SSLContext:
    """A verifying context that trusts no certificate: for a client that never opens TLS
    (see :func:`needs_tls`). Loading the certificate bundle costs ~25 ms of every start,
    which urllib3 (the SDK's stack) does not pay for http either; should TLS happen anyway,
    it fails closed (CERTIFICATE_VERIFY_FAILED) rather than trusting anything."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
