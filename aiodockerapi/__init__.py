"""An asyncio client for the Docker Engine API."""

from __future__ import annotations

from .client import Docker
from .errors import (
    BadRequest,
    Conflict,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    DockerVersionError,
    NotFound,
    ServerError,
)
from .models import Frame, StreamType
from .transport import TLSConfig

__all__ = [
    "BadRequest",
    "Conflict",
    "Docker",
    "DockerConnectionError",
    "DockerError",
    "DockerStreamError",
    "DockerTimeoutError",
    "DockerVersionError",
    "Frame",
    "NotFound",
    "ServerError",
    "StreamType",
    "TLSConfig",
]

__version__ = "0.1.0"
