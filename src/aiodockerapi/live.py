"""The streams a client has running, so that closing the client ends them.

Each stream (a streamed body, a hijacked attach or exec) is registered while it runs with a
way to end its connection. `Docker.close()` ends them all: the iterator of each, waiting or
not, then raises ClientClosed rather than whatever the closed socket would have said (a
cut, or an end that looks normal).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from .errors import ClientClosed

__all__ = ["LiveStream", "LiveStreams"]


class LiveStream:
    """One running stream: `end` closes its connection; `ended` says close() did."""

    __slots__ = ("end", "ended", "what")

    def __init__(self, end: Callable[[], Awaitable[None]], what: str) -> None:
        self.end = end
        self.what = what
        self.ended = False

    def error(self) -> ClientClosed:
        return ClientClosed(f"{self.what}: the client was closed")


class LiveStreams:
    """The running streams of one client, ended all at once by `close`."""

    def __init__(self) -> None:
        self._live: set[LiveStream] = set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._live)

    def add(self, end: Callable[[], Awaitable[None]], what: str) -> LiveStream:
        """Register a stream that just started; ClientClosed if the client is closed."""
        live = LiveStream(end, what)
        if self.closed:
            raise live.error()
        self._live.add(live)
        return live

    def discard(self, live: LiveStream) -> None:
        """The stream finished (or was left): forget it."""
        self._live.discard(live)

    @asynccontextmanager
    async def watching(self, end: Callable[[], Awaitable[None]], what: str) -> AsyncIterator[None]:
        """Register a stream for the block; once close() ended it, whatever the block
        raises, or its normal end, becomes ClientClosed."""
        live = self.add(end, what)
        try:
            yield
        except Exception as exc:
            if live.ended:
                raise live.error() from exc
            raise
        else:
            if live.ended:
                raise live.error()
        finally:
            self._live.discard(live)

    async def close(self) -> None:
        """End every stream still running; later ones are refused. Idempotent."""
        self.closed = True
        while self._live:
            live = self._live.pop()
            live.ended = True
            with suppress(OSError):  # a socket that was failing anyway
                await live.end()
