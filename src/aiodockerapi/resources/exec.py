"""docker.exec: run commands in running containers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Literal, overload

from .. import operations as ops
from ..bodies.streams import Attach
from ..command_lists import check_command, check_exec_config
from ..errors import DockerError
from ..models import ContainerExecBody, ExecInspectResponse, ExecResult, IdResponse
from .base import Resource

__all__ = ["Exec"]


class Exec(Resource):
    """Exec instances: create one in a container, start it, inspect it."""

    async def create(
        self, container: str, config: ContainerExecBody | Mapping[str, Any]
    ) -> IdResponse:
        """POST /containers/{id}/exec: set up a command in a running container; start it
        with `start`.

        Args:
            container: the container's id, id prefix or name.
            config: a ContainerExecBody (Cmd, AttachStdout, Tty, ...), or a mapping in the API's
                names. Cmd is a list of strings: a string is a TypeError.
        """
        check_exec_config(config)
        return await self._t.call(ops.ContainerExec(container), IdResponse, body=config)

    @overload
    def start(self, id: str, *, detach: Literal[False] = ..., tty: bool = ...) -> Attach: ...

    @overload
    def start(self, id: str, *, detach: Literal[True], tty: bool = ...) -> Awaitable[None]: ...

    def start(
        self, id: str, *, detach: bool = False, tty: bool = False
    ) -> Attach | Awaitable[None]:
        """POST /exec/{id}/start: `async with` it for the exec's stdio as an AttachedStream;
        with `detach`, `await` it to just start the command.

        Args:
            id: the exec instance's id, from `create`.
            detach: start the command without attaching to its stdio.
            tty: whether the exec has a TTY; it must match the exec's own Tty setting.
        """
        body = {"Detach": detach, "Tty": tty}
        if detach:
            return self._t.call(ops.ExecStart(id), body=body)
        return self._t.hijack(
            ops.ExecStart(id),
            body=body,
            tty=tty,
            resize=lambda h, w: self.resize(id, h=h, w=w),
        )

    async def resize(self, id: str, *, h: int, w: int) -> None:
        """POST /exec/{id}/resize: set the exec's TTY size.

        Args:
            id: the exec instance's id.
            h: height, in characters.
            w: width, in characters.
        """
        await self._t.call(ops.ExecResize(id, h=h, w=w))

    async def inspect(self, id: str) -> ExecInspectResponse:
        """GET /exec/{id}/json: an exec instance's command, state and exit code.

        Args:
            id: the exec instance's id.
        """
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
        """Create and start a command, feed it `stdin`, collect stdout, stderr and its exit code.

        Args:
            container: the container's id, id prefix or name.
            cmd: the command and its arguments, a list (["sh", "-c", "..."] for a shell).
            stdin: bytes to write to the command's standard input, which is then closed.
            user: the user (and group) to run as, "user[:group]"; the container's by default.
            workdir: the working directory; the container's by default.
            env: environment variables to set for the command.
            privileged: give the command extended privileges.
        """
        check_command("cmd", cmd)
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
        async with self.start(created.id) as stream:
            if stdin is None:
                stdout, stderr = await stream.read_all()
            else:
                # Read while feeding stdin: a command that answers as it reads (cat) fills
                # the output path, and a writer waiting for a reader that waits for the
                # writer is a deadlock once the daemon buffers less than `stdin` (Podman).
                reading = asyncio.ensure_future(stream.read_all())
                try:
                    await stream.write(stdin)
                    await stream.close_write()
                    stdout, stderr = await reading
                finally:
                    if not reading.done():
                        reading.cancel()
                        await asyncio.wait([reading])
                    if not reading.cancelled():
                        reading.exception()  # retrieved: a failed write says what went wrong
        for _ in range(100):  # the exit code lands just after the output ends
            info = await self.inspect(created.id)
            if not info.running and info.exit_code is not None:
                return ExecResult(exit_code=info.exit_code, stdout=stdout, stderr=stderr)
            await asyncio.sleep(0.05)
        raise DockerError(None, f"exec {created.id} ended its output but has no exit code")
