"""How a built request reaches the transport: through ``httpx.AsyncClient``, or straight to it.

``httpx.AsyncClient.send`` does for every request what batchtui needs only where a proxy
applies: it picks the transport by URL (proxies, ``NO_PROXY``), builds a urllib request to let
its cookie jar read every answer, wraps the body to time it and merges the client's headers
again. On the direct path that was a third of a ``--once``'s CPU per request beside the
transport's own (bench/README.md, session 6), and the Batch service sets no cookie. So with no
proxy, :class:`DirectSender` hands the request to the transport itself, on the two interfaces
httpx documents for extending it: the transport's ``handle_async_request`` and the auth's
``async_auth_flow``. Its requests carry the client's own default headers and timeouts, taken
from the client once it is built, so both paths send the same bytes.
"""

from __future__ import annotations

from typing import Protocol

import httpx


class Sender(Protocol):
    def build(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> httpx.Request: ...

    async def send(self, request: httpx.Request) -> httpx.Response:
        """The answer, its body not read yet (the caller reads it, capped, and closes it)."""
        ...


class ClientSender:
    """Through ``httpx.AsyncClient`` (with a proxy: it picks the proxy per URL)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def build(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> httpx.Request:
        return self._client.build_request(method, url, headers=headers, content=content)

    async def send(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True)


class DirectSender:
    """Straight to ``transport``, signed by ``auth``, with ``client``'s headers and timeouts."""

    def __init__(
        self, transport: httpx.AsyncBaseTransport, auth: httpx.Auth | None, client: httpx.AsyncClient
    ) -> None:
        self._transport = transport
        self._auth = auth
        self._defaults = list(client.headers.multi_items())  # Accept, Accept-Encoding, User-Agent...
        self._extensions = {"timeout": client.timeout.as_dict()}

    def build(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> httpx.Request:
        lowered = {name.lower() for name in headers}
        merged = [(k, v) for k, v in self._defaults if k not in lowered]  # the call's own win
        merged.extend(headers.items())
        return httpx.Request(method, url, headers=merged, content=content, extensions=dict(self._extensions))

    async def send(self, request: httpx.Request) -> httpx.Response:
        if self._auth is None:
            return await self._one(request)
        # As httpx.AsyncClient runs an auth flow: every answer goes back into the flow, which
        # may send the request once more (a rejected token renewed); the answer it retries
        # after is read whole (the flow bounds it) and closed.
        flow = self._auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            while True:
                response = await self._one(request)
                try:
                    again = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await response.aread()
                request = again
        finally:
            await flow.aclose()

    async def _one(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport.handle_async_request(request)
        response.request = request
        return response
