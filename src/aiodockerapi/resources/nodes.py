"""docker.nodes: the daemons of a swarm."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from .. import operations as ops
from ..models import Node, NodeSpec
from ..params import Filters
from .base import Resource

__all__ = ["Nodes"]


class Nodes(Resource):
    """Swarm nodes: list, inspect, relabel, promote or drain, remove."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Node]:
        """GET /nodes: list the swarm's nodes.

        Args:
            filters: keys `id`, `label` (an engine label), `membership` ("accepted" or
                "pending"), `name`, `node.label`, `role` ("manager" or "worker").
        """
        return await self._t.call(ops.NodeList(filters=filters), builtins.list[Node])

    async def inspect(self, id: str) -> Node:
        """GET /nodes/{id}: a node's spec, description and status.

        Args:
            id: the node's id or hostname.
        """
        return await self._t.call(ops.NodeInspect(id), Node)

    async def update(self, id: str, spec: NodeSpec | Mapping[str, Any], *, version: int) -> None:
        """POST /nodes/{id}/update: replace the whole spec (Role and Availability included).

        Args:
            id: the node's id or hostname.
            spec: the new NodeSpec, or a mapping in the API's names.
            version: `inspect(id).version.index`; a stale one is refused.
        """
        await self._t.call(ops.NodeUpdate(id, version=version), body=spec)

    async def delete(self, id: str, *, force: bool = False) -> None:
        """DELETE /nodes/{id}: remove a node from the swarm.

        Args:
            id: the node's id or hostname.
            force: remove it even if it is not down (a worker only).
        """
        await self._t.call(ops.NodeDelete(id, force=force))
