"""docker.nodes: the daemons of a swarm."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from . import operations as ops
from .models import Node, NodeSpec
from .params import Filters
from .resource import Resource

__all__ = ["Nodes"]


class Nodes(Resource):
    """Swarm nodes: list, inspect, relabel, promote or drain, remove."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Node]:
        """GET /nodes; filters: id, label, membership, name, node.label, role."""
        return await self._t.call(ops.NodeList(filters=filters), builtins.list[Node])

    async def inspect(self, id: str) -> Node:
        """GET /nodes/{id}, by id or hostname."""
        return await self._t.call(ops.NodeInspect(id), Node)

    async def update(self, id: str, spec: NodeSpec | Mapping[str, Any], *, version: int) -> None:
        """POST /nodes/{id}/update: replace the whole spec (Role and Availability included).

        `version` is `inspect(id).version.index`; a stale one is refused.
        """
        await self._t.call(ops.NodeUpdate(id, version=version), body=spec)

    async def delete(self, id: str, *, force: bool = False) -> None:
        """DELETE /nodes/{id}: remove a node that is down (or any worker with force=True)."""
        await self._t.call(ops.NodeDelete(id, force=force))
