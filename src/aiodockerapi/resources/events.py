"""Following /events, optionally across dropped connections and daemon restarts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from email.utils import parsedate_to_datetime

from .._log import shown_url
from ..errors import ClientClosed, DockerConnectionError, ServerError, StreamCut
from ..models import EventMessage
from ..params import Since, timestamp

__all__ = ["follow_events"]

logger = logging.getLogger(__name__)

# open_stream(since, on_headers): on_headers, when given, is handed the response's headers.
Headers = Callable[[Mapping[str, str]], None]
Open = Callable[[str | None, Headers | None], AsyncGenerator[EventMessage, None]]
# How far back a reopened stream starts: the daemon sends events up to ~10 ms out of order.
REPLAY = 2_000_000_000
_Key = tuple[int | None, str | None, str | None, str | None]


def _key(ev: EventMessage) -> _Key:
    actor = ev.actor.id if ev.actor is not None else None
    return (ev.time_nano, ev.type, ev.action, actor)


def _deadline(until: Since | None) -> float | None:
    return None if until is None else float(timestamp(until))


def daemon_time(headers: Mapping[str, str]) -> str | None:
    """The daemon's clock (whole seconds, as `since` takes it) from a response's Date
    header, or None when it sent none that parses."""
    try:
        return str(int(parsedate_to_datetime(headers["Date"]).timestamp()))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def follow_events(
    open_stream: Open,
    since: Since | None,
    until: Since | None,
    *,
    max_delay: float = 5.0,
    host: str = "the daemon",
) -> AsyncGenerator[EventMessage, None]:
    """Events from `open_stream(since)`, reopened after a dropped connection or a daemon
    restart (with backoff) until `until`.

    A reopened stream starts a little before the newest event delivered, because the daemon
    does not always send events in time order; events already delivered are recognised and
    skipped, so none is lost or repeated. Before any event was delivered it starts at
    `since`, or without one at the daemon's time when the stream first connected (the
    Date header of its response), so events of an outage before the first are not lost.
    """
    deadline = _deadline(until)
    start = None if since is None else timestamp(since)
    return _follow(open_stream, start, deadline, max_delay=max_delay, host=host)


async def _follow(
    open_stream: Open,
    start: str | None,
    deadline: float | None,
    *,
    max_delay: float,
    host: str,
) -> AsyncGenerator[EventMessage, None]:
    newest = 0  # the latest time_nano delivered
    origin = start  # where a stream reopened before any event starts: set at first connect

    def connected(headers: Mapping[str, str]) -> None:
        nonlocal origin
        origin = daemon_time(headers)

    recent: deque[tuple[int, _Key]] = deque()  # delivered within REPLAY of `newest`
    delivered: set[_Key] = set()
    delay = 0.05
    while True:
        ended = "the daemon closed it"
        try:
            async for ev in open_stream(start, connected if origin is None else None):
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
        except (StreamCut, DockerConnectionError, ServerError) as exc:
            ended = f"{type(exc).__name__}: {exc}"
        if deadline is not None and time.time() >= deadline:
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
        if newest:
            since = max(newest - REPLAY, 0)
            start = f"{since // 1_000_000_000}.{since % 1_000_000_000:09d}"
        else:
            start = origin
        logger.debug(
            "events of %s: reopening the stream since %s (it ended: %s)",
            shown_url(host),
            start or "now",
            ended,
        )
