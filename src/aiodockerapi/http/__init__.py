"""The HTTP layer below the client: the seam (base.py) and its implementations.

`base` defines what a transport is given and gives back; `pool` sends through aiohttp's
connection pool, `sockets` over sockets of their own (long streams, upgrades); `default`
composes the two and chooses between them; `errors` maps every failure of either to a
DockerError, the same way.
"""

from __future__ import annotations

from .base import (
    Headers,
    HTTPRequest,
    HTTPTransport,
    Response,
    Upgraded,
    WebSocket,
    WebSocketMessage,
    WebSocketOpcode,
)

__all__ = [
    "HTTPRequest",
    "HTTPTransport",
    "Headers",
    "Response",
    "Upgraded",
    "WebSocket",
    "WebSocketMessage",
    "WebSocketOpcode",
]
