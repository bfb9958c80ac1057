"""Following /events, optionally across dropped connections and daemon restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable

from .errors import DockerConnectionError, ServerError, StreamCut
from .models import EventMessage
from .params import Since, timestamp

__all__ = ["follow_events"]

Open = Callable[[str | None], AsyncGenerator[EventMessage, None]]
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
    resume: bool,
    max_delay: float = 5.0,
) -> AsyncGenerator[EventMessage, None]:
    """Events from `open_stream(since)`.

    Without `resume`, the stream ends when the daemon closes it. With `resume`, a dropped
    connection or a restarted daemon is followed by a reconnect (with backoff) from the last
    event's time; events already delivered at that same nanosecond are skipped, so none is
    lost or repeated.
    """
    deadline = _deadline(until) if resume else None
    start = None if since is None else timestamp(since)
    return _follow(open_stream, start, deadline, resume=resume, max_delay=max_delay)


async def _follow(
    open_stream: Open,
    start: str | None,
    deadline: float | None,
    *,
    resume: bool,
    max_delay: float,
) -> AsyncGenerator[EventMessage, None]:
    last_nano: int | None = None
    delivered_at_last: set[_Key] = set()
    delay = 0.05
    while True:
        try:
            async for ev in open_stream(start):
                delay = 0.05
                nano = ev.time_nano
                if last_nano is not None and nano is not None:
                    if nano < last_nano or (nano == last_nano and _key(ev) in delivered_at_last):
                        continue
                if nano != last_nano:
                    last_nano = nano
                    delivered_at_last.clear()
                delivered_at_last.add(_key(ev))
                yield ev
            if not resume or deadline is None or time.time() >= deadline:
                return
        except StreamCut:
            if not resume:
                return
        except (DockerConnectionError, ServerError):
            if not resume:
                raise
        if deadline is not None and time.time() >= deadline:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
        if last_nano is not None:
            start = f"{last_nano // 1_000_000_000}.{last_nano % 1_000_000_000:09d}"
