"""docker.images.build and build_prune: the builder's rows of the Image API (POST /build,
POST /build/prune), mixed into Images."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from .. import operations as ops
from ..auth import AuthInput, encode_registry_config
from ..bodies.build_context import TAR_HEADERS, BuildContext, open_context
from ..models import BuildInfo, BuildPruneResponse
from ..params import Filters, string_list
from .base import Resource

__all__ = ["ImageBuilds"]


class ImageBuilds(Resource):
    """Builds of images, and their cache (part of Images)."""

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
        secrets: Mapping[str, bytes | str | os.PathLike[str]] | None = None,
        ssh: Mapping[str, str | os.PathLike[str] | None] | None = None,
        output: Mapping[str, Any] | None = None,
    ) -> AsyncGenerator[BuildInfo, None]:
        """POST /build: stream the context, yield the build's messages.

        A failed step raises DockerStreamError. Leaving the loop early closes the connection,
        which makes the daemon cancel the build. With BuildKit (`version="2"`), progress comes
        as trace messages (`aux` a string) that aiodockerapi.buildkit decodes and folds into
        per-step state (`buildkit.run_build` gives the image id). `secrets`, `ssh` and
        `output` need BuildKit and its session (the `buildkit` extra; docs/buildkit.md): the
        session opens before the build and closes when its stream ends.

        Args:
            context: bytes, a tar file's path, a directory (tarred on the fly, honouring
                .dockerignore; with version="2" and the buildkit extra, synced over the
                session instead), a binary file object or an async iterable of bytes.
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
                X-Registry-Config (and, with a session, answered to BuildKit's asks).
            secrets: secret id -> bytes, str or a file's path (read when the build asks),
                for `RUN --mount=type=secret,id=...`.
            ssh: ssh id ("default", ...) -> an agent's unix socket, or None for
                $SSH_AUTH_SOCK, for `RUN --mount=type=ssh[,id=...]`.
            output: where BuildKit exports the result: {"type": "local", "dest": a
                directory} or {"type": "tar", "dest": a file's path or a binary file}.
        """
        if version not in (None, "1", "2"):
            raise ValueError(f'version must be "1" (classic) or "2" (BuildKit), not {version!r}')
        if (context is None) == (remote is None):
            raise ValueError("give exactly one of a build context or remote=")
        session = None
        if secrets is not None or ssh is not None or output is not None:
            from ..buildkit.session.build import SessionOptions

            if version != "2":
                raise ValueError('secrets, ssh and output need BuildKit: pass version="2"')
            if output is not None and outputs is not None:
                raise ValueError("give output= or outputs=, not both")
            session = SessionOptions(
                secrets=secrets,
                ssh=ssh,
                output=output,
                auth_configs=auth_configs,
                dockerfile=dockerfile,
            )
            if output is not None:
                outputs = session.outputs
        req = ops.ImageBuild(
            t=string_list("t", t) or None,
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
            version=version,
        )
        headers = dict(TAR_HEADERS)
        if auth_configs is not None:
            headers["X-Registry-Config"] = encode_registry_config(auth_configs)
        data = None if context is None else open_context(context, dockerfile=dockerfile)
        needed = session is not None
        if version == "2" and isinstance(context, (str, os.PathLike)) and session is None:
            from ..buildkit.session import session_available

            if session_available():  # else a directory goes as a tar, as with version="1"
                from ..buildkit.session.build import SessionOptions

                session = SessionOptions(auth_configs=auth_configs, dockerfile=dockerfile)
        if session is not None:
            from ..buildkit.session.build import session_build

            return session_build(
                self._t,
                req,
                session,
                data=data,
                headers=headers,
                context=context,
                needed=needed,
            )
        return self._t.stream_json(req, BuildInfo, in_band_errors=True, data=data, headers=headers)

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
            req = req.with_param("keep-storage", [str(keep_storage)])
        return await self._t.call(req, BuildPruneResponse, timeout=None)
