"""The transport a client uses unless given another: the pool for most requests, a socket
of its own for long streams and upgrades, the choice between them, and the ssh tunnel
both reach an ssh:// host through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..hosts import Host
from .base import HTTPRequest, HTTPTransport, Response, Upgraded, WebSocket
from .pool import Pool

if TYPE_CHECKING:
    from ..ssh import SSHTunnel
    from .sockets import Sockets

__all__ = ["DefaultTransport", "goes_over_own_socket"]


def goes_over_own_socket(request: HTTPRequest, *, ssh: bool) -> bool:
    """Whether `request` goes over a socket of its own rather than through the pool.

    A stream (events, logs, stats, an export) that is a GET without a body and without a
    timeout does, unless the host is reached over ssh: its body is then read in large blocks
    (see rawhttp), so a long stream neither pays aiohttp's cost per chunk (dockerd sends one
    per event or log frame) nor holds one of the pool's connections for as long as it runs.
    Everything else goes through the pool: a plain call reuses a pooled connection; a
    request with a body or a timeout gets aiohttp's body sending and timing; through ssh
    the pool keeps count of the ssh sessions (one per connection). Upgrades are not sent
    here: they always take a socket of their own (aiohttp gives none back after a 101).
    """
    return (
        request.stream
        and request.method == "GET"
        and request.data is None
        and request.timeout is None
        and not ssh
    )


class DefaultTransport(HTTPTransport):
    """aiohttp's pool and sockets of our own, to one host (through an ssh tunnel for an
    ssh:// host, logging in once; see ssh.py)."""

    def __init__(self, host: Host, *, pool_size: int = 100, ssh_options: Sequence[str] = ()):
        self.host = host
        self.tunnel: SSHTunnel | None = None
        keepalive = None
        if host.ssh:
            from ..ssh import IDLE_SECONDS, MAX_SESSIONS, SSHTunnel

            self.tunnel = SSHTunnel(host.url, ssh_options)
            # An idle connection holds an ssh session: release it soon (see ssh.py).
            pool_size = min(pool_size, MAX_SESSIONS)
            keepalive = IDLE_SECONDS
        self.pool = Pool(host, self._socket_path, size=pool_size, keepalive=keepalive)
        self._sockets: Sockets | None = None

    @property
    def sockets(self) -> Sockets:
        """The own-socket transport, made on first use (plain calls never need it)."""
        if self._sockets is None:
            from .sockets import Sockets

            self._sockets = Sockets(self.host, self._socket_path)
            self._sockets.closed = self.pool.closed
        return self._sockets

    async def _socket_path(self) -> str | None:
        if self.tunnel is not None:
            return await self.tunnel.start()
        return self.host.socket_path

    def send(self, request: HTTPRequest) -> Response:
        if request.stream and goes_over_own_socket(request, ssh=self.tunnel is not None):
            return self.sockets.send(request)
        return self.pool.send(request)

    async def upgrade(self, request: HTTPRequest) -> Upgraded:
        return await self.sockets.upgrade(request)

    async def websocket(self, target: str) -> WebSocket:
        return await self.pool.websocket(target)

    async def aclose(self) -> None:
        if self._sockets is not None:
            await self._sockets.aclose()
        await self.pool.aclose()
        if self.tunnel is not None:
            await self.tunnel.close()
