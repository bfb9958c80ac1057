"""A transport over several endpoints of one service (a swarm's managers): requests go to the
endpoint that answered last, and move on to the next when it cannot be reached.

A request moves on, and is sent again to the next endpoint, when it cannot have reached a
daemon (its connection was refused or never made: http/errors.py marks every such failure
with `sent` False); a read (GET, HEAD) also when its connection
broke later, since sending it twice changes nothing. A write whose connection broke after
it was sent may have been done: its error is raised, and the next request starts at the
next endpoint. A response with an error status is an answer, never a reason to move on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import TypeVar

from ..errors import DockerConnectionError, DockerTimeoutError
from .base import HTTPRequest, HTTPTransport, Response, Upgraded, WebSocket

__all__ = ["FailoverTransport", "never_sent"]

T = TypeVar("T")

_READS = ("GET", "HEAD")


def never_sent(exc: BaseException) -> bool:
    """Whether `exc` is a failure to connect: the request reached no daemon (the error mapper
    marks those, `sent` False)."""
    return isinstance(exc, DockerConnectionError | DockerTimeoutError) and not exc.sent


class FailoverTransport(HTTPTransport):
    """Sends each request to one of `endpoints` (named by `names`, for `answered` and error
    messages), moving on as the module says. It owns the endpoints: `aclose` closes them."""

    def __init__(self, endpoints: Sequence[HTTPTransport], names: Sequence[str]) -> None:
        if not endpoints or len(endpoints) != len(names):
            raise ValueError("FailoverTransport needs one name per endpoint, and an endpoint")
        self.endpoints = list(endpoints)
        self.names = list(names)
        self._current = 0
        #: The endpoint that answered the latest request (the first one before any).
        self.answered: str = self.names[0]

    async def attempt(self, method: str, action: Callable[[HTTPTransport], Awaitable[T]]) -> T:
        """`action` on the current endpoint, then on each next one while it may be retried."""
        start = self._current
        failures: list[str] = []
        last: BaseException | None = None
        for step in range(len(self.endpoints)):
            index = (start + step) % len(self.endpoints)
            try:
                result = await action(self.endpoints[index])
            except (DockerConnectionError, DockerTimeoutError) as exc:
                if self._current == index:  # the next request starts further on
                    self._current = (index + 1) % len(self.endpoints)
                if not (
                    never_sent(exc) or (method in _READS and isinstance(exc, DockerConnectionError))
                ):
                    raise
                failures.append(str(exc))
                last = exc
                continue
            self._current = index
            self.answered = self.names[index]
            return result
        raise DockerConnectionError(
            f"no endpoint answered ({len(failures)} tried): " + "; ".join(failures)
        ) from last

    def send(self, request: HTTPRequest) -> Response:
        return _Exchange(self, request)

    async def upgrade(self, request: HTTPRequest) -> Upgraded:
        return await self.attempt(request.method, lambda e: e.upgrade(request))

    async def websocket(self, target: str) -> WebSocket:
        # Opening it is a GET, but what is sent on it is not: move on only if never sent.
        return await self.attempt("CONNECT", lambda e: e.websocket(target))

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.aclose()


class _Exchange(Response):
    """The exchange with whichever endpoint answered; the rest is that endpoint's."""

    __slots__ = ("_inner", "_request", "_transport", "headers", "reason", "status")

    def __init__(self, transport: FailoverTransport, request: HTTPRequest) -> None:
        self._transport = transport
        self._request = request
        self._inner: Response | None = None

    async def __aenter__(self) -> _Exchange:
        if self._inner is not None:
            return self

        async def enter(endpoint: HTTPTransport) -> Response:
            response = endpoint.send(self._request)
            return await response.__aenter__()

        inner = self._inner = await self._transport.attempt(self._request.method, enter)
        self.status = inner.status
        self.reason = inner.reason
        self.headers: Mapping[str, str] = inner.headers
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._inner is not None:
            await self._inner.__aexit__(exc_type, exc, tb)

    async def read(self) -> bytes:
        assert self._inner is not None
        return await self._inner.read()

    def chunks(self) -> AsyncIterator[bytes]:
        assert self._inner is not None
        return self._inner.chunks()
