"""docker.configs: swarm configs, the non-sensitive files services mount."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from .. import operations as ops
from ..models import Config, ConfigCreateBody, ConfigSpec, SwarmIdResponse
from ..params import Filters
from .base import Resource

__all__ = ["Configs"]


class Configs(Resource):
    """Swarm configs.

    Data is base64 in the API, both ways. In a mapping body, bytes are base64-encoded for you
    (`{"Name": "app.ini", "Data": b"[app]\\n"}`); a ConfigSpec wants the base64 string, and
    `inspect(id).spec.data` is one (`base64.b64decode` it).
    """

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Config]:
        """GET /configs: list configs.

        Args:
            filters: keys `id`, `label`, `name`, `names`.
        """
        return await self._t.call(ops.ConfigList(filters=filters), builtins.list[Config])

    async def create(
        self, spec: ConfigSpec | ConfigCreateBody | Mapping[str, Any]
    ) -> SwarmIdResponse:
        """POST /configs/create; a name in use is a Conflict.

        Args:
            spec: a ConfigSpec (Name, Data base64-encoded, Labels...), or a mapping in the API's
                names.
        """
        return await self._t.call(ops.ConfigCreate(), SwarmIdResponse, body=spec)

    async def inspect(self, id: str) -> Config:
        """GET /configs/{id}: a config's spec (its data included) and version.

        Args:
            id: the config's id or name.
        """
        return await self._t.call(ops.ConfigInspect(id), Config)

    async def update(self, id: str, spec: ConfigSpec | Mapping[str, Any], *, version: int) -> None:
        """POST /configs/{id}/update: only Labels may change.

        Args:
            id: the config's id or name.
            spec: the ConfigSpec with the current Name, and the new Labels.
            version: `inspect(id).version.index`; a stale one is refused.
        """
        await self._t.call(ops.ConfigUpdate(id, version=version), body=spec)

    async def delete(self, id: str) -> None:
        """DELETE /configs/{id}: remove a config.

        Args:
            id: the config's id or name.
        """
        await self._t.call(ops.ConfigDelete(id))
