"""docker.images: list, build, pull, push, import, export, commit, tag and remove images.

Images holds the operations on images and `ensure` (inspect, pulling only when missing); its
mixins add builds (image_builds.py) and tar archives (image_archives.py).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from .. import operations as ops
from ..auth import AuthInput, as_auth_config, registry_auth_header, with_headers
from ..bodies.build_context import TAR_HEADERS, BuildContext, open_context
from ..errors import NotFound
from ..models import (
    ContainerConfig,
    CreateImageInfo,
    HistoryResponseItem,
    IdResponse,
    Image,
    ImageDeleteResponseItem,
    ImagePruneResponse,
    ImageSearchResponseItem,
    ImageSummary,
    PushImageInfo,
)
from ..params import (
    Filters,
    PlatformSpec,
    has_tag_or_digest,
    platform_json,
    platform_list,
    string_list,
)
from .image_archives import ImageArchives
from .image_builds import ImageBuilds

__all__ = ["Images"]


class Images(ImageBuilds, ImageArchives):
    """Images in the daemon's store."""

    async def list(
        self,
        *,
        all: bool = False,
        filters: Filters | None = None,
        digests: bool = False,
        shared_size: bool | None = None,
        manifests: bool | None = None,
        identity: bool | None = None,
    ) -> builtins.list[ImageSummary]:
        """GET /images/json: list images.

        Args:
            all: include intermediate images too.
            filters: keys `before`, `dangling`, `label`, `reference`, `since`, `until` (documented
                from API 1.44).
            digests: fill in each image's RepoDigests.
            shared_size: fill in each image's SharedSize (API 1.42+).
            manifests: add each image's Manifests (API 1.47+), which an image store that keeps
                image indexes, such as containerd's, has.
            identity: add each manifest's Identity, with `manifests` (API 1.54+).
        """
        req = ops.ImageList(
            all=all,
            filters=filters,
            digests=digests,
            shared_size=shared_size,
            manifests=manifests,
            identity=identity,
        )
        return await self._t.call(req, builtins.list[ImageSummary])

    async def inspect(
        self,
        name: str,
        *,
        manifests: bool | None = None,
        platform: PlatformSpec | None = None,
    ) -> Image:
        """GET /images/{name}/json: an image's configuration and metadata.

        Args:
            name: the image's name or id.
            manifests: add the image's Manifests (API 1.48+); excludes `platform`.
            platform: inspect this variant of a multi-platform image (API 1.49+); an error for an
                image that does not provide it.
        """
        req = ops.ImageInspect(
            name,
            manifests=manifests,
            platform=None if platform is None else platform_json(platform),
        )
        return await self._t.call(req, Image)

    async def attestations(
        self,
        name: str,
        *,
        platform: PlatformSpec | None = None,
        type: str | Sequence[str] | None = None,
        statement: bool | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """GET /images/{name}/attestations (API 1.55+): the in-toto attestation statements
        attached to an image. An image store that keeps no image indexes (the classic one)
        answers 501.

        Args:
            name: the image's name or id.
            platform: the variant whose attestations to read; the daemon's own by default.
            type: only statements of these predicate types; all by default.
            statement: include each statement's body.
        """
        req = ops.ImageAttestations(
            name,
            platform=None if platform is None else [platform_json(platform)],
            type=string_list("type", type) or None,
            statement=statement,
        )
        return await self._t.call(req, builtins.list[dict[str, Any]])

    async def history(
        self, name: str, *, platform: PlatformSpec | None = None
    ) -> builtins.list[HistoryResponseItem]:
        """GET /images/{name}/history: the layers an image was built from, newest first.

        Args:
            name: the image's name or id.
            platform: the variant of a multi-platform image (API 1.48+); an error for an image
                that does not provide it.
        """
        req = ops.ImageHistory(name, platform=None if platform is None else platform_json(platform))
        return await self._t.call(req, builtins.list[HistoryResponseItem])

    async def tag(self, name: str, *, repo: str, tag: str | None = None) -> None:
        """POST /images/{name}/tag: give an image another name.

        Args:
            name: the image's name or id.
            repo: the repository of the new name, such as "registry:5000/team/app".
            tag: the new name's tag; "latest" when left out.
        """
        await self._t.call(ops.ImageTag(name, repo=repo, tag=tag))

    async def delete(
        self,
        name: str,
        *,
        force: bool = False,
        noprune: bool = False,
        platforms: Sequence[PlatformSpec] | None = None,
    ) -> builtins.list[ImageDeleteResponseItem]:
        """DELETE /images/{name}: untag and remove; returns what was untagged and deleted.

        Args:
            name: the image's name or id.
            force: remove it even if containers use it, or it has several tags.
            noprune: keep its untagged parent images.
            platforms: remove only these variants of a multi-platform image (API 1.50+).
        """
        req = ops.ImageDelete(
            name, platforms=platform_list("platforms", platforms), force=force, noprune=noprune
        )
        return await self._t.call(req, builtins.list[ImageDeleteResponseItem])

    async def prune(self, *, filters: Filters | None = None) -> ImagePruneResponse:
        """POST /images/prune: remove unused images (dangling only, unless filtered otherwise).

        Args:
            filters: keys `dangling` (false: every unused image), `until` and `label` (or
                `label!`).
        """
        req = ops.ImagePrune(filters=filters)
        return await self._t.call(req, ImagePruneResponse, timeout=None)

    def create(
        self,
        *,
        from_image: str | None = None,
        from_src: str | None = None,
        repo: str | None = None,
        tag: str | None = None,
        message: str | None = None,
        changes: str | Sequence[str] | None = None,
        platform: str | None = None,
        input_image: BuildContext | None = None,
        auth: AuthInput | None = None,
    ) -> AsyncGenerator[CreateImageInfo, None]:
        """POST /images/create: pull `from_image`, or import `from_src`; yields progress.

        A pull that fails midway raises DockerStreamError.

        Args:
            from_image: the image to pull, "name[:tag]" or "name@digest".
            from_src: a URL to import a tar from, or "-" to send `input_image`.
            repo: the repository (and tag) to name an imported image; for imports only.
            tag: the tag or digest to pull, or the tag to give an imported image.
            message: the commit message of an imported image.
            changes: Dockerfile instructions to apply to an imported image.
            platform: the variant to pull, "os[/arch[/variant]]".
            input_image: the tar to import: bytes, a path, a file object or an async iterable.
            auth: credentials for the pull; the Docker config's by default (`{}` sends none).
        """
        if from_image is not None and (from_src is not None or input_image is not None):
            raise ValueError("give from_image= (pull) or from_src=/input_image= (import), not both")
        if input_image is not None:
            if from_src not in (None, "-"):
                raise ValueError('input_image= is read only with from_src="-" (or no from_src)')
            from_src = "-"
        elif from_src == "-":
            raise ValueError('from_src="-" imports the request body: give input_image=')
        if from_image is None and from_src is None:
            raise ValueError("give from_image= to pull or from_src=/input_image= to import")
        credentials = None if auth is None else as_auth_config(auth)
        req = ops.ImageCreate(
            from_image=from_image,
            from_src=from_src,
            repo=repo,
            tag=tag,
            message=message,
            platform=platform,
            changes=string_list("changes", changes) or None,
        )
        data = None if input_image is None else open_context(input_image)
        return with_headers(
            lambda: registry_auth_header(from_image, credentials) if from_src is None else _tar(),
            lambda headers: self._t.stream_json(
                req, CreateImageInfo, in_band_errors=True, data=data, headers=headers
            ),
        )

    def pull(
        self,
        ref: str,
        *,
        all_tags: bool = False,
        platform: str | None = None,
        auth: AuthInput | None = None,
    ) -> AsyncGenerator[CreateImageInfo, None]:
        """POST /images/create?fromImage=ref: pull one image; yields progress.

        Args:
            ref: the image; ":latest" unless it names a tag or digest.
            all_tags: pull every tag of the repository.
            platform: the variant to pull, "os[/arch[/variant]]".
            auth: credentials for the pull; the Docker config's by default (`{}` sends none).
        """
        if not isinstance(ref, str) or not ref:
            raise ValueError(f"pull needs an image reference, got {ref!r}")
        tagged = has_tag_or_digest(ref)
        if all_tags and tagged:
            raise ValueError(f"all_tags=True pulls a whole repository; {ref!r} names one image")
        tag = None if tagged or all_tags else "latest"
        return self.create(from_image=ref, tag=tag, platform=platform, auth=auth)

    def push(
        self,
        name: str,
        *,
        tag: str | None = None,
        platform: PlatformSpec | None = None,
        auth: AuthInput | None = None,
    ) -> AsyncGenerator[PushImageInfo, None]:
        """POST /images/{name}/push: push to the registry the name points at; yields progress.

        The last message's `aux` holds the pushed tag, digest and size; a failed push raises
        DockerStreamError.

        Args:
            name: the image's name, without its tag.
            tag: the tag to push; every tag of the repository when left out.
            platform: push only this variant of a multi-platform image (API 1.46+).
            auth: credentials for the registry; the Docker config's by default.
        """
        credentials = None if auth is None else as_auth_config(auth)
        req = ops.ImagePush(
            name, tag=tag, platform=None if platform is None else platform_json(platform)
        )
        return with_headers(
            lambda: registry_auth_header(name, credentials, required=True),
            lambda headers: self._t.stream_json(
                req, PushImageInfo, in_band_errors=True, headers=headers
            ),
        )

    async def search(
        self, term: str, *, limit: int | None = None, filters: Filters | None = None
    ) -> builtins.list[ImageSearchResponseItem]:
        """GET /images/search: search a registry's v1 search API (Docker Hub's by default).

        Args:
            term: what to search for, optionally after a registry's address.
            limit: the most results to return.
            filters: keys `is-official` and `stars` (at least that many).
        """
        req = ops.ImageSearch(term=term, limit=limit, filters=filters)
        return await self._t.call(req, builtins.list[ImageSearchResponseItem])

    async def commit(
        self,
        config: ContainerConfig | Mapping[str, Any] | None = None,
        *,
        container: str,
        repo: str | None = None,
        tag: str | None = None,
        comment: str | None = None,
        author: str | None = None,
        pause: bool = True,
        changes: str | Sequence[str] | None = None,
    ) -> IdResponse:
        """POST /commit: a new image from a container's changes.

        Args:
            config: a ContainerConfig (or mapping) for the new image.
            container: the container's id or name.
            repo: the new image's repository.
            tag: the new image's tag.
            comment: a commit message.
            author: the image's author.
            pause: pause the container while committing.
            changes: Dockerfile instructions to apply to the image.
        """
        if not isinstance(container, str) or not container:
            raise ValueError(f"commit needs the container's id or name, got {container!r}")
        req = ops.ImageCommit(
            changes=string_list("changes", changes) or None,
            container=container,
            repo=repo,
            tag=tag,
            comment=comment,
            author=author,
            pause=pause,
        )
        body = {} if config is None else config
        return await self._t.call(req, IdResponse, body=body, timeout=None)

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
        try:
            found = await self.inspect(ref)
        except NotFound:
            pass
        else:
            if platform is None or _same_platform(found, platform):
                return found
        async for _ in self.pull(ref, platform=platform, auth=auth):
            pass
        return await self.inspect(ref)


async def _tar() -> dict[str, str]:
    return dict(TAR_HEADERS)


def _same_platform(image: Image, platform: str) -> bool:
    wanted = platform.split("/")[:2]  # variants are too loosely reported to compare
    return [image.os, image.architecture][: len(wanted)] == wanted
