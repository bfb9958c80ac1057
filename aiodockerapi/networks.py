"""docker.networks: create, inspect, connect containers to and remove networks."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Literal

from .models import (
    Network,
    NetworkConnectBody,
    NetworkCreateBody,
    NetworkCreateResponse,
    NetworkDisconnectBody,
    NetworkPruneResponse,
)
from .params import Filters, query
from .transport import Resource, q

__all__ = ["Networks"]

NetworkScope = Literal["swarm", "global", "local"]


class Networks(Resource):
    """Networks and the containers attached to them."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Network]:
        """GET /networks (without the attached containers: inspect a network for those)."""
        return await self._t.call(
            "GET", "/networks", builtins.list[Network], params=query(filters=filters)
        )

    async def inspect(
        self, id: str, *, verbose: bool = False, scope: NetworkScope | None = None
    ) -> Network:
        """GET /networks/{id}, by id, id prefix or name."""
        return await self._t.call(
            "GET", f"/networks/{q(id)}", Network, params=query(verbose=verbose, scope=scope)
        )

    async def create(self, config: NetworkCreateBody | Mapping[str, Any]) -> NetworkCreateResponse:
        """POST /networks/create, from a NetworkCreateBody or a mapping in the API's names."""
        return await self._t.call("POST", "/networks/create", NetworkCreateResponse, body=config)

    async def delete(self, id: str) -> None:
        """DELETE /networks/{id}."""
        await self._t.call("DELETE", f"/networks/{q(id)}")

    async def connect(self, id: str, container: NetworkConnectBody | Mapping[str, Any]) -> None:
        """POST /networks/{id}/connect: attach the body's Container, with its EndpointConfig."""
        await self._t.call("POST", f"/networks/{q(id)}/connect", body=container)

    async def disconnect(
        self, id: str, container: NetworkDisconnectBody | Mapping[str, Any]
    ) -> None:
        """POST /networks/{id}/disconnect: detach the body's Container (Force: even if gone)."""
        await self._t.call("POST", f"/networks/{q(id)}/disconnect", body=container)

    async def prune(self, *, filters: Filters | None = None) -> NetworkPruneResponse:
        """POST /networks/prune: remove networks no container uses."""
        return await self._t.call(
            "POST",
            "/networks/prune",
            NetworkPruneResponse,
            params=query(filters=filters),
            timeout=None,
        )
