"""docker.volumes: create, list, inspect and remove volumes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import Volume, VolumeConfig, VolumeListResponse, VolumePruneResponse
from .params import Filters, query
from .transport import Resource, q

__all__ = ["Volumes"]


class Volumes(Resource):
    """Named and anonymous volumes."""

    async def list(self, *, filters: Filters | None = None) -> VolumeListResponse:
        """GET /volumes: the volumes, and warnings from drivers that could not list theirs."""
        return await self._t.call(
            "GET", "/volumes", VolumeListResponse, params=query(filters=filters)
        )

    async def create(self, config: VolumeConfig | Mapping[str, Any] | None = None) -> Volume:
        """POST /volumes/create, from a VolumeConfig or a mapping in the API's names.

        With no config (or no Name), the daemon names the volume; creating a name that
        exists returns the existing volume unchanged.
        """
        return await self._t.call(
            "POST", "/volumes/create", Volume, body={} if config is None else config
        )

    async def inspect(self, name: str) -> Volume:
        """GET /volumes/{name}."""
        return await self._t.call("GET", f"/volumes/{q(name)}", Volume)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """DELETE /volumes/{name}; a volume in use is a Conflict, even with force."""
        await self._t.call("DELETE", f"/volumes/{q(name)}", params=query(force=force), timeout=None)

    async def prune(self, *, filters: Filters | None = None) -> VolumePruneResponse:
        """POST /volumes/prune: remove local volumes no container uses (API 1.41: named too)."""
        return await self._t.call(
            "POST",
            "/volumes/prune",
            VolumePruneResponse,
            params=query(filters=filters),
            timeout=None,
        )
