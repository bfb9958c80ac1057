"""Requests through aiohttp's connection pool (its public API only): every plain call, and
streams that need a timeout, a body or the ssh tunnel's session count; and websockets."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
)
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from .._log import connection_kind, pool_traces, shown_url
from ..errors import error_for_status
from ..hosts import Host
from .base import (
    CONNECT_TIMEOUT,
    IDENTITY,
    Body,
    HTTPRequest,
    HTTPTransport,
    Response,
    WebSocket,
    WebSocketMessage,
    WebSocketOpcode,
)
from .errors import BODY, FAILURES, REQUEST, STREAM, closed_error, failure

__all__ = ["Pool"]

logger = logging.getLogger("aiodockerapi.http")


@functools.lru_cache(maxsize=64)
def _client_timeout(total: float | None) -> aiohttp.ClientTimeout:
    """One (immutable) ClientTimeout per total, rather than one per request."""
    return aiohttp.ClientTimeout(total=total, sock_connect=CONNECT_TIMEOUT)


async def _closed_with_its_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Started in the session's loop: closes the session when closed itself, or when the
    loop shuts down its async generators (asyncio.run and asyncio.Runner do as they end),
    while the loop can still close the session's connections."""
    try:
        yield
    finally:
        await session.close()


class Pool(HTTPTransport):
    """An aiohttp session for one daemon, created lazily in the running loop.
    `socket_path` gives the unix socket to connect to (the ssh tunnel's, started on first
    use), or None for the host's TCP address; `keepalive` bounds how long an idle
    connection is kept (an ssh session each, through the tunnel).

    The session belongs to the loop it was made in: used from another (a second
    asyncio.run, a test's own loop), the pool makes a new one there, the old one closed by
    its own loop's end (see _closed_with_its_loop).
    """

    def __init__(
        self,
        host: Host,
        socket_path: Callable[[], Awaitable[str | None]],
        *,
        size: int = 100,
        keepalive: float | None = None,
    ) -> None:
        self.host = host
        self._base = host.base_url  # the scheme and authority every target is put after
        self._socket_path = socket_path
        self._size = size
        self._keepalive = keepalive
        self.session: aiohttp.ClientSession | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # the session's
        self._closer: AsyncGenerator[None, None] | None = None
        self.closed = False

    async def open(self, timeout: float | None = None) -> aiohttp.ClientSession:
        """The session of the running loop, created on first use in it; the ssh tunnel's
        start, shared by the requests that wait for it, is given at most `timeout` seconds
        by each."""
        if self.closed:
            raise closed_error(self.host.url)
        loop = asyncio.get_running_loop()
        if self.session is not None and self.loop is not loop:
            self._leave_loop()
        if self.session is None:
            connector: aiohttp.BaseConnector
            socket_path = await asyncio.wait_for(self._socket_path(), timeout)
            if socket_path is not None and self._keepalive is not None:
                connector = aiohttp.UnixConnector(
                    path=socket_path, limit=self._size, keepalive_timeout=self._keepalive
                )
            elif socket_path is not None:
                connector = aiohttp.UnixConnector(path=socket_path, limit=self._size)
            else:
                ssl = self.host.ssl if self.host.ssl else True
                connector = aiohttp.TCPConnector(limit=self._size, ssl=ssl)
            if self.session is None:  # the tunnel's start may have let another task in
                kind = connection_kind(self.host, socket_path)
                session = self.session = aiohttp.ClientSession(
                    base_url=self.host.base_url,
                    connector=connector,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),
                    auto_decompress=False,
                    headers=IDENTITY,
                    trace_configs=pool_traces(self.host, kind),
                )
                logger.debug(
                    "pool for %s opened (%s, up to %d connections)",
                    shown_url(self.host.url),
                    kind,
                    self._size,
                )
                self.loop = loop
                closer = self._closer = _closed_with_its_loop(session)
                await anext(closer)
            else:
                await connector.close()
        assert self.session is not None
        return self.session

    def _leave_loop(self) -> None:
        """Forget the session of another loop. Once that loop has ended through asyncio.run
        the session is closed already; a loop still running (in another thread) is asked to
        close it; one stopped but not closed closes it when it shuts down."""
        loop, closer, session = self.loop, self._closer, self.session
        self.loop = self._closer = self.session = None
        if session is None or session.closed or loop is None or closer is None:
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(closer.aclose(), loop)

    def send(self, request: HTTPRequest) -> _Exchange:
        return _Exchange(self, request)

    async def fetch(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        data: Body,
        timeout: float | None,
    ) -> tuple[int, str, bytes]:
        """A plain call's whole exchange, with no request or response object of ours: the
        status, reason and whole body (the connection goes back to the pool). What the
        exchange of `send` does, for the client's plain calls through this pool.

        Both give aiohttp an absolute URL taken as encoded already (the client percent-encodes
        every path segment and query value): it neither joins it to the session's base nor
        quotes it again, a microsecond and more of every request."""
        session = self.session
        resp = None
        try:
            if session is None or self.loop is not asyncio.get_running_loop():
                session = await self.open(timeout)
            resp = await session.request(
                method,
                URL(self._base + target, encoded=True),
                data=data,
                headers=headers,
                timeout=_client_timeout(timeout),
                allow_redirects=False,
            )
            raw = await resp.read()
        except BaseException as exc:
            if resp is not None:
                resp.close()
            if isinstance(exc, FAILURES):
                mapped = self._failure(
                    exc, method, target, REQUEST if resp is None else BODY, timeout
                )
                if mapped is not exc:
                    raise mapped from exc
            raise
        resp.release()
        return resp.status, resp.reason or "", raw

    async def websocket(self, target: str) -> WebSocket:
        session = await self.open()
        try:
            ws = await session.ws_connect(target)
        except aiohttp.WSServerHandshakeError as exc:
            raise error_for_status(exc.status, exc.message) from None
        except FAILURES as exc:
            raise self._failure(exc, "GET", target, REQUEST, None) from exc
        return _WebSocket(ws)

    async def aclose(self) -> None:
        self.closed = True
        if self.session is None:
            return
        if self.loop is not asyncio.get_running_loop():
            self._leave_loop()
            return
        closer, self.session, self._closer = self._closer, None, None
        if closer is not None:
            await closer.aclose()
        logger.debug("pool for %s closed", shown_url(self.host.url))

    def _failure(
        self, exc: BaseException, method: str, target: str, phase: str, timeout: float | None
    ) -> BaseException:
        return failure(
            exc,
            host=self.host.url,
            tls=self.host.ssl is not None,
            method=method,
            target=target,
            phase=phase,
            timeout=timeout,
            closed=self.closed,
        )


class _Exchange(Response):
    """One request through the pool: entering sends it and gives itself, the response;
    leaving returns the connection to the pool if the body was read to the end, and closes
    it otherwise. What aiohttp raises on the way becomes the matching DockerError.

    A class rather than @asynccontextmanager: every plain call goes through here, and an
    async generator per request costs a measurable share of a fast one.
    """

    __slots__ = ("_pool", "_request", "_resp", "_streamed", "headers", "reason", "status")

    def __init__(self, pool: Pool, request: HTTPRequest) -> None:
        self._pool = pool
        self._request = request
        self._resp: aiohttp.ClientResponse | None = None
        self._streamed = False

    async def __aenter__(self) -> _Exchange:
        if self._resp is not None:
            return self  # entered already (the client enters it before its caller)
        request = self._request
        try:
            pool = self._pool
            session = pool.session
            if session is None or pool.loop is not asyncio.get_running_loop():
                session = await pool.open(request.timeout)
            resp = self._resp = await session.request(
                request.method,
                URL(pool._base + request.target, encoded=True),
                data=request.data,
                headers=request.headers,
                timeout=_client_timeout(request.timeout),
                allow_redirects=False,
            )
        except BaseException as exc:
            self._finish(exc)
            raise
        self.status = resp.status
        self.reason = resp.reason or ""
        self.headers = resp.headers
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    def read(self) -> Coroutine[Any, Any, bytes]:
        # aiohttp's own coroutine, not one wrapping it: one frame less on every call.
        assert self._resp is not None
        return self._resp.read()

    def chunks(self) -> AsyncIterator[bytes]:
        assert self._resp is not None
        self._streamed = True
        # aiohttp ends the body only at the chunked terminator (or at the Content-Length, or
        # at EOF for a body framed by neither); a connection lost before raises
        # ClientPayloadError, and one this side closed raises ClientConnectionError.
        return self._resp.content.iter_any()

    def _finish(self, exc: BaseException | None) -> None:
        resp = self._resp
        if resp is not None:
            if resp.content.at_eof():
                resp.release()
            else:
                resp.close()
        if exc is not None and isinstance(exc, FAILURES):
            request = self._request
            mapped = self._pool._failure(
                exc,
                request.method,
                request.target,
                REQUEST if resp is None else STREAM if self._streamed else BODY,
                request.timeout,
            )
            if mapped is not exc:
                raise mapped from exc


class _WebSocket(WebSocket):
    """aiohttp's client websocket, behind our small interface."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[Any]) -> None:
        self._ws = ws

    async def send_bytes(self, data: bytes) -> None:
        await self._ws.send_bytes(data)

    async def receive(self) -> WebSocketMessage | None:
        while True:
            message = await self._ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                return WebSocketMessage(WebSocketOpcode.BINARY, message.data)
            if message.type == aiohttp.WSMsgType.TEXT:
                return WebSocketMessage(WebSocketOpcode.TEXT, message.data.encode())
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return None

    async def close(self) -> None:
        await self._ws.close()
