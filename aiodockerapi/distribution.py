"""docker.distribution: what a registry says about an image, without pulling it."""

from __future__ import annotations

import msgspec

from .auth import AuthInput, as_auth_config, registry_auth_header
from .transport import Resource, q

__all__ = [
    "Distribution",
    "DistributionInspectResponse",
    "DistributionInspectResponseDescriptor",
    "DistributionInspectResponsePlatformsItem",
]


# The v1.41 spec spells these fields in PascalCase, but the daemon sends the OCI descriptor
# and platform types with their own lower-case JSON names, so the generated models decode
# them as empty. Same class and attribute names as the generated ones; the wire names are
# what the daemon sends. (To replace by the generated models once the generator fixes them.)
class DistributionInspectResponseDescriptor(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The manifest (or index) the registry serves for the name."""

    media_type: str | None = msgspec.field(default=None, name="mediaType")
    size: int | None = None
    digest: str | None = None
    urls: list[str] | None = None
    annotations: dict[str, str] | None = None


class DistributionInspectResponsePlatformsItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One platform the image is available for."""

    architecture: str | None = None
    os: str | None = None
    os_version: str | None = msgspec.field(default=None, name="os.version")
    os_features: list[str] | None = msgspec.field(default=None, name="os.features")
    variant: str | None = None
    features: list[str] | None = None


class DistributionInspectResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """GET /distribution/{name}/json: the manifest's descriptor and the image's platforms."""

    descriptor: DistributionInspectResponseDescriptor | None = msgspec.field(
        default=None, name="Descriptor"
    )
    platforms: list[DistributionInspectResponsePlatformsItem] | None = msgspec.field(
        default=None, name="Platforms"
    )


class Distribution(Resource):
    """Registry distribution data."""

    async def inspect(
        self, name: str, *, auth: AuthInput | None = None
    ) -> DistributionInspectResponse:
        """GET /distribution/{name}/json: ask the registry for the image's digest and platforms.

        Sends `auth` or else the Docker config's credentials for the image's registry.
        """
        credentials = None if auth is None else as_auth_config(auth)
        headers = await registry_auth_header(name, credentials)
        return await self._t.call(
            "GET", f"/distribution/{q(name)}/json", DistributionInspectResponse, headers=headers
        )
