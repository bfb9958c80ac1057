"""docker.containers: the container operations."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from .models import (
    ContainerChangeResponseItem,
    ContainerCreateBody,
    ContainerCreateResponse,
    ContainerInspectResponse,
    ContainerPruneResponse,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateBody,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    Frame,
)
from .params import Filters, Since, query
from .transport import Resource, q

__all__ = ["Containers"]

WaitCondition = Literal["not-running", "next-exit", "removed"]


class Containers(Resource):
    """Create, run, inspect and remove containers."""

    async def list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        size: bool = False,
        filters: Filters | None = None,
    ) -> builtins.list[ContainerSummary]:
        """GET /containers/json."""
        params = query(all=all, limit=limit, size=size, filters=filters)
        return await self._t.call(
            "GET", "/containers/json", builtins.list[ContainerSummary], params=params
        )

    async def create(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        *,
        name: str | None = None,
        platform: str | None = None,
    ) -> ContainerCreateResponse:
        """POST /containers/create, from a ContainerCreateBody or a mapping in the API's names."""
        params = query(name=name, platform=platform)
        return await self._t.call(
            "POST", "/containers/create", ContainerCreateResponse, params=params, body=config
        )

    async def inspect(self, id: str, *, size: bool = False) -> ContainerInspectResponse:
        """GET /containers/{id}/json."""
        return await self._t.call(
            "GET", f"/containers/{q(id)}/json", ContainerInspectResponse, params=query(size=size)
        )

    async def start(self, id: str, *, detach_keys: str | None = None) -> None:
        """POST /containers/{id}/start; starting a running container is not an error."""
        await self._t.call(
            "POST", f"/containers/{q(id)}/start", params=query(detachKeys=detach_keys)
        )

    async def stop(self, id: str, *, t: int | None = None) -> None:
        """POST /containers/{id}/stop, killing after `t` seconds; a stopped one is no error."""
        await self._t.call("POST", f"/containers/{q(id)}/stop", params=query(t=t), timeout=None)

    async def restart(self, id: str, *, t: int | None = None) -> None:
        """POST /containers/{id}/restart."""
        await self._t.call("POST", f"/containers/{q(id)}/restart", params=query(t=t), timeout=None)

    async def kill(self, id: str, *, signal: str | int | None = None) -> None:
        """POST /containers/{id}/kill."""
        await self._t.call("POST", f"/containers/{q(id)}/kill", params=query(signal=signal))

    async def wait(
        self, id: str, *, condition: WaitCondition | None = None
    ) -> ContainerWaitResponse:
        """POST /containers/{id}/wait: block until the container stops; no timeout by default."""
        return await self._t.call(
            "POST",
            f"/containers/{q(id)}/wait",
            ContainerWaitResponse,
            params=query(condition=condition),
            timeout=None,
        )

    async def delete(
        self, id: str, *, v: bool = False, force: bool = False, link: bool = False
    ) -> None:
        """DELETE /containers/{id}."""
        await self._t.call(
            "DELETE", f"/containers/{q(id)}", params=query(v=v, force=force, link=link)
        )

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """POST /containers/prune: remove stopped containers."""
        return await self._t.call(
            "POST",
            "/containers/prune",
            ContainerPruneResponse,
            params=query(filters=filters),
            timeout=None,
        )

    def logs(
        self,
        id: str,
        *,
        stdout: bool = False,
        stderr: bool = False,
        follow: bool = False,
        since: Since | None = None,
        until: Since | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
    ) -> AsyncIterator[Frame]:
        """GET /containers/{id}/logs as frames; frame.stream tells stdout from stderr."""
        params = query(
            stdout=stdout,
            stderr=stderr,
            follow=follow,
            since=since,
            until=until,
            timestamps=timestamps,
            tail=tail,
        )
        return self._t.stream_frames("GET", f"/containers/{q(id)}/logs", params=params)

    async def pause(self, id: str) -> None:
        """POST /containers/{id}/pause."""
        await self._t.call("POST", f"/containers/{q(id)}/pause")

    async def unpause(self, id: str) -> None:
        """POST /containers/{id}/unpause."""
        await self._t.call("POST", f"/containers/{q(id)}/unpause")

    async def rename(self, id: str, *, name: str) -> None:
        """POST /containers/{id}/rename."""
        await self._t.call("POST", f"/containers/{q(id)}/rename", params=query(name=name))

    async def top(self, id: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """GET /containers/{id}/top."""
        return await self._t.call(
            "GET", f"/containers/{q(id)}/top", ContainerTopResponse, params=query(ps_args=ps_args)
        )

    async def changes(self, id: str) -> builtins.list[ContainerChangeResponseItem]:
        """GET /containers/{id}/changes."""
        return await self._t.call(
            "GET", f"/containers/{q(id)}/changes", builtins.list[ContainerChangeResponseItem]
        )

    async def update(
        self, id: str, update: ContainerUpdateBody | Mapping[str, Any]
    ) -> ContainerUpdateResponse:
        """POST /containers/{id}/update: change resources or the restart policy."""
        return await self._t.call(
            "POST", f"/containers/{q(id)}/update", ContainerUpdateResponse, body=update
        )
