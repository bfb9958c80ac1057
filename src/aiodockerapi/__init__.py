"""An asyncio client for the Docker Engine API."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .client import Docker
from .errors import (
    BadRequest,
    ClientClosed,
    Conflict,
    CredentialsError,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    DockerVersionError,
    Forbidden,
    HealthcheckError,
    NotFound,
    ServerError,
    ServiceUpdateError,
    StreamCut,
    Unauthorized,
)
from .hosts import TLSConfig

# Records go wherever the application's logging sends them; none are printed without it.
logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .auth import AuthConfig
    from .bodies.streaming import Stream
    from .fleet import Fleet, HostEvent, HostEvents, HostFailure, HostResult
    from .managers import Managers
    from .models import Frame, StreamType

# Imported on first use: registry credentials and fleets bring anyio and the models along;
# the stream types come with the first stream.
_LATER = {
    "Frame": ".models",
    "StreamType": ".models",
    "Stream": ".bodies.streaming",
    "AuthConfig": ".auth",
    "Fleet": ".fleet",
    "HostEvent": ".fleet",
    "HostEvents": ".fleet",
    "HostFailure": ".fleet",
    "HostResult": ".fleet",
    "Managers": ".managers",
}


def __getattr__(name: str) -> Any:
    module = _LATER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AuthConfig",
    "BadRequest",
    "ClientClosed",
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
    "HealthcheckError",
    "HostEvent",
    "HostEvents",
    "HostFailure",
    "HostResult",
    "Managers",
    "NotFound",
    "ServerError",
    "ServiceUpdateError",
    "Stream",
    "StreamCut",
    "StreamType",
    "TLSConfig",
    "Unauthorized",
]

__version__ = "0.1.0"
