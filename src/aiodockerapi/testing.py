"""Run the client against a function instead of a daemon: `MockTransport`.

    def handler(request: HTTPRequest) -> MockResponse:
        if request.target.endswith("/containers/json"):
            return MockResponse(json=[])
        return MockResponse(404, json={"message": "no such thing"})

    async with Docker(api_version="1.41", transport=MockTransport(handler)) as docker:
        assert await docker.containers.list() == []

The handler sees each request as sent (`method`, `target` with the version prefix and
query, `headers`, `data`) and answers with a MockResponse (or a coroutine of one). Pin an
`api_version`, or answer `HEAD /_ping` with an `Api-Version` header.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from .bodies.codec import encode
from .http.base import Headers, HTTPRequest, HTTPTransport, Response

__all__ = ["HTTPRequest", "MockResponse", "MockTransport"]

Handler = Callable[[HTTPRequest], "MockResponse | Awaitable[MockResponse]"]


class MockResponse(Response):
    """A canned response: a status, headers, and a body given whole (`content`, or `json`
    encoded) or in `chunks`."""

    __slots__ = ("_chunks", "headers", "reason", "status")

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = None,
        content: bytes = b"",
        chunks: Iterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        reason: str = "",
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = Headers(headers or {})
        if json is not None:
            content = encode(json)
            self.headers.setdefault("content-type", "application/json")
        self._chunks = list(chunks) if chunks is not None else ([content] if content else [])

    async def __aenter__(self) -> MockResponse:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    async def read(self) -> bytes:
        return b"".join(self._chunks)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                yield chunk


class _MockExchange(Response):
    __slots__ = ("_mock", "_request", "_response", "headers", "reason", "status")

    def __init__(self, mock: MockTransport, request: HTTPRequest) -> None:
        self._mock = mock
        self._request = request
        self._response: MockResponse | None = None

    async def __aenter__(self) -> _MockExchange:
        if self._response is None:
            self._mock.requests.append(self._request)
            answer = self._mock.handler(self._request)
            response = await answer if inspect.isawaitable(answer) else answer
            self._response = response
            self.status, self.reason, self.headers = (
                response.status,
                response.reason,
                response.headers,
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    async def read(self) -> bytes:
        assert self._response is not None
        return await self._response.read()

    def chunks(self) -> AsyncIterator[bytes]:
        assert self._response is not None
        return self._response.chunks()


class MockTransport(HTTPTransport):
    """An HTTPTransport that answers every request with `handler(request)`, in memory;
    `requests` lists the requests seen, in order."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[HTTPRequest] = []

    def send(self, request: HTTPRequest) -> Response:
        return _MockExchange(self, request)
