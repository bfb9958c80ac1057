"""docker.volumes: create, list, inspect, update and remove volumes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import operations as ops
from ..models import Volume, VolumeConfig, VolumeListResponse, VolumePruneResponse
from ..params import Filters
from .base import Resource

__all__ = ["Volumes"]


class Volumes(Resource):
    """Named and anonymous volumes."""

    async def list(self, *, filters: Filters | None = None) -> VolumeListResponse:
        """GET /volumes: the volumes, and warnings from drivers that could not list theirs.

        Args:
            filters: keys `dangling`, `driver`, `label`, `name`.
        """
        return await self._t.call(ops.VolumeList(filters=filters), VolumeListResponse)

    async def create(self, config: VolumeConfig | Mapping[str, Any] | None = None) -> Volume:
        """POST /volumes/create: create a volume.

        With no config (or no Name), the daemon names the volume; creating a name that
        exists returns the existing volume unchanged.

        Args:
            config: a VolumeConfig, or a mapping in the API's names.
        """
        body = {} if config is None else config
        return await self._t.call(ops.VolumeCreate(), Volume, body=body)

    async def inspect(self, name: str) -> Volume:
        """GET /volumes/{name}: a volume's driver, mountpoint, labels and options.

        Args:
            name: the volume's name.
        """
        return await self._t.call(ops.VolumeInspect(name), Volume)

    async def update(self, name: str, body: Mapping[str, Any], *, version: int) -> None:
        """PUT /volumes/{name} (API 1.42+): change a swarm cluster volume; only its
        Availability may change. A local volume, or a daemon outside a swarm, is an error.

        Args:
            name: the volume's name or id.
            body: a mapping whose Spec is a ClusterVolumeSpec, in the API's names.
            version: the volume's ClusterVolume.Version.Index; a stale one is refused.
        """
        await self._t.call(ops.VolumeUpdate(name, version=version), body=body)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """DELETE /volumes/{name}; a volume in use is a Conflict, even with force.

        Args:
            name: the volume's name.
            force: forget the volume even if its driver fails to remove it.
        """
        await self._t.call(ops.VolumeDelete(name, force=force), timeout=None)

    async def prune(self, *, filters: Filters | None = None) -> VolumePruneResponse:
        """POST /volumes/prune: remove local volumes no container uses (anonymous ones only
        from API 1.42 on; named ones too before).

        Args:
            filters: keys `label` (or `label!`), and `all` to prune named volumes too (API 1.42+).
        """
        req = ops.VolumePrune(filters=filters)
        return await self._t.call(req, VolumePruneResponse, timeout=None)
