"""The pool and node reads of the client (NEXT-APIS §3): pools, a pool's nodes, one pool or
node, and every pool's node counts by state. Listings stop at ``MAX_ITEMS`` unless told."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

from batchtui.batch.listing import ListingCore
from batchtui.batch.node_counts import PoolNodeCounts, parse_node_counts_page
from batchtui.batch.paging import MAX_ITEMS
from batchtui.batch.urls import join_select, segment
from batchtui.batch.wire import Page

if TYPE_CHECKING:
    from batchtui.batch.pools import Node, Pool

# The pools' and nodes' models are imported by the first read of one: --once reads only the
# node counts (node_counts.py).


class PoolReads(ListingCore):
    """``list_pools``, ``get_pool``, ``list_nodes``, ``iter_node_pages``, ``get_node``,
    ``list_pool_node_counts``."""

    async def list_pools(
        self,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = MAX_ITEMS,
    ) -> list[Pool]:
        """The account's pools (every page, up to ``limit``)."""
        from batchtui.batch.pools import parse_pool_page

        params = {"maxresults": max_results, "$filter": filter, "$select": join_select(select)}
        return await self._collect(self._pages("list_pools", "/pools", params, parse_pool_page), limit)

    async def get_pool(self, pool_id: str, *, select: Sequence[str] | None = None) -> Pool:
        from batchtui.batch.pools import parse_pool

        url = self._url(f"/pools/{segment(pool_id, 'pool id')}", {"$select": join_select(select)})
        return self._parse("get_pool", parse_pool, await self._get_json("get_pool", url))

    async def list_nodes(
        self,
        pool_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
        limit: int | None = MAX_ITEMS,
    ) -> list[Node]:
        """The compute nodes of a pool (every page, up to ``limit``)."""
        pages = self.iter_node_pages(pool_id, filter=filter, select=select, max_results=max_results)
        return await self._collect(pages, limit)

    def iter_node_pages(
        self,
        pool_id: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        max_results: int | None = None,
    ) -> AsyncGenerator[Page[Node], None]:
        from batchtui.batch.pools import parse_node_page

        path = f"/pools/{segment(pool_id, 'pool id')}/nodes"
        params = {"maxresults": max_results, "$filter": filter, "$select": join_select(select)}
        return self._pages("list_nodes", path, params, parse_node_page)

    async def get_node(self, pool_id: str, node_id: str, *, select: Sequence[str] | None = None) -> Node:
        from batchtui.batch.pools import parse_node

        path = f"/pools/{segment(pool_id, 'pool id')}/nodes/{segment(node_id, 'node id')}"
        url = self._url(path, {"$select": join_select(select)})
        return self._parse("get_node", parse_node, await self._get_json("get_node", url))

    async def list_pool_node_counts(
        self,
        *,
        filter: str | None = None,
        max_results: int | None = None,
        limit: int | None = MAX_ITEMS,
    ) -> list[PoolNodeCounts]:
        """Node counts by state of every pool (``filter``: ``poolId eq '...'``), all pages."""
        params = {"maxresults": max_results, "$filter": filter}
        pages = self._pages("list_pool_node_counts", "/nodecounts", params, parse_node_counts_page)
        return await self._collect(pages, limit)
