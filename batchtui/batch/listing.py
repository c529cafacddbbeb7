"""Listings and reads on top of the request core: URLs with the query the service expects,
pages followed through ``odata.nextLink`` (bounded: :class:`~batchtui.batch.paging.ListLimits`),
JSON bodies decoded and parsed, every failure a :class:`BatchClientError`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import TypeVar
from urllib.parse import quote, urlsplit

import httpx

from batchtui.batch.errors import ListingTooLong, ModelError
from batchtui.batch.paging import ListLimits, check_bounds, too_long
from batchtui.batch.request import RequestCore
from batchtui.batch.urls import origin, quote_part
from batchtui.batch.wire import Page

T = TypeVar("T")


class ListingCore(RequestCore):
    """The plumbing every call module builds on: ``_url``, ``_pages``, ``_get_json``, ``_parse``."""

    def _url(self, path: str, params: Mapping[str, object]) -> str:
        # Built by hand rather than with httpx params: httpx writes spaces as '+', the SDKs
        # (and the Shared Key vectors) use %20, which no server can misread.
        query = [("api-version", self.api_version)]
        query += [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
        if self.server_timeout is not None:
            query.append(("timeout", str(self.server_timeout)))
        encoded = "&".join(f"{quote(k, safe='')}={quote_part(v, k)}" for k, v in query)
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
            there = origin(link)
        except (ValueError, httpx.InvalidURL):
            self.stats.errors += 1
            raise ModelError(f"{call}: odata.nextLink is not a URL") from None
        if there != self._origin:
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
