"""The request core of :class:`~batchtui.batch.client.BatchClient`: one ``httpx.AsyncClient``
per account, and :meth:`RequestCore._send`, through which every call goes. It adds the headers
the service documents, bounds concurrency and each attempt's time, caps the bytes read, retries
what is worth retrying and turns every failure into a :class:`BatchClientError`, so callers
never see httpx or JSON exceptions. It tells listeners of every attempt (``RequestEvent``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Self

import httpx

from batchtui.batch.answers import auth_explanation, describe, read_capped, service_error
from batchtui.batch.auth import EntraIdAuth, check_endpoint, ocp_date_now
from batchtui.batch.errors import BatchClientError, ResponseTooLarge, TransportError
from batchtui.batch.network import DirectTransport
from batchtui.batch.paging import DEFAULT_LIST_LIMITS, ListLimits
from batchtui.batch.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from batchtui.batch.sending import ClientSender, DirectSender, Sender
from batchtui.batch.tls_trouble import certificate_error, certificate_failure
from batchtui.batch.transport import (
    connection_limits,
    needs_tls,
    proxies_from_env,
    proxy_configured,
    trust_store,
    untrusting_context,
)
from batchtui.batch.urls import origin

DEFAULT_API_VERSION = "2025-06-01"
#: Requests in flight at once, per account: the dashboard's first tick reads a screen of
#: jobs' counts (~35 rows at 120x40) in one round trip (later ticks one at a time, jobs.py).
#: ``--once`` too: with its CPU per request halved (session 6: http11.py, sending.py), 32 in
#: flight finish a 200-job run sooner than the 24 it had used, and 48 no sooner than 32
#: (bench/README.md, session 6).
DEFAULT_CONCURRENCY = 32


@dataclass(frozen=True)
class RequestEvent:
    """One attempt of one request, for ``--log`` and the status line. Carries no secret."""

    method: str
    url: str
    status: int | None
    request_id: str | None
    client_request_id: str
    attempt: int  # 1-based
    elapsed: float  # seconds this attempt took
    error: str | None  # why the attempt failed, if it did
    retry_in: float | None  # set when this attempt will be retried after that delay
    kind: str | None = None  # the failure's short cause ("throttled", "offline", "auth", ...)
    call: str = ""  # which client call sent it ("list_jobs", "get_task_counts", ...)


@dataclass
class ClientStats:
    """Cheap running counters.

    ``requests`` counts HTTP attempts sent, ``retries`` the attempts that were followed by
    another, ``throttled`` the 429/503 answers (``rate_limited`` the 429s alone: the service
    saying "too many requests from you", which a poller answers by slowing down), ``errors``
    the calls that finally failed.
    """

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    rate_limited: int = 0
    bytes_received: int = 0
    errors: int = 0


#: Retry rule of one call: "safe" for reads, "throttled" (429 only) for state changes,
#: "never" for a probe (its caller is the retry).
RetryMode = Literal["safe", "throttled", "never"]
#: The most decoded bytes one answer may bring (a page of 1,000 fully-selected tasks is a few
#: MB); past it the call fails with :class:`ResponseTooLarge` instead of filling memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: its status, headers and (decoded, capped) body."""

    status: int
    headers: httpx.Headers
    body: bytes
    request_id: str | None
    client_request_id: str


class RequestCore:
    """One account's connection pool, counters and listeners, and the one way to send a call."""

    def __init__(
        self,
        endpoint: str,
        auth: httpx.Auth | None = None,
        *,
        account: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_event: Callable[[RequestEvent], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        server_timeout: int | None = None,
        readonly: bool = False,
        list_limits: ListLimits = DEFAULT_LIST_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if "://" not in endpoint:
            endpoint = f"https://{endpoint.strip()}"
        self.endpoint = check_endpoint(endpoint, with_credentials=auth is not None)
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.account = account
        #: refuse every request but GET and HEAD before it is sent (--readonly)
        self.readonly = readonly
        #: the service's clock (its Date header) at the last answer: "changed since" reads are
        #: asked on the service's clock, never the machine's (which may be off by minutes)
        self.service_time: datetime | None = None
        self._service_date = ""  # the Date header service_time was read from
        self.api_version = api_version
        self.stats = ClientStats()
        self.retry = retry or RetryPolicy()
        #: how far a listing may page (each call may pass its own)
        self.list_limits = list_limits
        self._clock = clock  # for a listing's time bound
        # sent as the lower-case `timeout` query parameter (server-side limit, seconds)
        self.server_timeout = server_timeout
        self._auth = auth
        self._owned_auth: EntraIdAuth | None = None
        self._listeners: list[Callable[[RequestEvent], None]] = [on_event] if on_event else []
        # httpx's timeout bounds each socket operation; this bounds a whole attempt (twice as
        # long, so a slow but steady answer is not cut where httpx would not cut it).
        self._deadline = 2 * float(timeout)
        #: the wait before a retry; the dashboard swaps in one that refresh-now can cut short
        self.retry_sleep: Callable[[float], Awaitable[None]] = sleep
        #: whether a read's 429 is retried inside the call; a refresh engine answers no while
        #: the account is throttled (its probe is the retry, for every view at once)
        self.retry_throttled: Callable[[], bool] = lambda: True
        self._rand: Callable[[], float] = random.random
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._origin = origin(self.endpoint)
        # httpx's own transport (so proxies from the environment, as httpx and the SDK take
        # them), one connection per request in flight, all kept alive across refresh ticks.
        # A transport passed in (ASGI, a test double) is used as it is, with no proxy.
        # With no proxy to take, our own pool of h11 connections over asyncio's sockets
        # (batch/network.py, http11.py), sent to without the client around it (sending.py):
        # the same limits, headers and timeouts, half the CPU per request in a --once.
        verify: ssl.SSLContext | bool = True  # unused with a transport passed in
        limits = connection_limits(max_concurrency)
        trust_env = proxies_from_env(self.endpoint, with_credentials=auth is not None)
        if transport is None:
            context = trust_store() if needs_tls(self.endpoint) else untrusting_context()
            verify = context
            if not (trust_env and proxy_configured()):
                transport = DirectTransport(limits=limits, ssl_context=context)
        self._http = httpx.AsyncClient(
            auth=auth,
            transport=transport,
            limits=limits,
            verify=verify,
            trust_env=trust_env,
            timeout=timeout,
            headers={"Accept": "application/json"},
            follow_redirects=False,  # a redirect would carry our Authorization elsewhere
        )
        proxied = trust_env and proxy_configured()
        self._sender: Sender = (
            DirectSender(transport, auth, self._http)
            if transport is not None and not proxied
            else ClientSender(self._http)
        )

    def __repr__(self) -> str:
        return f"BatchClient(endpoint={self.endpoint!r}, account={self.account!r})"

    def subscribe(self, listener: Callable[[RequestEvent], None]) -> Callable[[], None]:
        """Also send every :class:`RequestEvent` to ``listener``; returns the unsubscribe call."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def aclose(self) -> None:
        """Close the connection pool and any Entra ID credential this client created."""
        try:
            await self._http.aclose()
        finally:
            if self._owned_auth is not None:
                owned, self._owned_auth = self._owned_auth, None
                await owned.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ sending

    async def _request(self, call: str, method: str, url: str) -> bytes:
        """Send a read with retries; return the 2xx body or raise a BatchClientError."""
        return (await self._send(call, method, url)).body

    async def _send(
        self,
        call: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        retry: RetryMode = "safe",
        max_bytes: int | None = None,
    ) -> Reply:
        """Send one call; return its 2xx :class:`Reply` or raise a BatchClientError.

        ``retry="safe"`` (reads) retries 429, 5xx, timeouts and connection errors.
        ``retry="throttled"`` (state-changing requests) retries only a 429: the service said it
        did nothing. ``retry="never"`` sends once. After a timeout or a 5xx the outcome is unknown, and sending again blindly
        could act twice; the caller re-reads the entity and decides.
        ``max_bytes`` caps the *decoded* body (a gzip bomb is cut while it streams); the
        default is :data:`MAX_RESPONSE_BYTES`.
        """
        if self.readonly and method not in ("GET", "HEAD"):
            # The last line of defence: whatever asked, nothing that changes state goes out.
            from batchtui.batch.actions import ReadOnlyError

            raise ReadOnlyError(f"{call}: refused, batchtui is read-only (--readonly)")
        policy = self.retry
        cap = MAX_RESPONSE_BYTES if max_bytes is None else max_bytes
        attempt = 0
        while True:
            attempt += 1
            crid = str(uuid.uuid4())  # fresh per attempt: it names one wire request
            sent = {
                "client-request-id": crid,
                "return-client-request-id": "true",
                "ocp-date": ocp_date_now(),
            }
            if content is not None:
                sent["content-type"] = "application/json; odata=minimalmetadata"
            if headers:
                sent.update(headers)
            started = time.monotonic()
            status: int | None = None
            request_id: str | None = None
            failure: BatchClientError
            retryable: bool
            retry_after: float | None = None
            try:
                async with self._semaphore:
                    self.stats.requests += 1
                    # httpx's timeouts bound each socket operation, not the whole answer: a
                    # server (or a transport) that drips bytes would hold a refresh forever.
                    async with asyncio.timeout(self._deadline):
                        request = self._sender.build(method, url, sent, content)
                        response = await self._sender.send(request)
                        try:
                            body = await read_capped(response, cap)
                        finally:
                            await response.aclose()
            except BatchClientError as exc:  # an auth flow (AuthError, ConfigError) or the cap
                self._emit(call, method, url, None, None, crid, attempt, started, str(exc), None, exc.kind)
                self.stats.errors += 1
                if isinstance(exc, ResponseTooLarge):
                    raise ResponseTooLarge(f"{call}: {exc}") from None
                raise
            except TimeoutError:
                # Before OSError: TimeoutError is one. Raised by the deadline above.
                failure = TransportError(
                    f"{call}: timed out (no complete answer within {self._deadline:g} s)"
                )
                retryable = retry == "safe"
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                failure = TransportError(f"{call}: {describe(exc)}")
                # A connection refused before anything was sent is safe to retry even for a
                # state change; httpx says so with ConnectError/ConnectTimeout.
                retryable = retry == "safe" or (
                    retry == "throttled" and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                )
                if (bad := certificate_failure(exc)) is not None:
                    # Not trusted or for another host: no retry can fix that (tls_trouble.py).
                    failure, retryable = certificate_error(call, url, bad), False
            except httpx.HTTPError as exc:
                failure = TransportError(f"{call}: {describe(exc)}")
                retryable = False
            except httpx.InvalidURL as exc:  # not an HTTPError; e.g. a mangled nextLink
                failure = TransportError(f"{call}: invalid URL ({exc})")
                retryable = False
            except OSError as exc:
                # A transport that is not httpx's own (ASGI in-process, a test double, a proxy
                # library) may let the socket's error through unwrapped: it is still "offline".
                failure = TransportError(f"{call}: {describe(exc)}")
                retryable = retry == "safe"
                if (bad := certificate_failure(exc)) is not None:
                    failure, retryable = certificate_error(call, url, bad), False
            except Exception as exc:  # noqa: BLE001 - any other transport bug is one line, not a crash
                failure = TransportError(f"{call}: transport failed ({describe(exc)})")
                retryable = False
            else:
                status = response.status_code
                request_id = response.headers.get("request-id")
                self.stats.bytes_received += len(body)
                if 200 <= status < 300:
                    self._emit(call, method, url, status, request_id, crid, attempt, started, None, None)
                    self._note_service_time(response.headers.get("date"))
                    return Reply(status, response.headers, body, request_id, crid)
                retry_after = parse_retry_after(response.headers)
                failure = service_error(status, body, response, retry_after)
                explanation = auth_explanation(self._auth, failure) if status in (401, 403) else None
                if explanation is not None:
                    failure = dataclasses.replace(failure, explanation=explanation)
                if status == 429 or status == 503:
                    self.stats.throttled += 1
                if status == 429:
                    self.stats.rate_limited += 1
                if retry == "safe":
                    retryable = status in RETRYABLE_STATUSES and (status != 429 or self.retry_throttled())
                else:
                    retryable = status == 429 and retry == "throttled"
            delay: float | None = None
            if retryable and attempt < policy.max_attempts:
                delay = policy.delay(attempt - 1, retry_after, self._rand)
            self._emit(
                call,
                method,
                url,
                status,
                request_id,
                crid,
                attempt,
                started,
                str(failure),
                delay,
                failure.kind,
            )
            if delay is None:
                self.stats.errors += 1
                raise failure
            self.stats.retries += 1
            await self.retry_sleep(delay)

    def _note_service_time(self, header: str | None) -> None:
        if not header or header == self._service_date:
            return  # a burst of answers carries one Date (whole seconds): read it once
        self._service_date = header
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return  # a proxy's odd Date: keep the last good one
        self.service_time = when if when.tzinfo else when.replace(tzinfo=UTC)

    def _emit(
        self,
        call: str,
        method: str,
        url: str,
        status: int | None,
        request_id: str | None,
        client_request_id: str,
        attempt: int,
        started: float,
        error: str | None,
        retry_in: float | None,
        kind: str | None = None,
    ) -> None:
        if not self._listeners:
            return
        event = RequestEvent(
            method=method,
            url=url,
            status=status,
            request_id=request_id,
            client_request_id=client_request_id,
            attempt=attempt,
            elapsed=time.monotonic() - started,
            error=error,
            retry_in=retry_in,
            kind=kind,
            call=call,
        )
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: S110 - a broken log sink must not break the data plane
                pass
