"""docker.images.get, get_all and load: images as tar archives (`docker save` and `docker
load`), mixed into Images."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from .. import operations as ops
from ..bodies.build_context import TAR_HEADERS, BuildContext, open_context
from ..models import BuildInfo
from ..params import PlatformSpec, platform_list, string_list
from .base import Resource

__all__ = ["ImageArchives"]


class ImageArchives(Resource):
    """Images exported to, and loaded from, tar archives (part of Images)."""

    def get(
        self, name: str, *, platform: PlatformSpec | Sequence[PlatformSpec] | None = None
    ) -> AsyncGenerator[bytes, None]:
        """GET /images/{name}/get: export one image (and its parents) as a tar, in chunks.

        Args:
            name: the image's name or id.
            platform: export only these variants of a multi-platform image (API 1.48+).
        """
        req = ops.ImageGet(name, platform=platform_list("platform", platform))
        return self._t.stream_bytes(req)

    def get_all(
        self,
        names: str | Sequence[str],
        *,
        platform: PlatformSpec | Sequence[PlatformSpec] | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """GET /images/get: export several images as one tar, in chunks.

        Args:
            names: the images' names or ids.
            platform: export only these variants of multi-platform images (API 1.48+).
        """
        listed = string_list("names", names)
        if not listed:
            raise ValueError("get_all needs at least one image name")
        req = ops.ImageGetAll(names=listed, platform=platform_list("platform", platform))
        return self._t.stream_bytes(req)

    def load(
        self,
        source: BuildContext,
        *,
        quiet: bool = False,
        platform: PlatformSpec | Sequence[PlatformSpec] | None = None,
    ) -> AsyncGenerator[BuildInfo, None]:
        """POST /images/load: load images from a tar made by get/get_all; yields the
        daemon's messages ("Loaded image: ..." in `stream`). A bad tar raises DockerStreamError.

        Args:
            source: the tar: bytes, a path, a binary file object or an async iterable of bytes.
            quiet: report no progress while loading.
            platform: load only these variants of multi-platform images (API 1.48+).
        """
        req = ops.ImageLoad(platform=platform_list("platform", platform), quiet=quiet)
        data = open_context(source)
        return self._t.stream_json(
            req, BuildInfo, in_band_errors=True, data=data, headers=TAR_HEADERS, timeout=None
        )
