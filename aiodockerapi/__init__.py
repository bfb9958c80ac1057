"""An asyncio client for the Docker Engine API."""

from __future__ import annotations

from .auth import AuthConfig
from .client import Docker
from .errors import (
    BadRequest,
    Conflict,
    CredentialsError,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    DockerVersionError,
    Forbidden,
    NotFound,
    ServerError,
    StreamCut,
    Unauthorized,
)
from .fleet import Fleet, HostEvent, HostEvents, HostResult
from .hosts import TLSConfig
from .models import Frame, StreamType

__all__ = [
    "AuthConfig",
    "BadRequest",
    "Conflict",
    "CredentialsError",
    "Docker",
    "DockerConnectionError",
    "DockerError",
    "DockerStreamError",
    "DockerTimeoutError",
    "DockerVersionError",
    "Fleet",
    "Forbidden",
    "Frame",
    "HostEvent",
    "HostEvents",
    "HostResult",
    "NotFound",
    "ServerError",
    "StreamCut",
    "StreamType",
    "TLSConfig",
    "Unauthorized",
]

__version__ = "0.1.0"
