"""docker.containers.wait_for_log and wait_healthy: wait until a container is ready.

Recipes on top of ContainerOps (containers.py adds them to docker.containers): one follows
the container's logs until a line matches, the other inspects it until its healthcheck
passes. Both give up after
their timeout, and the log stream is closed in every case.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import DockerError, DockerTimeoutError, HealthcheckError
from ..models import ContainerInspectResponse, ContainerState, Health, Line, LogPattern, StreamType
from ..params import log_streams
from .container_ops import ContainerOps
from .container_runs import shielded_aclosing

__all__ = ["ContainerWaits"]


class ContainerWaits(ContainerOps):
    """Waits for a container's log line, or for its health."""

    async def wait_for_log(
        self,
        id: str,
        pattern: LogPattern[Line],
        *,
        timeout: float,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Line:
        """Follow the container's logs from the start until a line matches `pattern`; return
        the line, without its line break, as text or bytes like the pattern.

        Logs that end with no match (the container stopped) raise DockerError. The log stream
        is closed in every case.

        Args:
            id: the container's id, id prefix or name.
            pattern: a substring, or a compiled regex searched in each line (str or bytes).
            timeout: seconds to wait, then DockerTimeoutError (a TimeoutError).
            stdout: search its standard output.
            stderr: search its standard error.
        """
        import anyio

        log_streams(stdout, stderr)  # neither is refused here, before any request
        find = _finder(pattern)
        containers = self
        logs = containers.logs(id, stdout=stdout, stderr=stderr, follow=True)
        with anyio.move_on_after(timeout):
            async with shielded_aclosing(logs):
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
        HealthcheckError with the last check's exit code and output; a container
        with no healthcheck, ValueError.

        Args:
            id: the container's id, id prefix or name.
            timeout: seconds to wait, then DockerTimeoutError (a TimeoutError).
            interval: seconds between two inspections.
        """
        import anyio

        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval!r}")
        containers = self
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
                    message = f"container {id} is unhealthy{_last_check(health)}"
                    raise HealthcheckError(message, state)
                await anyio.sleep(interval)
        status = health.status if health is not None else None
        raise DockerTimeoutError(
            f"container {id} was not healthy within {timeout:g} s "
            f"(health: {status or 'none yet'}){_last_check(health)}"
        )


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
