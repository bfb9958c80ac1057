"""docker.images.ensure: an image the daemon has, pulled only when it lacks it.

A recipe (see recipes.py), mixed into Images: it composes inspect and pull.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .errors import NotFound
from .models import Image
from .resource import Resource

if TYPE_CHECKING:
    from .auth import AuthInput
    from .images import Images

__all__ = ["ImageEnsure"]


class ImageEnsure(Resource):
    """Images pulled only when missing (part of Images)."""

    async def ensure(
        self, ref: str, *, auth: AuthInput | None = None, platform: str | None = None
    ) -> Image:
        """Inspect an image, pulling it first only if the daemon lacks it: a NotFound, or
        with `platform` an image of another OS or architecture.

        Args:
            ref: the image's name.
            auth: credentials for the pull, as in `pull`.
            platform: the variant wanted, "os[/architecture[/variant]]".
        """
        images = cast("Images", self)
        try:
            found = await images.inspect(ref)
        except NotFound:
            pass
        else:
            if platform is None or _same_platform(found, platform):
                return found
        async for _ in images.pull(ref, platform=platform, auth=auth):
            pass
        return await images.inspect(ref)


def _same_platform(image: Image, platform: str) -> bool:
    wanted = platform.split("/")[:2]  # variants are too loosely reported to compare
    return [image.os, image.architecture][: len(wanted)] == wanted
