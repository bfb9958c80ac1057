"""docker.distribution: what a registry says about an image, without pulling it."""

from __future__ import annotations

from .. import operations as ops
from ..auth import AuthInput, as_auth_config, registry_auth_header
from ..models import DistributionInspectResponse
from .base import Resource

__all__ = ["Distribution"]


class Distribution(Resource):
    """Registry distribution data."""

    async def inspect(
        self, name: str, *, auth: AuthInput | None = None
    ) -> DistributionInspectResponse:
        """GET /distribution/{name}/json: ask the registry for the image's digest and platforms.

        Args:
            name: the image's name.
            auth: credentials for its registry; the Docker config's by default.
        """
        credentials = None if auth is None else as_auth_config(auth)
        headers = await registry_auth_header(name, credentials)
        req = ops.DistributionInspect(name)
        return await self._t.call(req, DistributionInspectResponse, headers=headers)
