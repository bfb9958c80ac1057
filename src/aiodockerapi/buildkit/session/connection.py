"""One BuildKit session on a connection of its own: `POST /session` upgraded to h2c, after
which the daemon is the HTTP/2 gRPC client and this side serves (grpclib's server protocol,
attached to the hijacked connection's transport).

The daemon checks its liveness with `/grpc.health.v1.Health/Check` every few seconds and
closes a session that does not answer, so nothing a service does may block the event loop.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ... import operations as ops
from ...errors import DockerError
from ...http.base import DEFAULT_TIMEOUT, HTTPRequest
from ...http.errors import status_error
from .deps import require_grpclib

if TYPE_CHECKING:
    from ...transport import Transport

__all__ = ["Servable", "Session"]

_ID_HEADER = "X-Docker-Expose-Session-Uuid"
_KEY_HEADER = "X-Docker-Expose-Session-Sharedkey"
_NAME_HEADER = "X-Docker-Expose-Session-Name"
_METHOD_HEADER = "x-docker-expose-session-grpc-method"


class Servable(Protocol):
    """A gRPC service as grpclib serves it: its methods' paths and handlers."""

    def __mapping__(self) -> Mapping[str, Any]: ...


def method_headers(methods: Sequence[str]) -> dict[str, str]:
    """One `X-Docker-Expose-Session-Grpc-Method` line per method.

    The daemon reads every line of that header (not a comma-joined value), and a request's
    headers here are a mapping: each line gets the name in a case spelling of its own, which
    HTTP treats as the same header.
    """
    letters = [i for i, c in enumerate(_METHOD_HEADER) if c.isalpha()]
    if len(methods) >= 1 << len(letters):
        raise ValueError(f"too many session methods ({len(methods)})")
    headers: dict[str, str] = {}
    for n, method in enumerate(methods):
        name = list(_METHOD_HEADER)
        for bit, at in enumerate(letters):
            if n >> bit & 1:
                name[at] = name[at].upper()
        headers["".join(name)] = method
    return headers


class Session:
    """A BuildKit session serving `services` (plus health) to the daemon while it is open.

    `async with Session(services).opened(transport) as session:` opens it; a build names it by
    `session.id`. Leaving closes the connection and cancels whatever call is still running.
    """

    def __init__(
        self,
        services: Sequence[Servable],
        *,
        shared_key: str | None = None,
        name: str = "aiodockerapi",
    ) -> None:
        require_grpclib()
        from grpclib.health.service import Health

        self.id = secrets.token_hex(13)
        self.shared_key = shared_key or self.id
        self.name = name
        self._services: list[Servable] = [Health(), *services]
        self._server: Any = None
        self._protocol: Any = None
        self._writer: asyncio.StreamWriter | None = None
        self._lost: asyncio.Future[None] | None = None

    @property
    def methods(self) -> list[str]:
        """The gRPC methods served, as the session's headers advertise them."""
        return [path for service in self._services for path in service.__mapping__()]

    @property
    def closed(self) -> bool:
        """Whether the connection has closed (or was never opened)."""
        return self._lost is None or self._lost.done()

    def opened(self, t: Transport) -> _Opened:
        """`async with`: the session open on `t`'s daemon, closed on leaving."""
        return _Opened(self, t)

    async def open(self, t: Transport) -> None:
        """Send the upgrade and serve on the connection the daemon hands back."""
        if self._lost is not None:
            raise RuntimeError("a session is opened once")
        from grpclib.server import Server

        headers = {
            "Connection": "Upgrade",
            "Upgrade": "h2c",
            _ID_HEADER: self.id,
            _KEY_HEADER: self.shared_key,
            _NAME_HEADER: self.name,
            **method_headers(self.methods),
        }
        request = HTTPRequest(
            "POST",
            await t.versions.versioned(ops.Session()),
            headers=headers,
            data=b"",
            timeout=t.timeout or DEFAULT_TIMEOUT,
        )
        up = await t.http.upgrade(request)
        if up.status != 101:
            if up.status >= 400:
                body = await up.read()
                reason = f"{t.host} opens no BuildKit session (POST /session: HTTP {up.status})"
                # Podman (no BuildKit) answers 404 with a bare "Not Found": say what it means.
                raise status_error(up.status, body if up.status != 404 else b"", reason, t.host)
            up.writer.close()
            raise DockerError(up.status, f"POST /session on {t.host}: status {up.status}, not 101")
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        self._server = Server(self._services)
        # grpclib offers no public call to serve a connection that is already open; its
        # server's protocol factory is what `Server.start` hands to the loop (grpclib pinned).
        protocol = _Protocol(self._server._protocol_factory(), self._lost)
        transport = up.writer.transport
        transport.set_protocol(protocol)
        # What the daemon sent right after the 101 (its HTTP/2 preface) is in the reader;
        # with its end fed, reading it back cannot wait, so no byte can overtake it.
        up.reader.feed_eof()
        early = await up.reader.read()
        # The writer owns the transport: dropped, it would close the connection.
        self._writer = up.writer
        protocol.connection_made(transport)
        if early:
            protocol.data_received(early)
        if isinstance(transport, asyncio.ReadTransport):
            transport.resume_reading()

    async def wait_closed(self) -> None:
        """Wait until the daemon (or `aclose`) closes the connection."""
        if self._lost is not None:
            await asyncio.shield(self._lost)

    async def aclose(self) -> None:
        """Close the connection and end every call still being served; idempotent."""
        if self._writer is not None:
            self._writer.close()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        if self._server is not None:
            handlers = list(self._server._handlers)
            for handler in handlers:
                handler.close()
            for handler in handlers:
                await handler.wait_closed()


class _Opened:
    __slots__ = ("_session", "_t")

    def __init__(self, session: Session, t: Transport) -> None:
        self._session = session
        self._t = t

    async def __aenter__(self) -> Session:
        try:
            await self._session.open(self._t)
        except BaseException:
            await self._session.aclose()
            raise
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._session.aclose()


class _Protocol(asyncio.Protocol):
    """grpclib's H2 protocol, plus a future set when the connection is lost."""

    def __init__(self, inner: Any, lost: asyncio.Future[None]) -> None:
        self._inner = inner
        self._lost = lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return None  # close the transport: a half-closed session is over

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)
        if not self._lost.done():
            self._lost.set_result(None)
