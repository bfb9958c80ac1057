"""Streams connected on purpose: `async with` a stream sends its request and waits for the
daemon's answer before the block runs; `async for` alone connects on the first item."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextvars import ContextVar
from types import FrameType, TracebackType
from typing import Any, Generic, TypeVar

__all__ = ["Stream", "answered", "on_answer"]

T = TypeVar("T")

# Set in the task that connects a stream: what to call once its request is answered.
_NOTIFY: ContextVar[Callable[[bool], None] | None] = ContextVar("aiodockerapi_notify", default=None)


def on_answer(notify: Callable[[bool], None]) -> None:
    """Have the streams this task opens call `notify(True)` once the daemon has answered
    their request with success (status and headers), `notify(False)` when it failed. Call
    it in a task of its own: it sets a context variable, which the task's copy keeps."""
    _NOTIFY.set(notify)


def answered(ok: bool) -> None:
    """Called by the transport when a stream's request has its answer (`ok`) or failed."""
    notify = _NOTIFY.get()
    if notify is not None:
        notify(ok)


class Stream(AsyncGenerator[T, None], Generic[T]):
    """A streamed response (events, logs, stats) as an async generator of its items.

    `async for item in stream` connects when the first item is asked for. `async with
    stream:` connects at once: it sends the request and waits for the daemon's answer (an
    error status raises there), so what the block does next is seen by the stream; leaving
    the block closes the connection.
    """

    __slots__ = ("_entered", "_first", "_items")

    def __init__(self, items: AsyncGenerator[T, None]) -> None:
        self._items = items
        # The first step of `items`, run in a task of its own by __aenter__ (see there).
        self._first: asyncio.Task[T] | None = None
        self._entered = False

    @property
    def ag_frame(self) -> FrameType | None:
        """The generator's frame, None once it is closed (as on a native async generator)."""
        frame: FrameType | None = getattr(self._items, "ag_frame", None)
        return frame

    @property
    def ag_running(self) -> bool:
        """Whether the generator is running a step (as on a native async generator)."""
        return bool(getattr(self._items, "ag_running", False))

    def __aiter__(self) -> AsyncGenerator[T, None]:
        # Without a first item waiting, `async for` runs on the generator itself: a
        # stream of many small items pays nothing per item for this wrapper.
        return self if self._first is not None else self._items

    def __anext__(self) -> Coroutine[Any, Any, T]:
        # The generator's own awaitable on the hot path: no coroutine of ours per item.
        if self._first is None:
            return self._items.__anext__()
        return self._take_first()

    async def _take_first(self) -> T:
        first = self._first
        assert first is not None
        try:
            return await first
        finally:
            if first.done():
                self._first = None

    async def asend(self, value: None) -> T:
        if self._first is not None:
            return await self._take_first()
        return await self._items.asend(value)

    async def athrow(self, typ: Any, val: Any = None, tb: Any = None) -> T:
        await self._drop_first()
        return await self._items.athrow(typ, val, tb)

    async def aclose(self) -> None:
        """Close the stream and its connection."""
        await self._drop_first()
        await self._items.aclose()

    async def _drop_first(self) -> None:
        first, self._first = self._first, None
        if first is None:
            return
        if not first.done():
            first.cancel()
            await asyncio.wait((first,))
        if not first.cancelled():
            first.exception()  # retrieved: closing says nothing of how connecting went

    async def __aenter__(self) -> Stream[T]:
        """Connect: send the request and wait for the response's status and headers."""
        if self._entered:
            raise RuntimeError("this stream is entered already")
        self._entered = True
        loop = asyncio.get_running_loop()
        connected = loop.create_future()

        def notify(ok: bool) -> None:
            # A failure ends the task (its error raised below), or is retried (resume).
            if ok and not connected.done():
                connected.set_result(None)

        async def first() -> T:
            on_answer(notify)  # in this task's context only
            return await self._items.__anext__()

        # The generator's first step (request, head, then the first item) runs in a task:
        # the head's arrival is signalled from inside it, and the wait for the first item
        # goes on in the background until the block asks for it.
        task = self._first = loop.create_task(first())
        try:
            await asyncio.wait((task, connected), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await self.aclose()
            raise
        finally:
            connected.cancel()
        if task.done() and not task.cancelled():
            error = task.exception()
            if error is not None and not isinstance(error, StopAsyncIteration):
                self._first = None
                await self._items.aclose()
                raise error
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
