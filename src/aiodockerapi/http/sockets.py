"""Requests on sockets of their own, in just enough HTTP/1.1 (rawhttp.py): long GET streams
read in 256 KiB blocks, and connections upgraded to raw duplex streams (attach, exec).

A socket serves one request and is closed after it: a stream holds it for as long as it
runs, and an upgraded one is handed over whole.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType

from .._log import connection_kind, shown_url, target_path
from ..hosts import Host
from ..paths import check_text
from . import rawhttp
from .base import (
    CONNECT_TIMEOUT,
    IDENTITY,
    Headers,
    HTTPRequest,
    HTTPTransport,
    Response,
    Upgraded,
    read_error,
)
from .errors import BODY, CONNECT, FAILURES, REQUEST, STREAM, closed_error, failure

__all__ = ["Sockets"]

logger = logging.getLogger("aiodockerapi.http")

_Opened = tuple[asyncio.StreamReader, asyncio.StreamWriter, int, Headers]


class Sockets(HTTPTransport):
    """One socket per request to the host (its unix socket, the ssh tunnel's, or its TCP
    address with its TLS). The timeout bounds the wait for the response's head. Closing
    closes every socket still open, upgraded ones included."""

    def __init__(self, host: Host, socket_path: Callable[[], Awaitable[str | None]]) -> None:
        self.host = host
        self._socket_path = socket_path
        self.closed = False
        self._open: weakref.WeakSet[asyncio.StreamWriter] = weakref.WeakSet()

    def send(self, request: HTTPRequest) -> _SocketExchange:
        return _SocketExchange(self, request)

    async def upgrade(self, request: HTTPRequest) -> Upgraded:
        reader, writer, status, headers = await self.exchange(request)
        return Upgraded(status, headers, reader, writer)

    async def aclose(self) -> None:
        self.closed = True
        for writer in list(self._open):
            writer.close()
        self._open.clear()

    async def exchange(self, request: HTTPRequest) -> _Opened:
        """Send `request` on a new socket: its reader (with the body), writer, status and
        headers."""
        headers = {**IDENTITY, **(request.headers or {})}
        for name, value in headers.items():
            check_text(f"header {name!r}", value)
        data = request.data
        if data is None or isinstance(data, bytes):
            if data or request.method != "GET":
                headers["Content-Length"] = str(len(data or b""))
        else:
            headers["Transfer-Encoding"] = "chunked"
        try:
            reader, writer = await asyncio.wait_for(self._connect(), CONNECT_TIMEOUT)
        except FAILURES as exc:
            raise self.failure(exc, request, CONNECT) from None
        if self.closed:  # closed while connecting
            writer.close()
            raise closed_error(self.host.url)
        self._open.add(writer)
        host = self.host
        if logger.isEnabledFor(logging.DEBUG):
            path = None if host.hostname else writer.get_extra_info("peername")
            logger.debug(
                "own socket to %s opened (%s) for %s %s",
                shown_url(host.url),
                connection_kind(host, path),
                request.method,
                target_path(request.target),
            )
        try:
            writer.write(
                rawhttp.request_head(request.method, request.target, host.authority, headers)
            )
            if isinstance(data, bytes):
                writer.write(data)
            elif data is not None:
                async for chunk in data:
                    if chunk:
                        writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                        await writer.drain()
                writer.write(b"0\r\n\r\n")
            status, head = await asyncio.wait_for(rawhttp.read_head(reader), request.timeout)
        except BaseException as exc:
            writer.close()
            logger.debug("own socket to %s closed: %r", shown_url(host.url), exc)
            if isinstance(exc, FAILURES):
                raise self.failure(exc, request, REQUEST) from None
            raise
        return reader, writer, status, Headers(head)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.closed:
            raise closed_error(self.host.url)
        host = self.host
        socket_path = await self._socket_path()
        if socket_path is not None:
            return await asyncio.open_unix_connection(socket_path)
        return await asyncio.open_connection(
            host.hostname,
            host.port,
            ssl=host.ssl,
            server_hostname=host.hostname if host.ssl else None,
        )

    def failure(self, exc: BaseException, request: HTTPRequest, phase: str) -> BaseException:
        return failure(
            exc,
            host=self.host.url,
            tls=self.host.ssl is not None,
            method=request.method,
            target=request.target,
            phase=phase,
            timeout=request.timeout,
            closed=self.closed,
        )


class _SocketExchange(Response):
    """One request on a socket of its own, closed on leaving."""

    __slots__ = ("_reader", "_request", "_sockets", "_writer", "headers", "reason", "status")

    def __init__(self, sockets: Sockets, request: HTTPRequest) -> None:
        self._sockets = sockets
        self._request = request
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> _SocketExchange:
        if self._writer is None:
            opened = await self._sockets.exchange(self._request)
            self._reader, self._writer, self.status, self.headers = opened
            self.reason = ""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            self._sockets._open.discard(self._writer)
            if logger.isEnabledFor(logging.DEBUG):
                request = self._request
                logger.debug(
                    "own socket to %s closed after %s %s",
                    shown_url(self._sockets.host.url),
                    request.method,
                    target_path(request.target),
                )

    async def read(self) -> bytes:
        if self.status >= 400:
            return await read_error(self._reader, self.headers)
        return b"".join([chunk async for chunk in self._chunks(BODY)])

    def chunks(self) -> AsyncIterator[bytes]:
        return self._chunks(STREAM)

    async def _chunks(self, phase: str) -> AsyncGenerator[bytes, None]:
        """The body in large blocks; a body that ends before the end its framing says
        (rawhttp.body) raises StreamCut in a stream, DockerConnectionError read whole."""
        try:
            async for chunk in rawhttp.body(self._reader, self.headers):
                yield chunk
        except FAILURES as exc:
            mapped = self._sockets.failure(exc, self._request, phase)
            if mapped is exc:
                raise
            raise mapped from None
