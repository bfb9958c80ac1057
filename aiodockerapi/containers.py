"""docker.containers: the container operations."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, cast

from . import operations as ops
from . import recipes
from .build_context import BuildContext, open_context
from .download import Download
from .http.base import WebSocket
from .models import (
    ContainerChangeResponseItem,
    ContainerCreateBody,
    ContainerCreateResponse,
    ContainerInspectResponse,
    ContainerPruneResponse,
    ContainerStats,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateBody,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    Frame,
    PathStat,
)
from .params import Filters, Since, time_param
from .resource import Resource
from .streams import Attach

PATH_STAT = "X-Docker-Container-Path-Stat"

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
        req = ops.ContainerList(all=all, limit=limit, size=size, filters=filters)
        return await self._t.call(req, builtins.list[ContainerSummary])

    async def create(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        *,
        name: str | None = None,
        platform: str | None = None,
    ) -> ContainerCreateResponse:
        """POST /containers/create, from a ContainerCreateBody or a mapping in the API's names."""
        req = ops.ContainerCreate(name=name, platform=platform)
        return await self._t.call(req, ContainerCreateResponse, body=config)

    async def inspect(self, id: str, *, size: bool = False) -> ContainerInspectResponse:
        """GET /containers/{id}/json."""
        return await self._t.call(ops.ContainerInspect(id, size=size), ContainerInspectResponse)

    async def start(self, id: str, *, detach_keys: str | None = None) -> None:
        """POST /containers/{id}/start; starting a running container is not an error."""
        await self._t.call(ops.ContainerStart(id, detach_keys=detach_keys))

    async def stop(self, id: str, *, signal: str | int | None = None, t: int | None = None) -> None:
        """POST /containers/{id}/stop: send `signal` (API 1.42+; the container's stop signal
        by default), killing after `t` seconds; a stopped one is no error."""
        await self._t.call(ops.ContainerStop(id, signal=signal, t=t), timeout=None)

    async def restart(
        self, id: str, *, signal: str | int | None = None, t: int | None = None
    ) -> None:
        """POST /containers/{id}/restart (`signal` needs API 1.42)."""
        await self._t.call(ops.ContainerRestart(id, signal=signal, t=t), timeout=None)

    async def kill(self, id: str, *, signal: str | int | None = None) -> None:
        """POST /containers/{id}/kill."""
        await self._t.call(ops.ContainerKill(id, signal=signal))

    async def wait(
        self, id: str, *, condition: WaitCondition | None = None
    ) -> ContainerWaitResponse:
        """POST /containers/{id}/wait: block until the container stops; no timeout by default."""
        req = ops.ContainerWait(id, condition=condition)
        return await self._t.call(req, ContainerWaitResponse, timeout=None)

    async def delete(
        self, id: str, *, v: bool = False, force: bool = False, link: bool = False
    ) -> None:
        """DELETE /containers/{id}."""
        await self._t.call(ops.ContainerDelete(id, v=v, force=force, link=link))

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """POST /containers/prune: remove stopped containers."""
        req = ops.ContainerPrune(filters=filters)
        return await self._t.call(req, ContainerPruneResponse, timeout=None)

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
    ) -> AsyncGenerator[Frame, None]:
        """GET /containers/{id}/logs as frames; frame.stream tells stdout from stderr."""
        req = ops.ContainerLogs(
            id,
            stdout=stdout,
            stderr=stderr,
            follow=follow,
            since=time_param(since),
            until=time_param(until),
            timestamps=timestamps,
            tail=tail,
        )
        return self._t.stream_frames(req)

    async def pause(self, id: str) -> None:
        """POST /containers/{id}/pause."""
        await self._t.call(ops.ContainerPause(id))

    async def unpause(self, id: str) -> None:
        """POST /containers/{id}/unpause."""
        await self._t.call(ops.ContainerUnpause(id))

    async def rename(self, id: str, *, name: str) -> None:
        """POST /containers/{id}/rename."""
        await self._t.call(ops.ContainerRename(id, name=name))

    async def top(self, id: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """GET /containers/{id}/top."""
        return await self._t.call(ops.ContainerTop(id, ps_args=ps_args), ContainerTopResponse)

    async def changes(self, id: str) -> builtins.list[ContainerChangeResponseItem]:
        """GET /containers/{id}/changes."""
        changes = await self._t.call(
            ops.ContainerChanges(id),
            cast(Any, builtins.list[ContainerChangeResponseItem] | None),  # null: no change
        )
        return changes or []

    async def update(
        self, id: str, update: ContainerUpdateBody | Mapping[str, Any]
    ) -> ContainerUpdateResponse:
        """POST /containers/{id}/update: change resources or the restart policy."""
        return await self._t.call(ops.ContainerUpdate(id), ContainerUpdateResponse, body=update)

    async def resize(self, id: str, *, h: int, w: int) -> None:
        """POST /containers/{id}/resize: set the TTY size."""
        await self._t.call(ops.ContainerResize(id, h=h, w=w))

    def attach(
        self,
        id: str,
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = True,
        logs: bool = False,
        detach_keys: str | None = None,
        tty: bool | None = None,
    ) -> Attach:
        """POST /containers/{id}/attach over a hijacked connection: `async with` it for an
        AttachedStream to read output frames from and write stdin to. Pass `tty` if you know
        it; otherwise the stream is sniffed."""
        req = ops.ContainerAttach(
            id,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stream=stream,
            logs=logs,
            detach_keys=detach_keys,
        )
        return self._t.hijack(
            req,
            tty=tty,
            resize=lambda h, w: self.resize(id, h=h, w=w),
        )

    def attach_websocket(
        self,
        id: str,
        *,
        stdin: bool | None = None,
        stdout: bool | None = None,
        stderr: bool | None = None,
        stream: bool = True,
        logs: bool = False,
        detach_keys: str | None = None,
    ) -> AbstractAsyncContextManager[WebSocket]:
        """GET /containers/{id}/attach/ws: the container's stdio as a websocket (raw bytes
        in binary messages, no multiplexing). Choosing streams with `stdin`, `stdout` and
        `stderr` needs API 1.42; before it, all three are attached."""
        req = ops.ContainerAttachWebsocket(
            id,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stream=stream,
            logs=logs,
            detach_keys=detach_keys,
        )
        return self._t.websocket(req)

    def stats(
        self, id: str, *, stream: bool = True, one_shot: bool = False
    ) -> AsyncGenerator[ContainerStats, None]:
        """GET /containers/{id}/stats: samples about once a second (just one without
        `stream`; `one_shot` skips the second sample that fills precpu_stats)."""
        req = ops.ContainerStats(id, stream=stream, one_shot=True if one_shot else None)
        return self._t.stream_json(req, ContainerStats)

    def export(self, id: str) -> AsyncGenerator[bytes, None]:
        """GET /containers/{id}/export: the filesystem as a tar, in chunks."""
        return self._t.stream_bytes(ops.ContainerExport(id))

    async def archive_info(self, id: str, *, path: str) -> PathStat:
        """HEAD /containers/{id}/archive: what is at `path`."""
        req = ops.ContainerArchiveInfo(id, path=path)
        return await self._t.header_json(req, PathStat, PATH_STAT)

    def get_archive(self, id: str, *, path: str) -> Download[PathStat]:
        """GET /containers/{id}/archive: a tar of `path`, in chunks; `async with` it to read
        the path's PathStat as `.meta` first."""
        return self._t.download(ops.ContainerArchive(id, path=path), PathStat, PATH_STAT)

    async def put_archive(
        self,
        id: str,
        archive: BuildContext,
        *,
        path: str,
        no_overwrite_dir_non_dir: bool | None = None,
        copy_uidgid: bool | None = None,
    ) -> None:
        """PUT /containers/{id}/archive: extract a tar into the directory `path`. The tar is
        bytes, a tar file's path, a directory (tarred on the fly), a binary file object or an
        async iterable of bytes."""
        req = ops.PutContainerArchive(
            id,
            path=path,
            no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
            copy_uidgid=copy_uidgid,
        )
        await self._t.call(
            req,
            data=open_context(archive),
            headers={"Content-Type": "application/x-tar"},
            timeout=None,
        )

    # Recipes: several operations in one call (aiodockerapi/recipes.py).

    async def run(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        name: str | None = None,
        *,
        remove: bool = True,
        timeout: float | None = None,
    ) -> recipes.RunResult:
        """Create, start and wait for a container; return its exit code and its stdout and
        stderr (from its logs) as a RunResult; remove it unless `remove` is false.

        An error, a timeout or a cancellation kills the container (and removes it unless
        `remove` is false). `timeout` (seconds) bounds the whole run and raises
        DockerTimeoutError, a TimeoutError. A non-zero exit code is no error.
        """
        return await recipes.run(self, config, name, remove=remove, timeout=timeout)

    def running(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        name: str | None = None,
        *,
        stop_timeout: int | None = None,
    ) -> AbstractAsyncContextManager[str]:
        """`async with` it: a container created and started for the block, which gets its
        id; stopped (SIGKILL after `stop_timeout` seconds, the container's StopTimeout by
        default) and removed on leaving it, on an error too. A cancellation kills it at once."""
        return recipes.running(self, config, name, stop_timeout=stop_timeout)

    async def wait_for_log(
        self,
        id: str,
        pattern: recipes.LogPattern[recipes.Line],
        *,
        timeout: float,
        stdout: bool = True,
        stderr: bool = True,
    ) -> recipes.Line:
        """Follow the container's logs from the start until a line matches `pattern` (a
        substring, or a compiled regex searched in each line); return the line, without its
        line break, as text or bytes like the pattern.

        Past `timeout` seconds, DockerTimeoutError (a TimeoutError); logs that end with no
        match (the container stopped), DockerError. The log stream is closed in every case.
        """
        return await recipes.wait_for_log(
            self, id, pattern, timeout=timeout, stdout=stdout, stderr=stderr
        )

    async def wait_healthy(
        self,
        id: str,
        *,
        timeout: float,
        interval: float = 0.5,
    ) -> ContainerInspectResponse:
        """Inspect the container every `interval` seconds until its healthcheck says
        "healthy"; return that inspect result.

        "unhealthy", or a container that stops (or never started), raises
        recipes.HealthcheckError with the last check's exit code and output; a container
        with no healthcheck, ValueError; past `timeout` seconds, DockerTimeoutError.
        """
        return await recipes.wait_healthy(self, id, timeout=timeout, interval=interval)
