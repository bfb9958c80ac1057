"""Many daemons at once: one coroutine per host, and their events merged."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .client import Docker
from .models import EventMessage
from .params import Filters, Since

__all__ = ["Fleet", "HostEvent", "HostResult"]

T = TypeVar("T")


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


@dataclass(frozen=True)
class HostEvent:
    """An event from one host of a merged stream; `error` ends that host's part of it."""

    host: str
    event: EventMessage | None = None
    error: BaseException | None = None


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
    ) -> AsyncIterator[MemoryObjectReceiveStream[HostEvent]]:
        """Every host's events in one stream, each tagged with its host:
        `async with fleet.events() as events: async for ev in events: ...`.

        A host whose stream fails sends one HostEvent with the error and drops out; the
        others go on. The stream ends when every host's has; leaving the block stops them all.
        """
        send, receive = anyio.create_memory_object_stream[HostEvent](max_buffer_size=256)

        async def pump(name: str, client: Docker, out: MemoryObjectSendStream[HostEvent]) -> None:
            async with out:
                try:
                    stream = client.system.events(
                        since=since, until=until, filters=filters, resume=resume
                    )
                    async for event in stream:
                        await out.send(HostEvent(name, event))
                except anyio.BrokenResourceError:
                    pass
                except Exception as exc:
                    with contextlib.suppress(anyio.BrokenResourceError):
                        await out.send(HostEvent(name, error=exc))

        async with anyio.create_task_group() as tg:
            async with send:
                for name, client in self.clients.items():
                    tg.start_soon(pump, name, client, send.clone())
            try:
                async with receive:
                    yield receive
            finally:
                tg.cancel_scope.cancel()
