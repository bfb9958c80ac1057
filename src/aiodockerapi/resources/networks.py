"""docker.networks: create, inspect, connect containers to and remove networks."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Literal

from .. import operations as ops
from ..models import (
    Network,
    NetworkConnectBody,
    NetworkCreateBody,
    NetworkCreateResponse,
    NetworkDisconnectBody,
    NetworkPruneResponse,
)
from ..params import Filters
from .base import Resource

__all__ = ["Networks"]

NetworkScope = Literal["swarm", "global", "local"]


class Networks(Resource):
    """Networks and the containers attached to them."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Network]:
        """GET /networks: list networks, without their attached containers (inspect a
        network for those).

        Args:
            filters: keys `dangling`, `driver`, `id`, `label`, `name`, `scope`, `type`
                ("custom" or "builtin").
        """
        return await self._t.call(ops.NetworkList(filters=filters), builtins.list[Network])

    async def inspect(
        self, id: str, *, verbose: bool = False, scope: NetworkScope | None = None
    ) -> Network:
        """GET /networks/{id}: a network's configuration and attached containers.

        Args:
            id: the network's id, id prefix or name.
            verbose: add the swarm-wide view: the services and tasks on the network.
            scope: look for a network of this scope only: "swarm", "global" or "local".
        """
        return await self._t.call(ops.NetworkInspect(id, verbose=verbose, scope=scope), Network)

    async def create(self, config: NetworkCreateBody | Mapping[str, Any]) -> NetworkCreateResponse:
        """POST /networks/create: create a network.

        Args:
            config: a NetworkCreateBody, or a mapping in the API's names.
        """
        return await self._t.call(ops.NetworkCreate(), NetworkCreateResponse, body=config)

    async def delete(self, id: str) -> None:
        """DELETE /networks/{id}: remove a network.

        Args:
            id: the network's id, id prefix or name.
        """
        await self._t.call(ops.NetworkDelete(id))

    async def connect(self, id: str, container: NetworkConnectBody | Mapping[str, Any]) -> None:
        """POST /networks/{id}/connect: attach a container to a network.

        Args:
            id: the network's id, id prefix or name.
            container: a NetworkConnectBody: the Container, with its EndpointConfig.
        """
        await self._t.call(ops.NetworkConnect(id), body=container)

    async def disconnect(
        self, id: str, container: NetworkDisconnectBody | Mapping[str, Any]
    ) -> None:
        """POST /networks/{id}/disconnect: detach a container from a network.

        Args:
            id: the network's id, id prefix or name.
            container: a NetworkDisconnectBody: the Container, with Force to detach it even if it
                is gone.
        """
        await self._t.call(ops.NetworkDisconnect(id), body=container)

    async def prune(self, *, filters: Filters | None = None) -> NetworkPruneResponse:
        """POST /networks/prune: remove networks no container uses.

        Args:
            filters: keys `until` (a timestamp or duration) and `label` (or `label!`).
        """
        req = ops.NetworkPrune(filters=filters)
        return await self._t.call(req, NetworkPruneResponse, timeout=None)
