"""Single-flight: one run of a setup step (API negotiation, the ssh tunnel's start) at a
time, shared by every caller that arrives while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Attempt(Generic[T]):
    __slots__ = ("closed", "task", "waiters")

    def __init__(self, task: asyncio.Task[T]) -> None:
        self.task = task
        self.waiters = 0
        self.closed: Callable[[], BaseException] | None = None  # the error aclose gives


class SingleFlight(Generic[T]):
    """Callers that come while an attempt runs wait for that same attempt and get its
    outcome, its failure included (so all fail within one attempt's time, not one after
    another); the first call after it ended starts a fresh one.

    A waiter that is cancelled leaves the attempt running for the others; an attempt that
    nobody waits for any more is cancelled, and its outcome is always retrieved, so none
    is left behind unobserved.
    """

    __slots__ = ("_attempt",)

    def __init__(self) -> None:
        self._attempt: _Attempt[T] | None = None

    @property
    def running(self) -> bool:
        """Whether an attempt is under way (a call now would wait for it)."""
        return self._attempt is not None

    async def run(self, start: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The outcome of the attempt under way, or of a new one made by `start()`."""
        attempt = self._attempt
        if attempt is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # driven by hand, with no loop: nobody to share it with
                return await start()
            attempt = self._attempt = _Attempt(loop.create_task(start()))
            attempt.task.add_done_callback(self._ended)
        attempt.waiters += 1
        try:
            return await asyncio.shield(attempt.task)
        except asyncio.CancelledError:
            # Not cancelled itself: the attempt was, by aclose. A CancelledError escaping a
            # task nobody cancelled would confuse whoever runs it: say what happened.
            if attempt.closed is not None and not _cancelling():
                raise attempt.closed() from None
            raise
        finally:
            attempt.waiters -= 1
            if not attempt.waiters and not attempt.task.done():
                self._drop(attempt)

    def _ended(self, task: asyncio.Task[T]) -> None:
        if self._attempt is not None and self._attempt.task is task:
            self._attempt = None
        if not task.cancelled():
            task.exception()  # seen here, whoever else does or does not

    def _drop(self, attempt: _Attempt[T]) -> None:
        if self._attempt is attempt:
            self._attempt = None  # the next caller starts afresh, not into a cancelled one
        attempt.task.cancel()

    async def aclose(self, error: Callable[[], BaseException]) -> None:
        """Cancel the attempt under way, if any, and wait for it to end; its waiters get
        `error()`."""
        attempt = self._attempt
        if attempt is not None:
            attempt.closed = error
            self._drop(attempt)
            await asyncio.wait({attempt.task})


def _cancelling() -> bool:
    """Whether the current task is being cancelled (known from Python 3.11 on; before,
    taken as not)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False
