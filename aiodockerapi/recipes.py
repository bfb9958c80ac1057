"""Recipes: common sequences of operations, each one call.

`docker.containers.run`, `running`, `wait_for_log`, `wait_healthy` and `docker.images.ensure`
delegate here. Each composes the resources' own methods (create, start, wait, logs, kill,
stop, delete, inspect, pull) and cleans up after itself: a container it created is removed
on an error, a timeout and a cancellation too, and a log stream it opened is closed. The
cleanup is shielded from anyio cancel scopes (which cancel again at every await) but not
from a second `Task.cancel()`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import anyio
import msgspec

from .errors import DockerError, DockerTimeoutError, NotFound
from .models import (
    ContainerCreateBody,
    ContainerCreateResponse,
    ContainerInspectResponse,
    ContainerState,
    Health,
    Image,
    StreamType,
)

if TYPE_CHECKING:
    from .auth import AuthInput
    from .containers import Containers
    from .images import Images

__all__ = [
    "HealthcheckError",
    "Line",
    "LogPattern",
    "RunResult",
    "ensure_image",
    "run",
    "running",
    "wait_for_log",
    "wait_healthy",
]

Line = TypeVar("Line", str, bytes)
"""A log line: text for a text pattern, bytes for a bytes pattern."""

LogPattern: TypeAlias = Line | re.Pattern[Line]
"""What wait_for_log looks for in a line: a substring, or a compiled regex (searched)."""

# Removals of containers whose create was cancelled midway, kept here until they are done.
_BACKGROUND: set[asyncio.Task[None]] = set()


class RunResult(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """What docker.containers.run collected: the container's id, exit code and output."""

    id: str
    exit_code: int
    stdout: bytes
    stderr: bytes


class HealthcheckError(DockerError):
    """The container turned unhealthy, or stopped, before its healthcheck passed.

    `state` is the container's last inspected State; `state.health.log` holds the last checks.
    """

    def __init__(self, message: str, state: ContainerState | None) -> None:
        super().__init__(None, message)
        self.state = state


# --- containers.run and containers.running --------------------------------------------------


async def run(
    containers: Containers,
    config: ContainerCreateBody | Mapping[str, Any],
    name: str | None = None,
    *,
    remove: bool = True,
    timeout: float | None = None,  # noqa: ASYNC109 - the run kills what outlives it
) -> RunResult:
    """Create and start a container, wait for it to exit, collect its logs, remove it.

    On an error, a timeout or a cancellation the container is killed, and removed unless
    `remove` is false. `timeout` (seconds) bounds the whole run: past it, DockerTimeoutError
    (also a TimeoutError). A non-zero exit code is no error: see `exit_code`.
    """
    if _auto_removes(config):
        raise ValueError("run removes the container itself (remove=): leave out AutoRemove")
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
            result = RunResult(id=cid, exit_code=waited.status_code, stdout=stdout, stderr=stderr)
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
    containers: Containers,
    config: ContainerCreateBody | Mapping[str, Any],
    name: str | None = None,
    *,
    stop_timeout: int | None = None,
) -> AsyncIterator[str]:
    """Create and start a container for the `async with` block, which gets its id; on leaving
    it, stop the container (its stop signal, then SIGKILL after `stop_timeout` seconds: the
    container's own StopTimeout, 10 s by default) and remove it. On a cancellation it is
    killed at once instead; on an error it is stopped as usual."""
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
    containers: Containers,
    config: ContainerCreateBody | Mapping[str, Any],
    name: str | None,
    created: list[str],
) -> str:
    """Create the container and append its id to `created`. A cancellation does not stop the
    request (the daemon may have made the container already): its container is removed in
    the background once the daemon answers."""
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


def _remove_orphan(containers: Containers, task: asyncio.Task[ContainerCreateResponse]) -> None:
    if task.cancelled() or task.exception() is not None or not task.result().id:
        return
    cid = task.result().id
    assert cid is not None
    cleanup = asyncio.ensure_future(_dispose(containers, cid, quiet=True))
    _BACKGROUND.add(cleanup)
    cleanup.add_done_callback(_BACKGROUND.discard)


async def _dispose(
    containers: Containers,
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


async def _output(containers: Containers, cid: str) -> tuple[bytes, bytes]:
    """The whole stdout and stderr of a container, from its logs."""
    out: list[bytes] = []
    err: list[bytes] = []
    logs = containers.logs(cid, stdout=True, stderr=True)
    async with _closing(logs):
        async for frame in logs:
            if frame.stream is StreamType.STDOUT:
                out.append(frame.data)
            elif frame.stream is StreamType.STDERR:
                err.append(frame.data)
    return b"".join(out), b"".join(err)


@asynccontextmanager
async def _closing(stream: AsyncGenerator[Any, None]) -> AsyncIterator[None]:
    """contextlib.aclosing, shielded from cancel scopes."""
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            await stream.aclose()


# --- containers.wait_for_log ----------------------------------------------------------------


async def wait_for_log(
    containers: Containers,
    id: str,
    pattern: LogPattern[Line],
    *,
    timeout: float,  # noqa: ASYNC109 - required: a log line may never come
    stdout: bool = True,
    stderr: bool = True,
) -> Line:
    """Follow a container's logs from the start until a line matches `pattern`, and return
    that line (without its line break; text for a text pattern, bytes for a bytes one).

    `pattern` is a substring or a compiled regex (`re.search`ed). Past `timeout` seconds,
    DockerTimeoutError (also a TimeoutError); logs that end (the container stopped) with no
    match, DockerError. The log stream is closed in every case.
    """
    if not (stdout or stderr):
        raise ValueError("wait_for_log reads stdout, stderr or both: not neither")
    find = _finder(pattern)
    logs = containers.logs(id, stdout=stdout, stderr=stderr, follow=True)
    with anyio.move_on_after(timeout):
        async with _closing(logs):
            pending: dict[StreamType, bytes] = {}  # the unfinished line of each stream
            async for frame in logs:
                data = pending.get(frame.stream, b"") + frame.data
                *lines, pending[frame.stream] = data.split(b"\n")
                for line in lines:
                    if (found := find(line)) is not None:
                        return found
            for rest in pending.values():
                if rest and (found := find(rest)) is not None:
                    return found
        raise DockerError(None, f"the logs of {id} ended with no line matching {pattern!r}")
    raise DockerTimeoutError(f"no line of {id}'s logs matched {pattern!r} within {timeout:g} s")


def _finder(pattern: LogPattern[Line]) -> Callable[[bytes], Line | None]:
    """A function from a raw log line to the line (as text or bytes) if it matches."""
    if isinstance(pattern, str):
        text = pattern
        return lambda raw: line if text in (line := _text(raw)) else None
    if isinstance(pattern, bytes):
        data = pattern
        return lambda raw: line if data in (line := raw.removesuffix(b"\r")) else None
    if isinstance(pattern.pattern, str):
        text_regex = pattern
        return lambda raw: line if text_regex.search(line := _text(raw)) else None
    bytes_regex = pattern
    return lambda raw: line if bytes_regex.search(line := raw.removesuffix(b"\r")) else None


def _text(raw: bytes) -> str:
    return raw.removesuffix(b"\r").decode("utf-8", "replace")


# --- containers.wait_healthy ----------------------------------------------------------------


async def wait_healthy(
    containers: Containers,
    id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - required: "starting" may last for ever
    interval: float = 0.5,
) -> ContainerInspectResponse:
    """Inspect a container every `interval` seconds until its healthcheck reports "healthy";
    return that inspect result.

    "unhealthy", or a container that is not running (exited, dead, never started), raises
    HealthcheckError with the last check's exit code and output; a container with no
    healthcheck, ValueError; past `timeout` seconds, DockerTimeoutError (a TimeoutError).
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, not {interval!r}")
    health: Health | None = None
    with anyio.move_on_after(timeout):
        while True:
            info = await containers.inspect(id)
            state = info.state
            health = state.health if state is not None else None
            status = health.status if health is not None else None
            if status in (None, "", "none") and not _has_healthcheck(info):
                raise ValueError(f"container {id} has no healthcheck")
            if state is None or not (state.running or state.restarting):
                why = _not_running(state)
                raise HealthcheckError(
                    f"container {id} {why} before it was healthy{_last_check(health)}", state
                )
            if status == "healthy":
                return info
            if status == "unhealthy":
                raise HealthcheckError(f"container {id} is unhealthy{_last_check(health)}", state)
            await anyio.sleep(interval)
    status = health.status if health is not None else None
    raise DockerTimeoutError(
        f"container {id} was not healthy within {timeout:g} s "
        f"(health: {status or 'none yet'}){_last_check(health)}"
    )


def _has_healthcheck(info: ContainerInspectResponse) -> bool:
    check = info.config.healthcheck if info.config is not None else None
    return check is not None and bool(check.test) and check.test != ["NONE"]


def _not_running(state: ContainerState | None) -> str:
    if state is None:
        return "has no state"
    if state.status in ("exited", "dead", "stopped"):  # Podman: stopped, until cleaned up
        return f"exited with code {state.exit_code}"
    return f"is {state.status or 'not running'}"


def _last_check(health: Health | None) -> str:
    if health is None or not health.log:
        return ""
    last = health.log[-1]
    output = (last.output or "").strip()
    if len(output) > 300:
        output = output[:300] + "..."
    return f"; last check: exit code {last.exit_code}, output {output!r}"


# --- images.ensure --------------------------------------------------------------------------


async def ensure_image(
    images: Images,
    ref: str,
    *,
    auth: AuthInput | None = None,
    platform: str | None = None,
) -> Image:
    """Inspect an image, pulling it first only if the daemon does not have it (or, given
    `platform` "os[/architecture[/variant]]", has it for another OS or architecture)."""
    try:
        found = await images.inspect(ref)
    except NotFound:
        pass
    else:
        if platform is None or _same_platform(found, platform):
            return found
    async for _ in images.pull(ref, platform=platform, auth=auth):
        pass
    return await images.inspect(ref)


def _same_platform(image: Image, platform: str) -> bool:
    wanted = platform.split("/")[:2]  # variants are too loosely reported to compare
    return [image.os, image.architecture][: len(wanted)] == wanted
