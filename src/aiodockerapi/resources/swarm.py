"""docker.swarm: create, join, change, lock and leave the swarm this daemon belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import models
from .. import operations as ops
from ..models import SwarmInitBody, SwarmJoinBody, SwarmSpec, SwarmUnlockBody, UnlockKeyResponse
from .base import Resource

__all__ = ["Swarm"]


class Swarm(Resource):
    """The swarm: its cluster-wide settings, join tokens and unlock key."""

    async def init(self, body: SwarmInitBody | Mapping[str, Any]) -> str:
        """POST /swarm/init: make this daemon the first manager; returns its node id.

        Args:
            body: a SwarmInitBody (ListenAddr, AdvertiseAddr, DefaultAddrPool, Spec...), or a
                mapping in the API's names.
        """
        return await self._t.call(ops.SwarmInit(), str, body=body)

    async def inspect(self) -> models.Swarm:
        """GET /swarm: the cluster, its spec and join tokens (managers only)."""
        return await self._t.call(ops.SwarmInspect(), models.Swarm)

    async def join(self, body: SwarmJoinBody | Mapping[str, Any]) -> None:
        """POST /swarm/join: join a swarm as a worker or a manager.

        Args:
            body: a SwarmJoinBody: RemoteAddrs and the JoinToken, whose kind decides the role.
        """
        await self._t.call(ops.SwarmJoin(), body=body)

    async def leave(self, *, force: bool = False) -> None:
        """POST /swarm/leave: take this daemon out of its swarm.

        Args:
            force: needed by a manager (the last one erases the swarm).
        """
        await self._t.call(ops.SwarmLeave(force=force))

    async def update(
        self,
        spec: SwarmSpec | Mapping[str, Any],
        *,
        version: int,
        rotate_worker_token: bool = False,
        rotate_manager_token: bool = False,
        rotate_manager_unlock_key: bool = False,
    ) -> None:
        """POST /swarm/update: replace the whole spec (fields left out are reset).

        Args:
            spec: the new SwarmSpec, or a mapping in the API's names.
            version: `inspect().version.index`; a stale one is refused.
            rotate_worker_token: issue a new worker join token.
            rotate_manager_token: issue a new manager join token.
            rotate_manager_unlock_key: issue a new unlock key.
        """
        req = ops.SwarmUpdate(
            version=version,
            rotate_worker_token=rotate_worker_token,
            rotate_manager_token=rotate_manager_token,
            rotate_manager_unlock_key=rotate_manager_unlock_key,
        )
        await self._t.call(req, body=spec)

    async def unlockkey(self) -> UnlockKeyResponse:
        """GET /swarm/unlockkey: the key that unlocks an autolocked manager ("" when off)."""
        return await self._t.call(ops.SwarmUnlockkey(), UnlockKeyResponse)

    async def unlock(self, body: SwarmUnlockBody | Mapping[str, Any]) -> None:
        """POST /swarm/unlock: unlock a manager restarted with autolock on.

        Args:
            body: a SwarmUnlockBody holding the UnlockKey.
        """
        await self._t.call(ops.SwarmUnlock(), body=body)
