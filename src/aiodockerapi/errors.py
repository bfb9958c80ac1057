"""Every exception aiodockerapi raises; all derive from DockerError."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import ContainerState

__all__ = [
    "BadRequest",
    "ClientClosed",
    "Conflict",
    "ContextError",
    "CredentialsError",
    "DockerConnectionError",
    "DockerError",
    "DockerStreamError",
    "DockerTimeoutError",
    "DockerVersionError",
    "Forbidden",
    "HealthcheckError",
    "NoStatusError",
    "NotFound",
    "ServerError",
    "ServiceUpdateError",
    "SessionNotSupported",
    "StreamCut",
    "Unauthorized",
    "error_for_status",
]


class DockerError(Exception):
    """Root of the hierarchy. `status` is the HTTP status, or None when there was no response."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        if self.status is None:
            return self.message
        return f"{self.status}: {self.message}"


class BadRequest(DockerError):
    """400: the daemon rejected the parameters."""


class Unauthorized(DockerError):
    """401: the registry refused the credentials (some daemons answer a pull so)."""


class Forbidden(DockerError):
    """403: the operation is not allowed on this object (a predefined network, say)."""


class NotFound(DockerError):
    """404: no such object."""


class Conflict(DockerError):
    """409: the request conflicts with the object's state (a name in use, a running container)."""


class ServerError(DockerError):
    """5xx: the daemon failed."""


class NoStatusError(DockerError):
    """An error without an HTTP status (`status` is None): no response came (the daemon
    unreachable, a timeout), or it came from somewhere else (a stream's own error, the
    Docker config, a version the client can't speak). Made from a message alone."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


class DockerConnectionError(NoStatusError):
    """The daemon could not be reached, or the connection broke: before the response, in the
    middle of its body, or of a stream (StreamCut), or because the client was closed
    (ClientClosed). Retrying may help. `sent` is False when no connection was made, so the
    request reached no daemon (a write is then safe to send again)."""

    sent: bool = True


class ClientClosed(DockerConnectionError):
    """The client was closed (`Docker.close()`): a stream it was reading ends with this, and
    so does any request made afterwards."""


class DockerTimeoutError(NoStatusError, TimeoutError):
    """A request took longer than its timeout. `sent` is False when that was the wait for a
    connection, so the request reached no daemon."""

    sent: bool = True


class DockerVersionError(NoStatusError):
    """The daemon's API version is outside what this client supports."""


class DockerStreamError(NoStatusError):
    """An error reported inside a stream (build, pull, push), or a stream that could not be decoded.

    `detail` holds the daemon's errorDetail object when it sent one.
    """

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.detail = detail


class CredentialsError(NoStatusError):
    """Credentials could not be read: a broken config file or a failing credential helper."""


class StreamCut(DockerConnectionError, DockerStreamError):
    """The connection ended in the middle of a stream (a daemon restart, say): before the
    daemon's end of the body, or broken on a hijacked one (attach, exec). A broken connection,
    so a DockerConnectionError; also a DockerStreamError, as it was before it was one."""


class SessionNotSupported(NoStatusError, NotImplementedError):
    """POST /session (a BuildKit session) is not implemented by aiodockerapi."""


class ContextError(NoStatusError):
    """A Docker context that does not exist or can't be read."""


class HealthcheckError(NoStatusError):
    """docker.containers.wait_healthy: the container turned unhealthy, or stopped, before its
    healthcheck passed. `state` is its last inspected State; `state.health.log` holds the
    last checks."""

    def __init__(self, message: str, state: ContainerState | None) -> None:
        super().__init__(message)
        self.state = state


class ServiceUpdateError(NoStatusError):
    """A swarm service's update that paused, or rolled back, instead of converging.

    `state` is the service's UpdateStatus.State ("paused", "rollback_paused",
    "rollback_completed"...), `task_errors` what its failing tasks reported.
    """

    def __init__(
        self, service_id: str, state: str, message: str, task_errors: list[str] | None = None
    ) -> None:
        errors = "; ".join(task_errors or [])
        super().__init__(
            f"service {service_id} update {state}: {message}"
            + (f" (tasks: {errors})" if errors else "")
        )
        self.service_id = service_id
        self.state = state
        self.task_errors = list(task_errors or [])


_BY_STATUS: dict[int, type[DockerError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
}


def error_for_status(status: int, message: str) -> DockerError:
    """The exception class that matches an HTTP status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else DockerError
    return cls(status, message)
