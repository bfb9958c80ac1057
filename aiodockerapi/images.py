"""docker.images: list, build, pull, push, import, export, commit, tag and remove images."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from .auth import (
    AuthInput,
    as_auth_config,
    encode_registry_config,
    registry_auth_header,
    with_headers,
)
from .context import BuildContext, open_context
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
from .params import Filters, query
from .transport import Resource, q

__all__ = ["Images"]

_TAR = {"Content-Type": "application/x-tar"}


def _repeated(name: str, values: str | Sequence[str] | None) -> list[tuple[str, str]]:
    """A query parameter the daemon reads as a list (changes, names, t)."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{name} must be strings, got {bad[0]!r}")
    return [(name, v) for v in items]


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
    ) -> builtins.list[ImageSummary]:
        """GET /images/json."""
        params = query(all=all, filters=filters, digests=digests)
        return await self._t.call("GET", "/images/json", builtins.list[ImageSummary], params=params)

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
        auth_configs: Mapping[str, AuthInput] | None = None,
    ) -> AsyncGenerator[BuildInfo, None]:
        """POST /build: stream the context, yield the build's messages.

        `context` is bytes, a tar file's path, a directory (tarred on the fly, honouring
        .dockerignore), a binary file object or an async iterable of bytes; leave it out
        with `remote=`. A failed step raises DockerStreamError. Leaving the loop early
        closes the connection, which makes the daemon cancel the build. `auth_configs`
        (registry -> credentials) are sent as X-Registry-Config for the images it pulls.
        """
        if (context is None) == (remote is None):
            raise ValueError("give exactly one of a build context or remote=")
        params = [
            *query(
                dockerfile=dockerfile,
                extrahosts=extrahosts,
                remote=remote,
                q=q,
                nocache=nocache,
                cachefrom=list(cachefrom) if cachefrom is not None else None,
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
            ).items(),
            *(("t", tag) for tag in ([t] if isinstance(t, str) else t or ())),
        ]
        headers = dict(_TAR)
        if auth_configs is not None:
            headers["X-Registry-Config"] = encode_registry_config(auth_configs)
        data = None if context is None else open_context(context, dockerfile=dockerfile)
        return self._t.stream_json(
            "POST",
            "/build",
            BuildInfo,
            in_band_errors=True,
            params=params,
            data=data,
            headers=headers,
        )

    async def inspect(self, name: str) -> Image:
        """GET /images/{name}/json."""
        return await self._t.call("GET", f"/images/{q(name)}/json", Image)

    async def history(self, name: str) -> builtins.list[HistoryResponseItem]:
        """GET /images/{name}/history."""
        return await self._t.call(
            "GET", f"/images/{q(name)}/history", builtins.list[HistoryResponseItem]
        )

    async def tag(self, name: str, *, repo: str, tag: str | None = None) -> None:
        """POST /images/{name}/tag."""
        await self._t.call("POST", f"/images/{q(name)}/tag", params=query(repo=repo, tag=tag))

    async def delete(
        self, name: str, *, force: bool = False, noprune: bool = False
    ) -> builtins.list[ImageDeleteResponseItem]:
        """DELETE /images/{name}: untag and remove; returns what was untagged and deleted."""
        return await self._t.call(
            "DELETE",
            f"/images/{q(name)}",
            builtins.list[ImageDeleteResponseItem],
            params=query(force=force, noprune=noprune),
        )

    async def prune(self, *, filters: Filters | None = None) -> ImagePruneResponse:
        """POST /images/prune: remove unused images (dangling only, unless filtered otherwise)."""
        return await self._t.call(
            "POST", "/images/prune", ImagePruneResponse, params=query(filters=filters), timeout=None
        )

    async def build_prune(
        self,
        *,
        keep_storage: int | None = None,
        all: bool = False,
        filters: Filters | None = None,
    ) -> BuildPruneResponse:
        """POST /build/prune: remove build cache."""
        params = query(**{"keep-storage": keep_storage}, all=all, filters=filters)
        return await self._t.call(
            "POST", "/build/prune", BuildPruneResponse, params=params, timeout=None
        )

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

        A pull sends `auth` or else the Docker config's credentials for the image's registry
        (`auth={}` sends none). An import reads a URL, or `input_image` (tar bytes, a path, a
        file object or an async iterable; `from_src` is then "-"). A pull that fails midway
        raises DockerStreamError.
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
        params = [
            *query(
                fromImage=from_image,
                fromSrc=from_src,
                repo=repo,
                tag=tag,
                message=message,
                platform=platform,
            ).items(),
            *_repeated("changes", changes),
        ]
        data = None if input_image is None else open_context(input_image)
        return with_headers(
            lambda: registry_auth_header(from_image, credentials) if from_src is None else _tar(),
            lambda headers: self._t.stream_json(
                "POST",
                "/images/create",
                CreateImageInfo,
                in_band_errors=True,
                params=params,
                data=data,
                headers=headers,
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
        """POST /images/create?fromImage=ref: pull one image (":latest" unless `ref` names a
        tag or digest; every tag of the repository with `all_tags`)."""
        if not isinstance(ref, str) or not ref:
            raise ValueError(f"pull needs an image reference, got {ref!r}")
        tagged = _has_tag_or_digest(ref)
        if all_tags and tagged:
            raise ValueError(f"all_tags=True pulls a whole repository; {ref!r} names one image")
        tag = None if tagged or all_tags else "latest"
        return self.create(from_image=ref, tag=tag, platform=platform, auth=auth)

    def push(
        self, name: str, *, tag: str | None = None, auth: AuthInput | None = None
    ) -> AsyncGenerator[PushImageInfo, None]:
        """POST /images/{name}/push: push to the registry the name points at; yields progress.

        Sends `auth` or else the Docker config's credentials for that registry. The last
        message's `aux` holds the pushed tag, digest and size; a failed push raises
        DockerStreamError.
        """
        credentials = None if auth is None else as_auth_config(auth)
        return with_headers(
            lambda: registry_auth_header(name, credentials, required=True),
            lambda headers: self._t.stream_json(
                "POST",
                f"/images/{q(name)}/push",
                PushImageInfo,
                in_band_errors=True,
                params=query(tag=tag),
                headers=headers,
            ),
        )

    async def search(
        self, term: str, *, limit: int | None = None, filters: Filters | None = None
    ) -> builtins.list[ImageSearchResponseItem]:
        """GET /images/search: search a registry's v1 search API (Docker Hub's by default)."""
        params = query(term=term, limit=limit, filters=filters)
        return await self._t.call(
            "GET", "/images/search", builtins.list[ImageSearchResponseItem], params=params
        )

    def get(self, name: str) -> AsyncGenerator[bytes, None]:
        """GET /images/{name}/get: export one image (and its parents) as a tar, in chunks."""
        return self._t.stream_bytes("GET", f"/images/{q(name)}/get")

    def get_all(self, names: str | Sequence[str]) -> AsyncGenerator[bytes, None]:
        """GET /images/get: export several images as one tar, in chunks."""
        params = _repeated("names", names)
        if not params:
            raise ValueError("get_all needs at least one image name")
        return self._t.stream_bytes("GET", "/images/get", params=params)

    def load(self, source: BuildContext, *, quiet: bool = False) -> AsyncGenerator[BuildInfo, None]:
        """POST /images/load: load images from a tar made by get/get_all (bytes, a path, a
        binary file object or an async iterable); yields the daemon's messages ("Loaded
        image: ..." in `stream`). A bad tar raises DockerStreamError."""
        data = open_context(source)
        return self._t.stream_json(
            "POST",
            "/images/load",
            BuildInfo,
            in_band_errors=True,
            params=query(quiet=quiet),
            data=data,
            headers=_TAR,
            timeout=None,
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
        """POST /commit: a new image from a container's changes; `config` is a ContainerConfig
        (or mapping) for the image, `changes` Dockerfile instructions."""
        if not isinstance(container, str) or not container:
            raise ValueError(f"commit needs the container's id or name, got {container!r}")
        params = [
            *query(
                container=container,
                repo=repo,
                tag=tag,
                comment=comment,
                author=author,
                pause=pause,
            ).items(),
            *_repeated("changes", changes),
        ]
        return await self._t.call(
            "POST",
            "/commit",
            IdResponse,
            params=params,
            body={} if config is None else config,
            timeout=None,
        )


async def _tar() -> dict[str, str]:
    return dict(_TAR)
