"""docker.secrets: swarm secrets, the sensitive data services mount as files."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from .. import operations as ops
from ..models import Secret, SecretCreateBody, SecretSpec, SwarmIdResponse
from ..params import Filters
from .base import Resource

__all__ = ["Secrets"]


class Secrets(Resource):
    """Swarm secrets. Their data is write-only: inspect never returns it.

    Data is base64 in the API. In a mapping body, bytes are base64-encoded for you
    (`{"Name": "db-password", "Data": b"s3cret"}`); a SecretSpec wants the base64 string.
    """

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Secret]:
        """GET /secrets: list secrets (their data is never returned).

        Args:
            filters: keys `id`, `label`, `name`, `names`.
        """
        return await self._t.call(ops.SecretList(filters=filters), builtins.list[Secret])

    async def create(
        self, spec: SecretSpec | SecretCreateBody | Mapping[str, Any]
    ) -> SwarmIdResponse:
        """POST /secrets/create; a name in use is a Conflict.

        Args:
            spec: a SecretSpec (Name, Data base64-encoded, Labels...), or a mapping in the API's
                names.
        """
        return await self._t.call(ops.SecretCreate(), SwarmIdResponse, body=spec)

    async def inspect(self, id: str) -> Secret:
        """GET /secrets/{id}: a secret's spec and version, without its data.

        Args:
            id: the secret's id or name.
        """
        return await self._t.call(ops.SecretInspect(id), Secret)

    async def update(self, id: str, spec: SecretSpec | Mapping[str, Any], *, version: int) -> None:
        """POST /secrets/{id}/update: only Labels may change.

        Args:
            id: the secret's id or name.
            spec: the SecretSpec with the current Name (and no Data), and the new Labels.
            version: `inspect(id).version.index`; a stale one is refused.
        """
        await self._t.call(ops.SecretUpdate(id, version=version), body=spec)

    async def delete(self, id: str) -> None:
        """DELETE /secrets/{id}: remove a secret.

        Args:
            id: the secret's id or name.
        """
        await self._t.call(ops.SecretDelete(id))
