"""docker.containers.run and running: a container for one job, removed when it is done.

Recipes on top of ContainerOps (containers.py adds them to docker.containers): each composes
the container operations
(create, start, wait, logs, kill, stop, delete) and cleans up after itself. A container
they created is removed on an error, a timeout and a cancellation too; the cleanup is
shielded from anyio cancel scopes (which cancel again at every await) but not from a
second `Task.cancel()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

# anyio is imported in the functions that use it: a plain call loads none of it.
from ..errors import DockerError, DockerTimeoutError, NotFound
from ..models import ContainerCreateBody, ContainerCreateResponse, RunResult, StreamType
from .container_ops import ContainerOps

__all__ = ["ContainerRuns", "shielded_aclosing"]

# Removals of containers whose create was cancelled midway, kept here until they are done.
_BACKGROUND: set[asyncio.Task[None]] = set()


class ContainerRuns(ContainerOps):
    """Containers run to completion, or for the length of a block."""

    async def run(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        name: str | None = None,
        *,
        remove: bool = True,
        timeout: float | None = None,
    ) -> RunResult:
        """Create, start and wait for a container; return its exit code and its stdout and
        stderr (from its logs) as a RunResult.

        An error, a timeout or a cancellation kills the container (and removes it unless
        `remove` is false). A non-zero exit code is no error.

        Args:
            config: a ContainerCreateBody, or a mapping in the API's names.
            name: the container's name; random if left out.
            remove: remove the container once it has stopped.
            timeout: seconds the whole run may take, then DockerTimeoutError (a TimeoutError).
        """
        import anyio

        if _auto_removes(config):
            raise ValueError("run removes the container itself (remove=): leave out AutoRemove")
        containers = self
        created: list[str] = []
        result: RunResult | None = None
        try:
            with anyio.move_on_after(timeout):
                cid = await _create(containers, config, name, created)
                await containers.start(cid)
                waited = await containers.wait(cid)
                if waited.error is not None and waited.error.message:
                    raise DockerError(None, f"waiting for container {cid}: {waited.error.message}")
                stdout, stderr = await _output(containers, cid)
                result = RunResult(
                    id=cid, exit_code=waited.status_code, stdout=stdout, stderr=stderr
                )
            if result is None:
                what = f"container {created[0]}" if created else "the container"
                raise DockerTimeoutError(f"{what} did not finish within {timeout:g} s")
        except BaseException:
            if created:
                await _dispose(containers, created[0], remove=remove, quiet=True)
            raise
        if remove:
            await _dispose(containers, result.id, kill=False, quiet=False)
        return result

    @asynccontextmanager
    async def running(
        self,
        config: ContainerCreateBody | Mapping[str, Any],
        name: str | None = None,
        *,
        stop_timeout: int | None = None,
    ) -> AsyncIterator[str]:
        """`async with` it: a container created and started for the block, which gets its
        id; stopped and removed on leaving it, on an error too. A cancellation kills it at once.

        Args:
            config: a ContainerCreateBody, or a mapping in the API's names.
            name: the container's name; random if left out.
            stop_timeout: seconds before SIGKILL when stopping it; its StopTimeout by default.
        """
        containers = self
        created: list[str] = []
        try:
            cid = await _create(containers, config, name, created)
            await containers.start(cid)
        except BaseException:
            if created:
                await _dispose(containers, created[0], quiet=True)
            raise
        try:
            yield cid
        except asyncio.CancelledError:
            await _dispose(containers, cid, quiet=True)
            raise
        except BaseException:
            await _dispose(containers, cid, stop=True, stop_timeout=stop_timeout, quiet=True)
            raise
        await _dispose(containers, cid, stop=True, stop_timeout=stop_timeout, quiet=False)


def _auto_removes(config: ContainerCreateBody | Mapping[str, Any]) -> bool:
    if isinstance(config, ContainerCreateBody):
        return bool(config.host_config is not None and config.host_config.auto_remove)
    host_config = config.get("HostConfig")
    return isinstance(host_config, Mapping) and bool(host_config.get("AutoRemove"))


async def _create(
    containers: ContainerOps,
    config: ContainerCreateBody | Mapping[str, Any],
    name: str | None,
    created: list[str],
) -> str:
    """Create the container and append its id to `created`. A cancellation does not stop the
    request (the daemon may have made the container already): its container is removed in
    the background once the daemon answers."""
    import anyio

    task = asyncio.ensure_future(containers.create(config, name=name))
    try:
        with anyio.CancelScope(shield=True):
            response = await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(lambda done: _remove_orphan(containers, done))
        raise
    if not response.id:
        raise DockerError(None, "the daemon created a container but sent no id")
    created.append(response.id)
    return response.id


def _remove_orphan(containers: ContainerOps, task: asyncio.Task[ContainerCreateResponse]) -> None:
    if task.cancelled() or task.exception() is not None or not task.result().id:
        return
    cid = task.result().id
    assert cid is not None
    cleanup = asyncio.ensure_future(_dispose(containers, cid, quiet=True))
    _BACKGROUND.add(cleanup)
    cleanup.add_done_callback(_BACKGROUND.discard)


async def _dispose(
    containers: ContainerOps,
    cid: str,
    *,
    kill: bool = True,
    stop: bool = False,
    stop_timeout: int | None = None,
    remove: bool = True,
    quiet: bool,
) -> None:
    """Stop or kill a container, then remove it (and its anonymous volumes, as `docker run
    --rm` does); shielded from cancel scopes. `quiet` swallows the daemon's errors, for
    when another exception is already on its way out."""
    import anyio

    with anyio.CancelScope(shield=True):
        try:
            if stop:
                await containers.stop(cid, t=stop_timeout)
            elif kill:
                # Before the delete: Podman's forced delete stops with the stop timeout.
                try:
                    await containers.kill(cid)
                except DockerError:
                    pass  # not running (409), already gone (404)...
                else:
                    if not remove:  # a kept container has stopped once this returns
                        with anyio.move_on_after(10):
                            await containers.wait(cid)
            if remove:
                await containers.delete(cid, v=True, force=True)
        except NotFound:
            pass  # gone already
        except DockerError:
            if not quiet:
                raise


async def _output(containers: ContainerOps, cid: str) -> tuple[bytes, bytes]:
    """The whole stdout and stderr of a container, from its logs."""
    out: list[bytes] = []
    err: list[bytes] = []
    logs = containers.logs(cid, stdout=True, stderr=True)
    async with shielded_aclosing(logs):
        async for frame in logs:
            if frame.stream is StreamType.STDOUT:
                out.append(frame.data)
            elif frame.stream is StreamType.STDERR:
                err.append(frame.data)
    return b"".join(out), b"".join(err)


@asynccontextmanager
async def shielded_aclosing(stream: AsyncGenerator[Any, None]) -> AsyncIterator[None]:
    """contextlib.aclosing, shielded from cancel scopes."""
    import anyio

    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()
