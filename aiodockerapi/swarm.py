"""docker.swarm: create, join, change, lock and leave the swarm this daemon belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import models
from .models import SwarmInitBody, SwarmJoinBody, SwarmSpec, SwarmUnlockBody, UnlockKeyResponse
from .params import query
from .transport import Resource

__all__ = ["Swarm"]


class Swarm(Resource):
    """The swarm: its cluster-wide settings, join tokens and unlock key."""

    async def init(self, body: SwarmInitBody | Mapping[str, Any]) -> str:
        """POST /swarm/init: make this daemon the first manager; returns its node id.

        The body gives ListenAddr, AdvertiseAddr, DefaultAddrPool, Spec and so on.
        """
        return await self._t.call("POST", "/swarm/init", str, body=body)

    async def inspect(self) -> models.Swarm:
        """GET /swarm: the cluster, its spec and join tokens (managers only)."""
        return await self._t.call("GET", "/swarm", models.Swarm)

    async def join(self, body: SwarmJoinBody | Mapping[str, Any]) -> None:
        """POST /swarm/join: join the swarm at RemoteAddrs with a worker or manager JoinToken."""
        await self._t.call("POST", "/swarm/join", body=body)

    async def leave(self, *, force: bool = False) -> None:
        """POST /swarm/leave; a manager needs force=True (the last one erases the swarm)."""
        await self._t.call("POST", "/swarm/leave", params=query(force=force))

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

        `version` is `inspect().version.index`; a stale one is refused.
        """
        params = query(
            version=version,
            rotateWorkerToken=rotate_worker_token,
            rotateManagerToken=rotate_manager_token,
            rotateManagerUnlockKey=rotate_manager_unlock_key,
        )
        await self._t.call("POST", "/swarm/update", params=params, body=spec)

    async def unlockkey(self) -> UnlockKeyResponse:
        """GET /swarm/unlockkey: the key that unlocks an autolocked manager ("" when off)."""
        return await self._t.call("GET", "/swarm/unlockkey", UnlockKeyResponse)

    async def unlock(self, body: SwarmUnlockBody | Mapping[str, Any]) -> None:
        """POST /swarm/unlock: unlock a manager restarted with autolock on, by its UnlockKey."""
        await self._t.call("POST", "/swarm/unlock", body=body)
