"""docker.images: list, build, inspect, tag and remove images."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence

from .context import BuildContext, open_context
from .models import (
    BuildInfo,
    HistoryResponseItem,
    Image,
    ImageDeleteResponseItem,
    ImagePruneResponse,
    ImageSummary,
)
from .params import Filters, query
from .transport import Resource, q

__all__ = ["Images"]


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
    ) -> AsyncIterator[BuildInfo]:
        """POST /build: stream the context, yield the build's messages.

        `context` is bytes, a tar file's path, a directory (tarred on the fly, honouring
        .dockerignore), a binary file object or an async iterable of bytes; leave it out
        with `remote=`. A failed step raises DockerStreamError. Leaving the loop early
        closes the connection, which makes the daemon cancel the build.
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
        data = None if context is None else open_context(context, dockerfile=dockerfile)
        return self._t.stream_json(
            "POST",
            "/build",
            BuildInfo,
            in_band_errors=True,
            params=params,
            data=data,
            headers={"Content-Type": "application/x-tar"},
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
