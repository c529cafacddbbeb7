"""An async client for the calls the dashboard makes to one Batch account.

:class:`BatchClient` is assembled from modules that each hold one part of it: the request core
(``request.py``: the HTTP client, ``_send``, retries, events), listings and JSON reads
(``listing.py``), and the calls by subject: jobs and task counts (``job_reads.py``), tasks and
subtasks (``task_reads.py``), pools and nodes (``pool_reads.py``). Files and actions are free
functions over the client (``files.py``, ``actions.py``) with thin methods here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import httpx

from batchtui.batch.auth import EntraIdAuth, SharedKeyAuth
from batchtui.batch.errors import ConfigError
from batchtui.batch.job_reads import JobReads
from batchtui.batch.paging import ListLimits
from batchtui.batch.pool_reads import PoolReads
from batchtui.batch.request import (
    DEFAULT_API_VERSION,
    DEFAULT_CONCURRENCY,
    MAX_RESPONSE_BYTES,
    ClientStats,
    Reply,
    RequestEvent,
    RetryMode,
)
from batchtui.batch.retry import RetryPolicy
from batchtui.batch.task_reads import TaskReads
from batchtui.batch.urls import join_select, segment

if TYPE_CHECKING:
    from batchtui.batch import files as _files

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CONCURRENCY",
    "BatchClient",
    "ClientSettings",
    "ClientStats",
    "ListLimits",
    "MAX_RESPONSE_BYTES",
    "Reply",
    "RequestEvent",
    "RetryMode",
    "RetryPolicy",
]

# the names the call modules in files.py and actions.py import from here
_segment = segment
_join_select = join_select


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


class BatchClient(JobReads, TaskReads, PoolReads):
    """Access to the jobs, tasks, pools, nodes and files of one Batch account.

    ``BatchClient(endpoint, auth, *, account=, api_version=, transport=, max_concurrency=,
    timeout=, retry=, on_event=, sleep=, server_timeout=, readonly=, list_limits=, clock=)``:
    see :class:`~batchtui.batch.request.RequestCore` for each option.
    """

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

    async def probe(self) -> None:
        """The smallest read of the account, sent once with no retry: is the service answering?

        One job's id (``GET /jobs?$select=id&maxresults=1``, ~100 bytes). The dashboard sends it
        once an interval while the account is throttled, instead of its full refresh; a 429
        raises a BatchServiceError carrying the Retry-After the service gave.
        """
        await self._send(
            "probe", "GET", self._url("/jobs", {"maxresults": 1, "$select": "id"}), retry="never"
        )

    # ------------------------------------------------------------------ files (batch/files.py)
    # Imported on first use: --once and the first screen read no file (~10 ms of every start).

    async def list_task_files(
        self, job_id: str, task_id: str, *, recursive: bool = False, prefix: str | None = None
    ) -> list[_files.NodeFile]:
        """The files in a task's directory (``prefix``: ``$filter=startswith(name,...)``)."""
        from batchtui.batch import files as _files

        ref = _files.TaskFileRef(job_id, task_id, "")
        return await _files.list_files(self, ref, recursive=recursive, prefix=prefix)

    async def list_node_files(
        self, pool_id: str, node_id: str, *, recursive: bool = False, prefix: str | None = None
    ) -> list[_files.NodeFile]:
        """The files on a node, from its root (a rank's are under its taskRootDirectory)."""
        from batchtui.batch import files as _files

        return await _files.list_files(self, (pool_id, node_id), recursive=recursive, prefix=prefix)

    async def get_file_properties(self, ref: _files.FileRef) -> _files.FileProperties:
        """HEAD a task or node file: length, last modified, directory or not."""
        from batchtui.batch import files as _files

        return await _files.get_properties(self, ref)

    async def read_file_range(
        self, ref: _files.FileRef, start: int, end: int, *, total: int | None = None
    ) -> _files.FileChunk:
        """Bytes ``[start, end)`` of a task or node file (one ranged GET, capped)."""
        from batchtui.batch import files as _files

        return await _files.read_range(self, ref, start, end, total=total)
