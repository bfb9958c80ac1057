"""The seam between the client and the wire: what an HTTP transport is given and gives back.

An `HTTPTransport` sends an `HTTPRequest` and gives a `Response` (status, headers, body
in chunks), or upgrades a connection and gives an `Upgraded` (a reader and a writer). It
does nothing else: the API version, the status's meaning and body encoding are the
client's (transport.py). Failures on the way are mapped to DockerError by http/errors.py.
This module imports nothing of the package above it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from enum import IntEnum
from types import TracebackType
from typing import Final, NamedTuple

__all__ = [
    "CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "IDENTITY",
    "Body",
    "BodyError",
    "HTTPRequest",
    "HTTPTransport",
    "Headers",
    "Response",
    "Upgraded",
    "WebSocket",
    "WebSocketMessage",
    "WebSocketOpcode",
    "read_error",
]

CONNECT_TIMEOUT: Final = 10.0
# A request's whole time unless the client is given another (streams have none).
DEFAULT_TIMEOUT: Final = 60.0
# aiohttp would offer "gzip, deflate": dockerd then gzips archives (at a few tens of MB/s)
# and, as nothing here decompresses, callers would get gzip where they expect a tar.
IDENTITY: Final = {"Accept-Encoding": "identity"}

Body = bytes | AsyncIterable[bytes] | None


class BodyError(Exception):
    """A response whose head or body framing is not HTTP/1.1's (our own sockets' parser)."""


class HTTPRequest:
    """One request as it goes on the wire: `target` is the path and query (versioned
    already); `timeout` bounds the whole exchange (None: no bound, as for streams);
    `stream` says the body will be read as a stream, not whole."""

    __slots__ = ("data", "headers", "method", "stream", "target", "timeout")

    def __init__(
        self,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Body = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.data = data
        self.timeout = timeout
        self.stream = stream

    def __repr__(self) -> str:
        return f"<HTTPRequest {self.method} {self.target}>"


class Headers(dict[str, str]):
    """Response headers looked up without regard to case (names are kept lower-cased)."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        super().__init__((k.lower(), v) for k, v in pairs)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name.lower() if isinstance(name, str) else name)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class Response(ABC):
    """One exchange: `async with` sends the request and gives the response (itself) with
    `status`, `reason` and `headers`; `read()` gives its whole body, `chunks()` its body in
    pieces. Leaving it ends the exchange: a body read to its end lets the connection be
    reused, anything else closes it (so leaving a stream early tells the daemon to stop).
    Entering it again gives the same response (the client enters it before its caller).
    Any status comes back: the client decides what an error is."""

    __slots__ = ()

    status: int
    reason: str
    headers: Mapping[str, str]

    @abstractmethod
    async def __aenter__(self) -> Response: ...

    @abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    async def read(self) -> bytes:
        """The whole body."""

    @abstractmethod
    def chunks(self) -> AsyncIterator[bytes]:
        """The body in the pieces at hand, never an empty one."""


class Upgraded:
    """A connection upgraded to a raw duplex stream (attach, exec start): its status and
    headers, and the socket's reader (holding whatever followed the head) and writer. On
    an error status, `read()` gives the error's body and the connection is closed."""

    __slots__ = ("_body", "headers", "reader", "status", "writer")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        body: AsyncIterator[bytes] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.reader = reader
        self.writer = writer
        self._body = body

    async def read(self) -> bytes:
        """The body after the head (an error's message), then the connection is closed."""
        try:
            if self._body is None:
                return await read_error(self.reader, self.headers)
            return b"".join([chunk async for chunk in self._body])
        finally:
            self.writer.close()


async def read_error(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    """An error response's body, by its Content-Length, else what arrives within 5 s; b""
    when the connection fails meanwhile."""
    length = headers.get("content-length")
    try:
        if length is not None:
            return await reader.readexactly(int(length))
        return await asyncio.wait_for(reader.read(65536), 5)
    except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        return b""


class WebSocketOpcode(IntEnum):
    """A data message's kind, by its RFC 6455 opcode."""

    TEXT = 1
    BINARY = 2


class WebSocketMessage(NamedTuple):
    """One data message: its kind and its data (text encoded as UTF-8)."""

    type: WebSocketOpcode
    data: bytes


class WebSocket(ABC):
    """A websocket to the daemon (attach/ws): bytes in binary messages both ways.
    `async for` gives each data message until the socket closes."""

    @abstractmethod
    async def send_bytes(self, data: bytes) -> None:
        """Send one binary message."""

    @abstractmethod
    async def receive(self) -> WebSocketMessage | None:
        """The next data message; None once the socket closed."""

    async def receive_bytes(self) -> bytes | None:
        """The next data message's bytes; None once the socket closed."""
        message = await self.receive()
        return None if message is None else message.data

    @abstractmethod
    async def close(self) -> None:
        """Close the socket; idempotent."""

    def __aiter__(self) -> AsyncIterator[WebSocketMessage]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[WebSocketMessage]:
        while (message := await self.receive()) is not None:
            yield message

    async def __aenter__(self) -> WebSocket:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


class HTTPTransport(ABC):
    """Sends requests to one daemon. `Docker(transport=...)` takes any implementation:
    aiodockerapi.testing.MockTransport answers from a function, in memory."""

    @abstractmethod
    def send(self, request: HTTPRequest) -> Response:
        """The exchange of `request`, sent when it is entered (see Response)."""

    async def fetch(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        data: Body,
        timeout: float | None,
    ) -> tuple[int, str, bytes]:
        """A plain call's exchange: its status, reason and whole body, whatever the status.
        By default through `send`; a transport may do it with less (the pool does)."""
        request = HTTPRequest(method, target, headers=headers, data=data, timeout=timeout)
        resp = self.send(request)
        await resp.__aenter__()
        try:
            raw = await resp.read()
        except BaseException as exc:
            await resp.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await resp.__aexit__(None, None, None)
        return resp.status, resp.reason, raw

    async def upgrade(self, request: HTTPRequest) -> Upgraded:
        """Send `request` (Connection: Upgrade) and give the upgraded connection."""
        raise NotImplementedError(f"{type(self).__name__} cannot upgrade a connection")

    async def websocket(self, target: str) -> WebSocket:
        """Open a websocket to `target` (a versioned path and query)."""
        raise NotImplementedError(f"{type(self).__name__} cannot open a websocket")

    async def aclose(self) -> None:  # noqa: B027 (an optional hook)
        """Close every connection; idempotent."""
