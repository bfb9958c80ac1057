"""docker.volumes: create, list, inspect, update and remove volumes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import operations as ops
from .models import Volume, VolumeConfig, VolumeListResponse, VolumePruneResponse
from .params import Filters
from .resource import Resource

__all__ = ["Volumes"]


class Volumes(Resource):
    """Named and anonymous volumes."""

    async def list(self, *, filters: Filters | None = None) -> VolumeListResponse:
        """GET /volumes: the volumes, and warnings from drivers that could not list theirs."""
        return await self._t.call(ops.VolumeList(filters=filters), VolumeListResponse)

    async def create(self, config: VolumeConfig | Mapping[str, Any] | None = None) -> Volume:
        """POST /volumes/create, from a VolumeConfig or a mapping in the API's names.

        With no config (or no Name), the daemon names the volume; creating a name that
        exists returns the existing volume unchanged.
        """
        body = {} if config is None else config
        return await self._t.call(ops.VolumeCreate(), Volume, body=body)

    async def inspect(self, name: str) -> Volume:
        """GET /volumes/{name}."""
        return await self._t.call(ops.VolumeInspect(name), Volume)

    async def update(self, name: str, body: Mapping[str, Any], *, version: int) -> None:
        """PUT /volumes/{name} (API 1.42): change a swarm cluster volume, whose spec is the
        body's Spec (a ClusterVolumeSpec, in the API's names); only its Availability may
        change. `version` is the volume's ClusterVolume.Version.Index; a stale one is
        refused. A local volume, or a daemon outside a swarm, is an error."""
        await self._t.call(ops.VolumeUpdate(name, version=version), body=body)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """DELETE /volumes/{name}; a volume in use is a Conflict, even with force."""
        await self._t.call(ops.VolumeDelete(name, force=force), timeout=None)

    async def prune(self, *, filters: Filters | None = None) -> VolumePruneResponse:
        """POST /volumes/prune: remove local volumes no container uses (API 1.41: named too)."""
        req = ops.VolumePrune(filters=filters)
        return await self._t.call(req, VolumePruneResponse, timeout=None)
