"""The container operations, one method each (docker.containers is built on them).

ContainerOps holds the operations on containers, with their files as archives from
container_archives.py; container_runs.py and container_waits.py build on it, and
containers.py puts the three together.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, cast

from .. import operations as ops
from ..bodies.streaming import Stream
from ..bodies.streams import Attach
from ..command_lists import check_container_config
from ..http.base import WebSocket
from ..models import (
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
)
from ..params import Filters, Since, log_streams, time_param
from .container_archives import ContainerArchives

__all__ = ["ContainerOps"]

WaitCondition = Literal["not-running", "next-exit", "removed"]


class ContainerOps(ContainerArchives):
    """The operations on containers: create, inspect, start, stop, logs, remove..."""

    async def list(
        self,
        *,
        all: bool = False,
        limit: int | None = None,
        size: bool = False,
        filters: Filters | None = None,
    ) -> builtins.list[ContainerSummary]:
        """GET /containers/json: list containers (the running ones by default).

        Args:
            all: include stopped and created containers too.
            limit: return only this many, the most recently created first.
            size: fill in SizeRw and SizeRootFs (slower).
            filters: keys `ancestor`, `before`, `expose`, `exited`, `health`, `id`, `isolation`,
                `is-task`, `label`, `name`, `network`, `publish`, `since`, `status`, `volume`.
        """
        req = ops.ContainerList(all=all, limit=limit, size=size, filters=filters)
        return await self._t.call(req, builtins.list[ContainerSummary])

    async def create(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        *,
        name: str | None = None,
        platform: str | None = None,
    ) -> ContainerCreateResponse:
        """POST /containers/create: create a container, without starting it.

        Args:
            config: a ContainerCreateBody, or a mapping in the API's names. Cmd and
                Entrypoint are lists of strings: a string is a TypeError.
            name: the container's name; the daemon picks one if left out.
            platform: the image variant to use, as "os[/arch[/variant]]".
        """
        check_container_config(config)
        req = ops.ContainerCreate(name=name, platform=platform)
        return await self._t.call(req, ContainerCreateResponse, body=config)

    async def inspect(self, id: str, *, size: bool = False) -> ContainerInspectResponse:
        """GET /containers/{id}/json: the container's configuration and state.

        Args:
            id: the container's id, id prefix or name.
            size: fill in SizeRw and SizeRootFs (slower).
        """
        return await self._t.call(ops.ContainerInspect(id, size=size), ContainerInspectResponse)

    async def start(self, id: str, *, detach_keys: str | None = None) -> None:
        """POST /containers/{id}/start; starting a running container is not an error.

        Args:
            id: the container's id, id prefix or name.
            detach_keys: the key sequence that detaches from it, instead of the daemon's default.
        """
        await self._t.call(ops.ContainerStart(id, detach_keys=detach_keys))

    async def stop(self, id: str, *, signal: str | int | None = None, t: int | None = None) -> None:
        """POST /containers/{id}/stop: stop the container; a stopped one is no error.

        Args:
            id: the container's id, id prefix or name.
            signal: the signal to send (API 1.42+); the container's stop signal by default.
            t: seconds to wait before killing it; its StopTimeout by default.
        """
        await self._t.call(ops.ContainerStop(id, signal=signal, t=t), timeout=None)

    async def restart(
        self, id: str, *, signal: str | int | None = None, t: int | None = None
    ) -> None:
        """POST /containers/{id}/restart: stop the container, then start it again.

        Args:
            id: the container's id, id prefix or name.
            signal: the signal that stops it (API 1.42+); its stop signal by default.
            t: seconds to wait before killing it; its StopTimeout by default.
        """
        await self._t.call(ops.ContainerRestart(id, signal=signal, t=t), timeout=None)

    async def kill(self, id: str, *, signal: str | int | None = None) -> None:
        """POST /containers/{id}/kill: send the container a signal.

        Args:
            id: the container's id, id prefix or name.
            signal: a name ("SIGINT") or number; SIGKILL by default.
        """
        await self._t.call(ops.ContainerKill(id, signal=signal))

    async def wait(
        self, id: str, *, condition: WaitCondition | None = None
    ) -> ContainerWaitResponse:
        """POST /containers/{id}/wait: block until the container stops; no timeout by default.

        Args:
            id: the container's id, id prefix or name.
            condition: "not-running" (the default), "next-exit" or "removed".
        """
        req = ops.ContainerWait(id, condition=condition)
        return await self._t.call(req, ContainerWaitResponse, timeout=None)

    async def delete(
        self, id: str, *, v: bool = False, force: bool = False, link: bool = False
    ) -> None:
        """DELETE /containers/{id}: remove a container.

        Args:
            id: the container's id, id prefix or name.
            v: remove its anonymous volumes too.
            force: kill it first if it is running.
            link: remove the link of this name instead of a container.
        """
        await self._t.call(ops.ContainerDelete(id, v=v, force=force, link=link))

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """POST /containers/prune: remove stopped containers.

        Args:
            filters: keys `until` (a timestamp or duration) and `label` (or `label!`).
        """
        req = ops.ContainerPrune(filters=filters)
        return await self._t.call(req, ContainerPruneResponse, timeout=None)

    def logs(
        self,
        id: str,
        *,
        stdout: bool | None = None,
        stderr: bool | None = None,
        follow: bool = False,
        since: Since | None = None,
        until: Since | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
    ) -> Stream[Frame]:
        """GET /containers/{id}/logs as frames; frame.stream tells stdout from stderr.

        Args:
            id: the container's id, id prefix or name.
            stdout: include its standard output. Name neither stream for both, one True for
                that one alone, one False for the other alone; both False is a ValueError.
            stderr: include its standard error.
            follow: keep the stream open and yield new output as it comes.
            since: only output from this time on (a datetime, Unix seconds or a time string).
            until: only output up to this time.
            timestamps: start each line with its timestamp.
            tail: only this many lines from the end ("all", the default, for every line).
        """
        stdout, stderr = log_streams(stdout, stderr)
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
        return Stream(self._t.stream_frames(req))

    async def pause(self, id: str) -> None:
        """POST /containers/{id}/pause: freeze every process in the container.

        Args:
            id: the container's id, id prefix or name.
        """
        await self._t.call(ops.ContainerPause(id))

    async def unpause(self, id: str) -> None:
        """POST /containers/{id}/unpause: resume a paused container.

        Args:
            id: the container's id, id prefix or name.
        """
        await self._t.call(ops.ContainerUnpause(id))

    async def rename(self, id: str, *, name: str) -> None:
        """POST /containers/{id}/rename: give the container a new name.

        Args:
            id: the container's id, id prefix or name.
            name: the new name.
        """
        await self._t.call(ops.ContainerRename(id, name=name))

    async def top(self, id: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """GET /containers/{id}/top: the processes running in the container.

        Args:
            id: the container's id, id prefix or name.
            ps_args: arguments for ps (Linux only); "-ef" by default.
        """
        return await self._t.call(ops.ContainerTop(id, ps_args=ps_args), ContainerTopResponse)

    async def changes(self, id: str) -> builtins.list[ContainerChangeResponseItem]:
        """GET /containers/{id}/changes: files added, changed or deleted since it was created.

        Args:
            id: the container's id, id prefix or name.
        """
        changes = await self._t.call(
            ops.ContainerChanges(id),
            cast(Any, builtins.list[ContainerChangeResponseItem] | None),  # null: no change
        )
        return changes or []

    async def update(
        self, id: str, update: ContainerUpdateBody | Mapping[str, Any]
    ) -> ContainerUpdateResponse:
        """POST /containers/{id}/update: change resources or the restart policy.

        Args:
            id: the container's id, id prefix or name.
            update: a ContainerUpdateBody, or a mapping in the API's names.
        """
        return await self._t.call(ops.ContainerUpdate(id), ContainerUpdateResponse, body=update)

    async def resize(self, id: str, *, h: int, w: int) -> None:
        """POST /containers/{id}/resize: set the TTY size.

        Args:
            id: the container's id, id prefix or name.
            h: height, in characters.
            w: width, in characters.
        """
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
        AttachedStream to read output frames from and write stdin to.

        Args:
            id: the container's id, id prefix or name.
            stdin: attach its standard input.
            stdout: attach its standard output.
            stderr: attach its standard error.
            stream: stream output from now on.
            logs: send the output it has already written first.
            detach_keys: the key sequence that detaches, instead of the daemon's default.
            tty: whether the container has a TTY, if known; otherwise the stream is sniffed.
        """
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
        in binary messages, no multiplexing).

        Args:
            id: the container's id, id prefix or name.
            stdin: attach its standard input (API 1.42+; before it, all three are attached).
            stdout: attach its standard output (API 1.42+).
            stderr: attach its standard error (API 1.42+).
            stream: stream output from now on.
            logs: send the output it has already written first.
            detach_keys: the key sequence that detaches, instead of the daemon's default.
        """
        req = ops.ContainerAttachWebsocket(
            id,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stream=stream,
            logs=logs,
            detach_keys=detach_keys,
        )
        from ..upgrades import websocket  # loads with the first upgrade

        return websocket(self._t, req)

    def stats(
        self, id: str, *, stream: bool = True, one_shot: bool = False
    ) -> Stream[ContainerStats]:
        """GET /containers/{id}/stats: resource usage samples, about one a second.

        Args:
            id: the container's id, id prefix or name.
            stream: keep sampling; without it, yield one sample and stop.
            one_shot: with `stream` off, skip the second sample that fills precpu_stats.
        """
        req = ops.ContainerStats(id, stream=stream, one_shot=True if one_shot else None)
        return Stream(self._t.stream_json(req, ContainerStats))
