"""Many daemons at once: one coroutine per host, and their events merged."""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import msgspec

from ._log import shown_url
from .bodies.streaming import on_answer
from .client import Docker
from .models import EventMessage
from .params import Filters, Since

__all__ = ["Fleet", "HostEvent", "HostEvents", "HostFailure", "HostResult"]

T = TypeVar("T")

logger = logging.getLogger("aiodockerapi.resources.events")


@dataclass(frozen=True)
class HostResult(Generic[T]):
    """What one host gave: its value, or the error it raised (a timeout included)."""

    host: str
    value: T | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the host's work returned a value."""
        return self.error is None


class HostEvent(msgspec.Struct, frozen=True, gc=False):
    """An event from one host of a merged stream; `error` ends that host's part of it (and
    then the item is a HostFailure, a HostEvent too)."""

    # A Struct the garbage collector never sees: one is made per event, and a tracked one
    # made the merge of 200 hosts spend a tenth of its time in collections (issue 13).
    host: str
    event: EventMessage | None = None
    error: BaseException | None = None


class HostFailure(HostEvent, frozen=True, gc=True):
    """The HostEvent carrying a host's error: visible to the garbage collector, since the
    error's traceback can lead back to the item (`raise item.error` in a loop does)."""


class _Merge:
    """Where every host's task leaves its events for the one consumer.

    A host's task appends to one shared list without awaiting anything, so it goes through
    all its stream has decoded from a network read in one step; the consumer takes the whole
    list at once, so one wake-up carries a batch of events, not one. Each host's events keep
    their order. A task that finds `size` events waiting waits until the consumer takes
    them: it stops reading its socket meanwhile, so a slow consumer holds the daemons back
    and nothing is dropped.
    """

    def __init__(self, hosts: int, size: int) -> None:
        self.pending: list[HostEvent] = []
        self.size = size  # 0 once closed: every host's task then stops at its next event
        self.running = hosts
        self._ready: anyio.Event | None = None  # set for a consumer waiting for events
        self._space: anyio.Event | None = None  # set for host tasks waiting for room

    def wake(self) -> None:
        """Called by a host's task before it adds to an empty list, and when it ends."""
        ready = self._ready
        if ready is not None:
            self._ready = None
            ready.set()

    async def wait_space(self) -> None:
        """Called by a host's task that finds the list full: wait until it has room."""
        while len(self.pending) >= self.size:
            if not self.size:
                raise _Closed
            if self._space is None:
                self._space = anyio.Event()
            await self._space.wait()

    def done(self) -> None:
        self.running -= 1
        self.wake()

    async def take(self, into: deque[HostEvent]) -> bool:
        """Move every event waiting into `into`, waiting for one if there are none; False
        once every host's stream has ended (or the stream was closed)."""
        pending = self.pending
        while not pending:
            if not self.running or not self.size:
                return False
            ready = self._ready = anyio.Event()
            await ready.wait()
        into.extend(pending)
        pending.clear()
        self._free()
        return True

    def take_nowait(self, into: deque[HostEvent]) -> bool:
        pending = self.pending
        into.extend(pending)
        pending.clear()
        self._free()
        return bool(into)

    def _free(self) -> None:
        space = self._space
        if space is not None:
            self._space = None
            space.set()

    def close(self) -> None:
        self.size = 0
        self.pending.clear()
        self._free()
        self.wake()


class _Closed(Exception):
    """The consumer closed the merged stream: a host's task stops."""


class HostEvents:
    """The merged events of `Fleet.events()`: `async for item in events`, or `await
    events.receive()` for one (anyio.EndOfStream once every host's stream has ended)."""

    def __init__(self, merge: _Merge) -> None:
        self._merge = merge
        self._batch: deque[HostEvent] = deque()

    def __aiter__(self) -> AsyncIterator[HostEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[HostEvent]:
        batch = self._batch
        popleft = batch.popleft
        take = self._merge.take
        while True:
            while batch:
                yield popleft()
            if not await take(batch):
                return

    async def receive(self) -> HostEvent:
        """The next event of any host."""
        if not self._batch and not await self._merge.take(self._batch):
            raise anyio.EndOfStream
        return self._batch.popleft()

    def receive_nowait(self) -> HostEvent:
        """The next event if one is waiting, else anyio.WouldBlock (or anyio.EndOfStream)."""
        if not self._batch and not self._merge.take_nowait(self._batch):
            if not self._merge.running or not self._merge.size:
                raise anyio.EndOfStream
            raise anyio.WouldBlock
        return self._batch.popleft()

    async def aclose(self) -> None:
        """Stop taking events: the hosts' streams stop at their next event."""
        self._batch.clear()
        self._merge.close()

    async def __aenter__(self) -> HostEvents:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class Fleet:
    """A set of daemons driven together.

    Hosts are URLs (unix://, tcp://, ssh://...), Docker context names, or Docker instances
    (which the caller keeps and closes). `limit` bounds how many hosts work at once and
    `timeout` bounds each host's work. Extra keyword arguments go to each Docker made here.
    """

    def __init__(
        self,
        hosts: Iterable[str | Docker],
        *,
        limit: int = 16,
        timeout: float | None = None,
        **docker_options: Any,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self._limit = limit
        self._timeout = timeout
        self._owned: list[Docker] = []
        self.clients: dict[str, Docker] = {}
        for host in hosts:
            if isinstance(host, Docker):
                client = host
            else:
                if "://" in host:
                    client = Docker(host, **docker_options)
                else:
                    client = Docker(context=host, **docker_options)
                self._owned.append(client)
            name = host if isinstance(host, str) else host.host
            if name in self.clients:
                raise ValueError(f"host {name!r} is given twice")
            self.clients[name] = client
        if not self.clients:
            raise ValueError("a fleet needs at least one host")

    async def __aenter__(self) -> Fleet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the clients the fleet made (not those it was given)."""
        with anyio.CancelScope(shield=True):
            for client in self._owned:
                await client.close()

    async def run(self, work: Callable[[Docker], Awaitable[T]]) -> Mapping[str, HostResult[T]]:
        """Run `work(docker)` for every host at once; one host failing hides no other's result.

        Cancelling the caller cancels every host's work.
        """
        results: dict[str, HostResult[T]] = {}
        limiter = anyio.CapacityLimiter(self._limit)

        async def one(name: str, client: Docker) -> None:
            async with limiter:
                try:
                    with anyio.fail_after(self._timeout if self._timeout else math.inf):
                        value = await work(client)
                except Exception as exc:
                    results[name] = HostResult(name, error=exc)
                else:
                    results[name] = HostResult(name, value=value)

        async with anyio.create_task_group() as tg:
            for name, client in self.clients.items():
                tg.start_soon(one, name, client)
        return {name: results[name] for name in self.clients}

    @asynccontextmanager
    async def events(
        self,
        *,
        since: Since | None = None,
        until: Since | None = None,
        filters: Filters | None = None,
        resume: bool = False,
        buffer: int = 4096,
    ) -> AsyncIterator[HostEvents]:
        """Every host's events in one stream, each tagged with its host:
        `async with fleet.events() as events: async for ev in events: ...`.

        The block runs once every host's daemon has answered the request (or failed to),
        as for `async with docker.system.events()`: what it does next is seen. A host whose
        stream fails sends one HostEvent with the error and drops out; the others go on.
        The stream ends when every host's has; leaving the block stops them all. Each
        host's events come in its order. At most `buffer` events wait for the consumer
        (plus the batch it is going through): past that, the hosts stop reading until it
        catches up.
        """
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, not {buffer}")
        merge = _Merge(len(self.clients), buffer)
        unanswered = len(self.clients)
        all_answered = anyio.Event()

        async def pump(name: str, client: Docker) -> None:
            pending = merge.pending
            waiting = True

            def answer(ok: bool) -> None:  # the first attempt's answer, or the pump's end
                nonlocal waiting, unanswered
                if waiting:
                    waiting = False
                    unanswered -= 1
                    if not unanswered:
                        all_answered.set()

            on_answer(answer)  # the mechanism of Stream.__aenter__ (see streaming.py)
            try:
                # What each read of the host's socket decoded, in one step; with resume,
                # event by event through the reconnecting stream.
                if resume:
                    stream = client.system.events(
                        since=since, until=until, filters=filters, resume=True
                    )
                    batches = _one_by_one(stream)
                else:
                    batches = client.system.event_batches(since=since, until=until, filters=filters)
                async with aclosing(batches):
                    async for batch in batches:
                        if not pending:
                            merge.wake()
                        pending += [HostEvent(name, event) for event in batch]
                        if len(pending) >= merge.size:
                            await merge.wait_space()
            except _Closed:
                pass
            except Exception as exc:
                logger.debug("fleet events: the stream of %s failed: %r", shown_url(name), exc)
                if merge.size:
                    pending.append(HostFailure(name, error=exc))
            finally:
                answer(False)
                merge.done()
                logger.debug("fleet events: the stream of %s ended", shown_url(name))

        async with anyio.create_task_group() as tg:
            for name, client in self.clients.items():
                tg.start_soon(pump, name, client)
            try:
                await all_answered.wait()
                yield HostEvents(merge)
            finally:
                merge.close()
                tg.cancel_scope.cancel()


async def _one_by_one(events: AsyncGenerator[T, None]) -> AsyncGenerator[list[T], None]:
    """`events` as batches of one, closed with the batches."""
    async with aclosing(events):
        async for event in events:
            yield [event]
