"""An async client for the read calls the dashboard makes to one Batch account.

One ``httpx.AsyncClient`` per account. Every call goes through :meth:`BatchClient._get`, which
adds the headers the service documents, bounds concurrency, retries what is worth retrying
and turns every failure into a :class:`BatchClientError`, so callers never see httpx or JSON
exceptions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import random
import ssl
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from batchtui.batch import files as _files
from batchtui.batch import pools as _pools
from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth, check_endpoint, ocp_date_now
from batchtui.batch.errors import (
    BatchClientError,
    BatchServiceError,
    ConfigError,
    ListingTooLong,
    ModelError,
    ResponseTooLarge,
    TransportError,
    strip_request_tail,
)
from batchtui.batch.models import (
    Job,
    Page,
    Subtask,
    Task,
    TaskCountsResult,
    parse_job,
    parse_job_page,
    parse_subtask_page,
    parse_task,
    parse_task_counts,
    parse_task_page,
)
from batchtui.batch.paging import DEFAULT_LIST_LIMITS, ListLimits, check_bounds, too_long
from batchtui.batch.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from batchtui.batch.transport import (
    connection_limits,
    needs_tls,
    proxies_from_env,
    trust_store,
    untrusting_context,
)


class ClientSettings(Protocol):
    """What :meth:`BatchClient.from_settings` reads (``batchtui.config.AccountSettings`` has it)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def account(self) -> str | None: ...
    @property
    def key(self) -> str | None: ...
    @property
    def auth_mode(self) -> str: ...
    @property
    def api_version(self) -> str: ...


__all__ = [
    "DEFAULT_API_VERSION",
    "BatchClient",
    "ClientStats",
    "ListLimits",
    "MAX_RESPONSE_BYTES",
    "Reply",
    "RequestEvent",
    "RetryMode",
    "RetryPolicy",
]

DEFAULT_API_VERSION = "2025-06-01"
#: Requests in flight at once, per account: the dashboard's first tick reads a screen of
#: jobs' counts (~35 rows at 120x40) in one round trip (later ticks two at a time, jobs.py).
DEFAULT_CONCURRENCY = 32
#: ... for ``--once``, which is CPU-bound on a near account: httpcore's pool checks every idle
#: connection (a socket poll through anyio's stream attributes) each time a request starts
#: or ends, so its CPU grows with connections x requests. At 200 jobs and 20 ms, 12 in flight
#: cost 0.5-0.7 s less CPU than 32 over http and HTTPS alike and finished sooner
#: (bench/README.md, "--once: fewer connections").
ONCE_CONCURRENCY = 12

T = TypeVar("T")


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


def _join_select(select: Sequence[str] | str | None) -> str | None:
    if select is None:
        return None
    if isinstance(select, str):
        return select or None
    return ",".join(s for s in select if s) or None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _segment(value: str, what: str) -> str:
    if not value:
        raise BatchClientError(f"{what} must not be empty")
    return _quote(value, what)


def _quote(value: str, what: str) -> str:
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        # A lone surrogate ("\udfff" in the service's JSON) has no UTF-8 form, so no URL can
        # name it: this one request fails, not the refresh it is part of.
        shown = repr(value if len(value) <= 80 else value[:79] + "…")  # escapes the surrogate
        raise BatchClientError(f"{what} {shown} cannot be sent: it holds a lone surrogate") from None


#: Retry rule of one call: "safe" for reads, "throttled" (429 only) for state changes.
RetryMode = Literal["safe", "throttled"]
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


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body, read as it streams; raise ResponseTooLarge once it passes ``cap``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            # The exception's traceback keeps this frame (in a cycle the collector breaks only
            # later): let go of what was read now, not at the next full collection.
            chunks.clear()
            chunk = b""
            raise ResponseTooLarge(f"the answer is larger than {cap:,} bytes once decoded; not read further")
        chunks.append(chunk)
    return b"".join(chunks)


class BatchClient:
    """Read-only access to the jobs and tasks of one Batch account."""

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
        self._rand: Callable[[], float] = random.random
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._origin = _origin(self.endpoint)
        # httpx's own transport (so proxies from the environment, as httpx and the SDK take
        # them), one connection per request in flight, all kept alive across refresh ticks.
        # A transport passed in (ASGI, a test double) is used as it is, with no proxy.
        verify: ssl.SSLContext | bool = True  # unused with a transport passed in
        if transport is None:
            verify = trust_store() if needs_tls(self.endpoint) else untrusting_context()
        self._http = httpx.AsyncClient(
            auth=auth,
            transport=transport,
            limits=connection_limits(max_concurrency),
            verify=verify,
            trust_env=proxies_from_env(self.endpoint, with_credentials=auth is not None),
            timeout=timeout,
            headers={"Accept": "application/json"},
            follow_redirects=False,  # a redirect would carry our Authorization elsewhere
        )

    def __repr__(self) -> str:
        return f"BatchClient(endpoint={self.endpoint!r}, account={self.account!r})"

    @classmethod
    def from_settings(
        cls,
        settings: ClientSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **kw: Any,
    ) -> BatchClient:
        """A client signed in the way ``settings`` says (Shared Key or Entra ID)."""
        owned: EntraIdAuth | None = None
        if settings.auth_mode == "shared_key":
            if not settings.account or not settings.key:
                raise ConfigError("Shared Key authentication needs both an account and a key")
            auth: httpx.Auth = SharedKeyAuth(settings.account, settings.key)
        else:
            owned = EntraIdAuth(endpoint=settings.endpoint)
            auth = owned
        kw.setdefault("api_version", settings.api_version)
        kw.setdefault("account", settings.account)
        client = cls(settings.endpoint, auth, transport=transport, **kw)
        client._owned_auth = owned
        return client

    def subscribe(self, listener: Callable[[RequestEvent], None]) -> Callable[[], None]:
        """Also send every :class:`RequestEvent` to ``listener``; returns the unsubscribe call."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Close the connection pool and any Entra ID credential this client created."""
        try:
            await self._http.aclose()
        finally:
            if self._owned_auth is not None:
                owned, self._owned_auth = self._owned_auth, None
                await owned.aclose()

    async def __aenter__(self) -> BatchClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ calls

    async def list_jobs(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = None,
        limits: ListLimits | None = None,
    ) -> list[Job]:
        """All jobs (following ``odata.nextLink`` to the end), or the first ``limit``.

        Past ``limits`` (the client's by default) it raises ListingTooLong holding the jobs read.
        """
        if limit is not None and max_results is None:
            max_results = max(1, min(limit, 1000))
        return await self._collect(
            self.iter_job_pages(filter=filter, select=select, max_results=max_results, limits=limits), limit
        )

    def iter_job_pages(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limits: ListLimits | None = None,
    ) -> AsyncGenerator[Page[Job], None]:
        """Pages of jobs, one GET per page, fetched only as the iterator is advanced.

        Past ``limits`` it raises ListingTooLong after the pages it yielded."""
        params = {"maxresults": max_results, "$filter": filter, "$select": _join_select(select)}
        return self._pages("list_jobs", "/jobs", params, parse_job_page, limits)

    async def get_job(self, job_id: str, *, select: Sequence[str] | None = None) -> Job:
        path = f"/jobs/{_segment(job_id, 'job id')}"
        body = await self._get_json("get_job", self._url(path, {"$select": _join_select(select)}))
        return self._parse("get_job", parse_job, body)

    async def get_task_counts(self, job_id: str) -> TaskCountsResult:
        path = f"/jobs/{_segment(job_id, 'job id')}/taskcounts"
        body = await self._get_json("get_task_counts", self._url(path, {}))
        return self._parse("get_task_counts", parse_task_counts, body)

    async def list_tasks(
        self,
        job_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = None,
        limits: ListLimits | None = None,
    ) -> list[Task]:
        """All tasks of a job (following ``odata.nextLink``), or the first ``limit``."""
        if limit is not None and max_results is None:
            max_results = max(1, min(limit, 1000))
        pages = self.iter_task_pages(
            job_id, filter=filter, select=select, max_results=max_results, limits=limits
        )
        return await self._collect(pages, limit)

    def iter_task_pages(
        self,
        job_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        after: str | None = None,
        limits: ListLimits | None = None,
    ) -> AsyncGenerator[Page[Task], None]:
        """Pages of a job's tasks; ``after``: the nextLink an earlier listing stopped at (its
        query is in the link, so the other arguments are not sent again)."""
        path = f"/jobs/{_segment(job_id, 'job id')}/tasks"
        params = {"maxresults": max_results, "$filter": filter, "$select": _join_select(select)}
        return self._pages("list_tasks", path, params, parse_task_page, limits, start=after)

    async def get_task(self, job_id: str, task_id: str, *, select: Sequence[str] | None = None) -> Task:
        path = f"/jobs/{_segment(job_id, 'job id')}/tasks/{_segment(task_id, 'task id')}"
        body = await self._get_json("get_task", self._url(path, {"$select": _join_select(select)}))
        return self._parse("get_task", parse_task, body)

    async def list_subtasks(
        self,
        job_id: str,
        task_id: str,
        *,
        select: Sequence[str] | None = None,
        limits: ListLimits | None = None,
    ) -> list[Subtask]:
        """The subtasks (ranks) of a multi-instance task, all pages."""
        path = f"/jobs/{_segment(job_id, 'job id')}/tasks/{_segment(task_id, 'task id')}/subtasksinfo"
        params = {"$select": _join_select(select)}
        return await self._collect(
            self._pages("list_subtasks", path, params, parse_subtask_page, limits), None
        )

    # ------------------------------------------------------------------ files (batch/files.py)

    async def list_task_files(
        self, job_id: str, task_id: str, *, recursive: bool = False, prefix: str | None = None
    ) -> list[_files.NodeFile]:
        """The files in a task's directory (``prefix``: ``$filter=startswith(name,...)``)."""
        ref = _files.TaskFileRef(job_id, task_id, "")
        return await _files.list_files(self, ref, recursive=recursive, prefix=prefix)

    async def list_node_files(
        self, pool_id: str, node_id: str, *, recursive: bool = False, prefix: str | None = None
    ) -> list[_files.NodeFile]:
        """The files on a node, from its root (a rank's are under its taskRootDirectory)."""
        return await _files.list_files(self, (pool_id, node_id), recursive=recursive, prefix=prefix)

    async def get_file_properties(self, ref: _files.FileRef) -> _files.FileProperties:
        """HEAD a task or node file: length, last modified, directory or not."""
        return await _files.get_properties(self, ref)

    async def read_file_range(
        self, ref: _files.FileRef, start: int, end: int, *, total: int | None = None
    ) -> _files.FileChunk:
        """Bytes ``[start, end)`` of a task or node file (one ranged GET, capped)."""
        return await _files.read_range(self, ref, start, end, total=total)

    # ------------------------------------------------------------------ pools and nodes (batch/pools.py)

    async def list_pools(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = _pools.MAX_ITEMS,
    ) -> list[_pools.Pool]:
        """The account's pools (every page, up to ``limit``)."""
        pages = _pools.iter_pool_pages(self, filter=filter, select=select, max_results=max_results)
        return await self._collect(pages, limit)

    async def get_pool(self, pool_id: str, *, select: Sequence[str] | None = None) -> _pools.Pool:
        return await _pools.get_pool(self, pool_id, select=select)

    async def list_nodes(
        self,
        pool_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = _pools.MAX_ITEMS,
    ) -> list[_pools.Node]:
        """The compute nodes of a pool (every page, up to ``limit``)."""
        pages = _pools.iter_node_pages(self, pool_id, filter=filter, select=select, max_results=max_results)
        return await self._collect(pages, limit)

    def iter_node_pages(
        self,
        pool_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
    ) -> AsyncGenerator[Page[_pools.Node], None]:
        return _pools.iter_node_pages(self, pool_id, filter=filter, select=select, max_results=max_results)

    async def get_node(
        self, pool_id: str, node_id: str, *, select: Sequence[str] | None = None
    ) -> _pools.Node:
        return await _pools.get_node(self, pool_id, node_id, select=select)

    async def list_pool_node_counts(
        self,
        *,
        filter: str | None = None,
        max_results: int | None = None,
        limit: int | None = _pools.MAX_ITEMS,
    ) -> list[_pools.PoolNodeCounts]:
        """Node counts by state of every pool (``filter``: ``poolId eq '...'``), all pages."""
        pages = _pools.iter_node_count_pages(self, filter=filter, max_results=max_results)
        return await self._collect(pages, limit)

    # ------------------------------------------------------------------ plumbing

    def _url(self, path: str, params: Mapping[str, object]) -> str:
        # Built by hand rather than with httpx params: httpx writes spaces as '+', the SDKs
        # (and the Shared Key vectors) use %20, which no server can misread.
        query = [("api-version", self.api_version)]
        query += [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
        if self.server_timeout is not None:
            query.append(("timeout", str(self.server_timeout)))
        encoded = "&".join(f"{quote(k, safe='')}={_quote(v, k)}" for k, v in query)
        return f"{self.endpoint}{path}?{encoded}"

    async def _pages(
        self,
        call: str,
        path: str,
        params: Mapping[str, object],
        parse: Callable[[object], Page[T]],
        limits: ListLimits | None = None,
        start: str | None = None,
    ) -> AsyncGenerator[Page[T], None]:
        # ``start``: a nextLink a previous listing stopped at, to read on from there
        bounds = limits or self.list_limits
        url: str | None = self._next_url(call, start) if start else self._url(path, params)
        seen: set[str] = set()
        pages = items = 0
        started = self._clock()
        while url is not None:
            elapsed = self._clock() - started
            try:
                check_bounds(call, bounds, pages, items, elapsed)
                # The time bound holds inside a page too (retries and their waits included).
                async with asyncio.timeout(bounds.max_seconds - elapsed):
                    body = await self._get_json(call, url)
            except TimeoutError:
                self.stats.errors += 1
                bound = f"at most {bounds.max_seconds:g} s"
                raise too_long(call, bound, pages, items, self._clock() - started) from None
            except ListingTooLong:
                self.stats.errors += 1
                raise
            page = self._parse(call, parse, body)
            pages += 1
            items += len(page.items)
            yield page
            url = None if page.next_link is None else self._next_url(call, page.next_link)
            if url is not None:
                if url in seen:
                    self.stats.errors += 1
                    raise ModelError(f"{call}: odata.nextLink repeats a page already fetched")
                seen.add(url)

    def _next_url(self, call: str, link: str) -> str:
        """The nextLink, verbatim, if it leads back to this account (our Authorization goes with it)."""
        try:
            if not urlsplit(link).scheme:  # relative: a proxy rewrote it; resolve, don't guess
                link = str(httpx.URL(self.endpoint + "/").join(link))
            origin = _origin(link)
        except (ValueError, httpx.InvalidURL):
            self.stats.errors += 1
            raise ModelError(f"{call}: odata.nextLink is not a URL") from None
        if origin != self._origin:
            self.stats.errors += 1
            raise ModelError(f"{call}: odata.nextLink points away from {self.endpoint}; not followed")
        return link

    @staticmethod
    async def _collect(pages: AsyncIterator[Page[T]], limit: int | None) -> list[T]:
        items: list[T] = []
        try:
            async for page in pages:
                items.extend(page.items)
                if limit is not None and len(items) >= limit:
                    return items[:limit]
        except ListingTooLong as exc:
            raise exc.with_items(tuple(items)) from None
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()
        return items

    def _parse(self, call: str, parse: Callable[[object], T], body: object) -> T:
        try:
            return parse(body)
        except ModelError as exc:
            self.stats.errors += 1
            raise ModelError(f"{call}: {exc}") from None

    async def _get_json(self, call: str, url: str) -> object:
        response_body = await self._request(call, "GET", url)
        try:
            return json.loads(response_body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.stats.errors += 1
            raise ModelError(f"{call}: the response is not JSON ({exc.__class__.__name__})") from None

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
        did nothing. After a timeout or a 5xx the outcome is unknown, and sending again blindly
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
                        request = self._http.build_request(method, url, headers=sent, content=content)
                        response = await self._http.send(request, stream=True)
                        try:
                            body = await _read_capped(response, cap)
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
                failure = TransportError(f"{call}: {self._describe(exc)}")
                # A connection refused before anything was sent is safe to retry even for a
                # state change; httpx says so with ConnectError/ConnectTimeout.
                retryable = retry == "safe" or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            except httpx.HTTPError as exc:
                failure = TransportError(f"{call}: {self._describe(exc)}")
                retryable = False
            except httpx.InvalidURL as exc:  # not an HTTPError; e.g. a mangled nextLink
                failure = TransportError(f"{call}: invalid URL ({exc})")
                retryable = False
            except OSError as exc:
                # A transport that is not httpx's own (ASGI in-process, a test double, a proxy
                # library) may let the socket's error through unwrapped: it is still "offline".
                failure = TransportError(f"{call}: {self._describe(exc)}")
                retryable = retry == "safe"
            except Exception as exc:  # noqa: BLE001 - any other transport bug is one line, not a crash
                failure = TransportError(f"{call}: transport failed ({self._describe(exc)})")
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
                failure = self._service_error(status, body, response, retry_after)
                explanation = self._auth_explanation(failure) if status in (401, 403) else None
                if explanation is not None:
                    failure = dataclasses.replace(failure, explanation=explanation)
                if status == 429 or status == 503:
                    self.stats.throttled += 1
                if status == 429:
                    self.stats.rate_limited += 1
                retryable = status in RETRYABLE_STATUSES if retry == "safe" else status == 429
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
        if not header:
            return
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return  # a proxy's odd Date: keep the last good one
        self.service_time = when if when.tzinfo else when.replace(tzinfo=UTC)

    @staticmethod
    def _describe(exc: Exception) -> str:
        text = " ".join(str(exc).split())[:300]
        kind = "timed out" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "connection failed"
        return f"{kind} ({type(exc).__name__}{': ' + text if text else ''})"

    def _auth_explanation(self, error: BatchServiceError) -> str | None:
        """The cause and the fix, in the operator's words, for a credential the service rejected.

        Only for ``AuthenticationFailed`` (or a bare 401): other 403s (a network rule, a missing
        role) are about permissions, and the service's own message says which."""
        if error.code not in (None, "AuthenticationFailed"):
            return None
        what = f"{error.status} {error.code}" if error.code else str(error.status)
        if isinstance(self._auth, SharedKeyAuth):
            return f"the account key was rejected ({what}): check AZURE_BATCH_ACCESS_KEY / --key"
        if isinstance(self._auth, EntraIdAuth):
            return (
                f"the Microsoft Entra ID token was rejected ({what}): run az login, and check the "
                "identity has a role on the Batch account"
            )
        return f"the service refused the credentials ({what})"

    @staticmethod
    def _service_error(
        status: int, body: bytes, response: httpx.Response, retry_after: float | None
    ) -> BatchServiceError:
        request_id = response.headers.get("request-id")
        reason = response.reason_phrase or ""
        payload: object = None
        try:
            payload = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            payload = None
        if isinstance(payload, Mapping) and isinstance(payload.get("odata.error"), Mapping):
            payload = payload["odata.error"]  # the older OData error envelope
        if isinstance(payload, Mapping) and ("code" in payload or "message" in payload):
            code = payload.get("code")
            message = payload.get("message")
            if isinstance(message, Mapping):
                message = message.get("value")
            values: dict[str, str] = {}
            raw_values = payload.get("values")
            if isinstance(raw_values, list):
                for item in raw_values:
                    if isinstance(item, Mapping) and item.get("key") is not None:
                        values[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
            return BatchServiceError(
                status=status,
                code=str(code) if code is not None else None,
                message=strip_request_tail(str(message)) if message is not None else reason,
                values=values,
                request_id=request_id,
                retry_after=retry_after,
            )
        content_type = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
        what = "an empty body" if not body else f"a {content_type} body, not a Batch error"
        message = f"{reason + ': ' if reason else ''}the server answered with {what}"
        return BatchServiceError(
            status=status, message=message, request_id=request_id, retry_after=retry_after
        )

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
