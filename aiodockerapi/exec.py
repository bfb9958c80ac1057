"""docker.exec: run commands in running containers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

from . import operations as ops
from .errors import DockerError
from .models import ContainerExecBody, ExecInspectResponse, ExecResult, IdResponse
from .resource import Resource
from .streams import AttachedStream

__all__ = ["Exec"]


class Exec(Resource):
    """Exec instances: create one in a container, start it, inspect it."""

    async def create(
        self, container: str, config: ContainerExecBody | Mapping[str, Any]
    ) -> IdResponse:
        """POST /containers/{id}/exec: set up a command; start it with `start`."""
        return await self._t.call(ops.ContainerExec(container), IdResponse, body=config)

    @overload
    async def start(
        self, id: str, *, detach: Literal[False] = ..., tty: bool = ...
    ) -> AttachedStream: ...

    @overload
    async def start(self, id: str, *, detach: Literal[True], tty: bool = ...) -> None: ...

    async def start(
        self, id: str, *, detach: bool = False, tty: bool = False
    ) -> AttachedStream | None:
        """POST /exec/{id}/start: with detach, just start it; otherwise return its stdio as an
        AttachedStream (`tty` must match the exec's own Tty setting)."""
        body = {"Detach": detach, "Tty": tty}
        if detach:
            await self._t.call(ops.ExecStart(id), body=body)
            return None
        return await self._t.hijack(
            ops.ExecStart(id),
            body=body,
            tty=tty,
            resize=lambda h, w: self.resize(id, h=h, w=w),
        )

    async def resize(self, id: str, *, h: int, w: int) -> None:
        """POST /exec/{id}/resize: set the exec's TTY size."""
        await self._t.call(ops.ExecResize(id, h=h, w=w))

    async def inspect(self, id: str) -> ExecInspectResponse:
        """GET /exec/{id}/json."""
        return await self._t.call(ops.ExecInspect(id), ExecInspectResponse)

    async def run(
        self,
        container: str,
        cmd: Sequence[str],
        *,
        stdin: bytes | None = None,
        user: str | None = None,
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
        privileged: bool = False,
    ) -> ExecResult:
        """Create and start a command, feed it `stdin`, collect stdout, stderr and its exit code."""
        if isinstance(cmd, str):
            raise TypeError("cmd must be a sequence of arguments, not a string")
        created = await self.create(
            container,
            ContainerExecBody(
                cmd=list(cmd),
                attach_stdin=stdin is not None,
                attach_stdout=True,
                attach_stderr=True,
                user=user,
                working_dir=workdir,
                env=[f"{k}={v}" for k, v in env.items()] if env else None,
                privileged=privileged,
            ),
        )
        if created.id is None:
            raise DockerError(None, "the daemon created an exec without an id")
        async with await self.start(created.id) as stream:
            if stdin is not None:
                await stream.write(stdin)
                await stream.close_write()
            stdout, stderr = await stream.read_all()
        for _ in range(100):  # the exit code lands just after the output ends
            info = await self.inspect(created.id)
            if not info.running and info.exit_code is not None:
                return ExecResult(exit_code=info.exit_code, stdout=stdout, stderr=stderr)
            await asyncio.sleep(0.05)
        raise DockerError(None, f"exec {created.id} ended its output but has no exit code")
