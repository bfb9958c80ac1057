"""Following /events, optionally across dropped connections and daemon restarts."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable

from .errors import ClientClosed, DockerConnectionError, ServerError, StreamCut
from .models import EventMessage
from .params import Since, timestamp

__all__ = ["follow_events"]

Open = Callable[[str | None], AsyncGenerator[EventMessage, None]]
# How far back a reopened stream starts: the daemon sends events up to ~10 ms out of order.
REPLAY = 2_000_000_000
_Key = tuple[int | None, str | None, str | None, str | None]


def _key(ev: EventMessage) -> _Key:
    actor = ev.actor.id if ev.actor is not None else None
    return (ev.time_nano, ev.type, ev.action, actor)


def _deadline(until: Since | None) -> float | None:
    return None if until is None else float(timestamp(until))


def follow_events(
    open_stream: Open,
    since: Since | None,
    until: Since | None,
    *,
    max_delay: float = 5.0,
) -> AsyncGenerator[EventMessage, None]:
    """Events from `open_stream(since)`, reopened after a dropped connection or a daemon
    restart (with backoff) until `until`.

    A reopened stream starts a little before the newest event delivered, because the daemon
    does not always send events in time order; events already delivered are recognised and
    skipped, so none is lost or repeated.
    """
    deadline = _deadline(until)
    start = None if since is None else timestamp(since)
    return _follow(open_stream, start, deadline, max_delay=max_delay)


async def _follow(
    open_stream: Open,
    start: str | None,
    deadline: float | None,
    *,
    max_delay: float,
) -> AsyncGenerator[EventMessage, None]:
    newest = 0  # the latest time_nano delivered
    recent: deque[tuple[int, _Key]] = deque()  # delivered within REPLAY of `newest`
    delivered: set[_Key] = set()
    delay = 0.05
    while True:
        try:
            async for ev in open_stream(start):
                delay = 0.05
                key = _key(ev)
                if key in delivered:
                    continue
                nano = ev.time_nano or 0
                newest = max(newest, nano)
                recent.append((nano, key))
                delivered.add(key)
                while recent and recent[0][0] < newest - REPLAY:
                    delivered.discard(recent.popleft()[1])
                yield ev
            # A stream that ended before `until` (or with none) was closed by the daemon.
        except ClientClosed:
            raise
        except (StreamCut, DockerConnectionError, ServerError):
            pass
        if deadline is not None and time.time() >= deadline:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
        if newest:
            since = max(newest - REPLAY, 0)
            start = f"{since // 1_000_000_000}.{since % 1_000_000_000:09d}"
