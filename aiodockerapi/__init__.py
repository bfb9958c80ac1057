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
)
from .fleet import Fleet, HostEvent, HostResult
from .models import Frame, StreamType
from .transport import TLSConfig

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
    "HostResult",
    "NotFound",
    "ServerError",
    "StreamCut",
    "StreamType",
    "TLSConfig",
]

__version__ = "0.1.0"
