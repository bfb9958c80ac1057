"""docker.images: list, build, pull, push, import, export, commit, tag and remove images."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from . import operations as ops
from . import recipes
from .auth import (
    AuthInput,
    as_auth_config,
    encode_registry_config,
    registry_auth_header,
    with_headers,
)
from .build_context import BuildContext, open_context
from .codec import encode
from .models import (
    BuildInfo,
    BuildPruneResponse,
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
from .operation import Request
from .params import Filters, encode_param
from .resource import Resource

__all__ = ["Images", "OCIPlatform"]

_TAR = {"Content-Type": "application/x-tar"}

OCIPlatform = str | Mapping[str, str]
"""An OCI platform for the parameters that take one as JSON (API 1.46 and later): a mapping
({"os": "linux", "architecture": "arm", "variant": "v7"}), its JSON text, or the short form
"os[/architecture[/variant]]"."""


def _strings(name: str, values: str | Sequence[str] | None) -> list[str]:
    """A parameter the daemon reads as a list (t, changes, names), as a list of strings."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{name} must be strings, got {bad[0]!r}")
    return items


def _platform(value: OCIPlatform) -> str:
    """An OCIPlatform as the JSON text the daemon reads."""
    if isinstance(value, Mapping):
        return encode(dict(value)).decode()
    if not isinstance(value, str) or not value:
        raise TypeError(f"a platform is a mapping or a non-empty string, not {value!r}")
    if value.lstrip().startswith("{"):
        return value
    parts = value.split("/")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"a platform is 'os[/architecture[/variant]]' or JSON, not {value!r}")
    keys = ("os", "architecture", "variant")
    return encode(dict(zip(keys, parts, strict=False))).decode()


def _platforms(
    name: str, value: OCIPlatform | Sequence[OCIPlatform] | None
) -> builtins.list[str] | None:
    if value is None:
        return None
    if isinstance(value, str | Mapping):
        return [_platform(value)]
    items = [_platform(v) for v in value]
    if not items:
        raise ValueError(f"{name} must name at least one platform")
    return items


def _append(req: Request, wire: str, values: Sequence[str]) -> Request:
    """`req` with the query parameter `wire` added once per value."""
    if not values:
        return req
    params = builtins.list(req.params or ())
    for value in values:
        encode_param(params, wire, value)
    return req._replace(params=params)


def _has_tag_or_digest(ref: str) -> bool:
    return "@" in ref or ":" in ref.rpartition("/")[2]


class Images(Resource):
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

    def build(
        self,
        context: BuildContext | None = None,
        *,
        dockerfile: str | None = None,
        t: str | Sequence[str] | None = None,
        extrahosts: str | None = None,
        remote: str | None = None,
        q: bool = False,
        nocache: bool = False,
        cachefrom: Sequence[str] | None = None,
        pull: bool | str | None = None,
        rm: bool = True,
        forcerm: bool = False,
        memory: int | None = None,
        memswap: int | None = None,
        cpushares: int | None = None,
        cpusetcpus: str | None = None,
        cpuperiod: int | None = None,
        cpuquota: int | None = None,
        buildargs: Mapping[str, str] | None = None,
        shmsize: int | None = None,
        squash: bool | None = None,
        labels: Mapping[str, str] | None = None,
        networkmode: str | None = None,
        platform: str | None = None,
        target: str | None = None,
        outputs: str | None = None,
        version: Literal["1", "2"] | None = None,
        auth_configs: Mapping[str, AuthInput] | None = None,
    ) -> AsyncGenerator[BuildInfo, None]:
        """POST /build: stream the context, yield the build's messages.

        A failed step raises DockerStreamError. Leaving the loop early closes the connection,
        which makes the daemon cancel the build. With BuildKit (`version="2"`), progress comes
        as trace messages (`aux` a string) that aiodockerapi.buildkit decodes and folds into
        per-step state (`buildkit.run_build` gives the image id); what needs BuildKit's session
        (secrets, ssh forwarding) is not supported (docs/buildkit.md).

        Args:
            context: bytes, a tar file's path, a directory (tarred on the fly, honouring
                .dockerignore), a binary file object or an async iterable of bytes.
            dockerfile: the Dockerfile's path in the context; "Dockerfile" by default.
            t: name(s) to tag the image with, "name:tag".
            extrahosts: extra /etc/hosts entries for the build's containers.
            remote: a Git URL, or a URL of a tar or Dockerfile, to build from instead of `context`.
            q: leave out the verbose build output.
            nocache: use no cached layers.
            cachefrom: images to take cache layers from.
            pull: pull the base images even when older copies are present.
            rm: remove intermediate containers after a successful build.
            forcerm: remove intermediate containers, even after a failure.
            memory: memory limit for the build's containers, in bytes.
            memswap: memory plus swap limit, in bytes (-1: unlimited swap).
            cpushares: relative CPU weight.
            cpusetcpus: CPUs to run on, such as "0-3" or "0,1".
            cpuperiod: the CPU CFS period, in microseconds.
            cpuquota: the CPU CFS quota, in microseconds per period.
            buildargs: values for the Dockerfile's ARG instructions.
            shmsize: size of /dev/shm, in bytes.
            squash: squash the new layers into one (experimental daemons only).
            labels: labels to set on the image.
            networkmode: network mode for RUN instructions ("bridge", "host", "none", a network).
            platform: the platform to build for, "os[/arch[/variant]]".
            target: the build stage to stop at, in a multi-stage Dockerfile.
            outputs: BuildKit's output configuration, as JSON text.
            version: the builder: "1" the classic one, "2" BuildKit.
            auth_configs: registry -> credentials for the images the build pulls, sent as
                X-Registry-Config.
        """
        if version not in (None, "1", "2"):
            raise ValueError(f'version must be "1" (classic) or "2" (BuildKit), not {version!r}')
        if (context is None) == (remote is None):
            raise ValueError("give exactly one of a build context or remote=")
        req = ops.ImageBuild(
            t=_strings("t", t) or None,
            dockerfile=dockerfile,
            extrahosts=extrahosts,
            remote=remote,
            q=q,
            nocache=nocache,
            cachefrom=builtins.list(cachefrom) if cachefrom is not None else None,
            pull=pull,
            rm=rm,
            forcerm=forcerm,
            memory=memory,
            memswap=memswap,
            cpushares=cpushares,
            cpusetcpus=cpusetcpus,
            cpuperiod=cpuperiod,
            cpuquota=cpuquota,
            buildargs=buildargs,
            shmsize=shmsize,
            squash=squash,
            labels=labels,
            networkmode=networkmode,
            platform=platform,
            target=target,
            outputs=outputs,
            version=version,
        )
        headers = dict(_TAR)
        if auth_configs is not None:
            headers["X-Registry-Config"] = encode_registry_config(auth_configs)
        data = None if context is None else open_context(context, dockerfile=dockerfile)
        return self._t.stream_json(req, BuildInfo, in_band_errors=True, data=data, headers=headers)

    async def inspect(
        self,
        name: str,
        *,
        manifests: bool | None = None,
        platform: OCIPlatform | None = None,
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
            platform=None if platform is None else _platform(platform),
        )
        return await self._t.call(req, Image)

    async def attestations(
        self,
        name: str,
        *,
        platform: OCIPlatform | None = None,
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
            platform=None if platform is None else [_platform(platform)],
            type=_strings("type", type) or None,
            statement=statement,
        )
        return await self._t.call(req, builtins.list[dict[str, Any]])

    async def history(
        self, name: str, *, platform: OCIPlatform | None = None
    ) -> builtins.list[HistoryResponseItem]:
        """GET /images/{name}/history: the layers an image was built from, newest first.

        Args:
            name: the image's name or id.
            platform: the variant of a multi-platform image (API 1.48+); an error for an image
                that does not provide it.
        """
        req = ops.ImageHistory(name, platform=None if platform is None else _platform(platform))
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
        platforms: Sequence[OCIPlatform] | None = None,
    ) -> builtins.list[ImageDeleteResponseItem]:
        """DELETE /images/{name}: untag and remove; returns what was untagged and deleted.

        Args:
            name: the image's name or id.
            force: remove it even if containers use it, or it has several tags.
            noprune: keep its untagged parent images.
            platforms: remove only these variants of a multi-platform image (API 1.50+).
        """
        req = ops.ImageDelete(
            name, platforms=_platforms("platforms", platforms), force=force, noprune=noprune
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

    async def build_prune(
        self,
        *,
        keep_storage: int | None = None,
        all: bool = False,
        filters: Filters | None = None,
        reserved_space: int | None = None,
        max_used_space: int | None = None,
        min_free_space: int | None = None,
    ) -> BuildPruneResponse:
        """POST /build/prune: remove build cache.

        Args:
            keep_storage: cache to keep, in bytes, on any version (sent as reserved-space from
                API 1.48 on, which replaced it).
            all: remove all unused cache, not only dangling entries.
            filters: keys `until`, `id`, `parent`, `type`, `description`, `inuse`, `shared`,
                `private`.
            reserved_space: cache to keep, in bytes (API 1.48+).
            max_used_space: the most the cache may take, in bytes (API 1.48+).
            min_free_space: disk space to leave free, in bytes (API 1.48+).
        """
        if keep_storage is not None:
            if reserved_space is not None:
                raise ValueError("give keep_storage or reserved_space, not both")
            version = await self._t.negotiated_version()
            if tuple(int(n) for n in version.split(".")) >= (1, 48):
                reserved_space, keep_storage = keep_storage, None
        req = ops.BuildPrune(
            all=all,
            filters=filters,
            reserved_space=reserved_space,
            max_used_space=max_used_space,
            min_free_space=min_free_space,
        )
        if keep_storage is not None:
            # Below 1.48 (the newest table has no keep-storage: API 1.52 dropped it).
            req = _append(req, "keep-storage", [str(keep_storage)])
        return await self._t.call(req, BuildPruneResponse, timeout=None)

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
            changes=_strings("changes", changes) or None,
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
        tagged = _has_tag_or_digest(ref)
        if all_tags and tagged:
            raise ValueError(f"all_tags=True pulls a whole repository; {ref!r} names one image")
        tag = None if tagged or all_tags else "latest"
        return self.create(from_image=ref, tag=tag, platform=platform, auth=auth)

    def push(
        self,
        name: str,
        *,
        tag: str | None = None,
        platform: OCIPlatform | None = None,
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
            name, tag=tag, platform=None if platform is None else _platform(platform)
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

    def get(
        self, name: str, *, platform: OCIPlatform | Sequence[OCIPlatform] | None = None
    ) -> AsyncGenerator[bytes, None]:
        """GET /images/{name}/get: export one image (and its parents) as a tar, in chunks.

        Args:
            name: the image's name or id.
            platform: export only these variants of a multi-platform image (API 1.48+).
        """
        req = ops.ImageGet(name, platform=_platforms("platform", platform))
        return self._t.stream_bytes(req)

    def get_all(
        self,
        names: str | Sequence[str],
        *,
        platform: OCIPlatform | Sequence[OCIPlatform] | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """GET /images/get: export several images as one tar, in chunks.

        Args:
            names: the images' names or ids.
            platform: export only these variants of multi-platform images (API 1.48+).
        """
        listed = _strings("names", names)
        if not listed:
            raise ValueError("get_all needs at least one image name")
        req = ops.ImageGetAll(names=listed, platform=_platforms("platform", platform))
        return self._t.stream_bytes(req)

    def load(
        self,
        source: BuildContext,
        *,
        quiet: bool = False,
        platform: OCIPlatform | Sequence[OCIPlatform] | None = None,
    ) -> AsyncGenerator[BuildInfo, None]:
        """POST /images/load: load images from a tar made by get/get_all; yields the
        daemon's messages ("Loaded image: ..." in `stream`). A bad tar raises DockerStreamError.

        Args:
            source: the tar: bytes, a path, a binary file object or an async iterable of bytes.
            quiet: report no progress while loading.
            platform: load only these variants of multi-platform images (API 1.48+).
        """
        req = ops.ImageLoad(platform=_platforms("platform", platform), quiet=quiet)
        data = open_context(source)
        return self._t.stream_json(
            req, BuildInfo, in_band_errors=True, data=data, headers=_TAR, timeout=None
        )

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
            changes=_strings("changes", changes) or None,
            container=container,
            repo=repo,
            tag=tag,
            comment=comment,
            author=author,
            pause=pause,
        )
        body = {} if config is None else config
        return await self._t.call(req, IdResponse, body=body, timeout=None)

    # Recipes: several operations in one call (aiodockerapi/recipes.py).

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
        return await recipes.ensure_image(self, ref, auth=auth, platform=platform)


async def _tar() -> dict[str, str]:
    return dict(_TAR)
