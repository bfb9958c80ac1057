"""follow_events without a daemon: out-of-order events, reconnects, duplicates."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiodockerapi.errors import DockerConnectionError, StreamCut
from aiodockerapi.models import EventMessage, SystemEventsResponseActor
from aiodockerapi.resources.events import Headers, follow_events

SECOND = 1_000_000_000


def ev(nano: int, actor: str) -> EventMessage:
    return EventMessage(
        type="container",
        action="create",
        actor=SystemEventsResponseActor(id=actor),
        time=nano // SECOND,
        time_nano=nano,
    )


async def test_reconnects_replay_a_window_and_drop_what_was_delivered() -> None:
    base = 1_700_000_000 * SECOND
    first = [ev(base + 10, "a"), ev(base + 30, "c"), ev(base + 20, "b")]  # out of order
    second = [*first, ev(base + 40, "d")]
    starts: list[str | None] = []

    async def open_stream(
        start: str | None, on_headers: Headers | None
    ) -> AsyncGenerator[EventMessage, None]:
        starts.append(start)
        if len(starts) == 1:
            for e in first:
                yield e
            raise StreamCut("the daemon went away")
        if len(starts) == 2:
            raise DockerConnectionError("still down")
        for e in second:
            yield e

    got = []
    stream = follow_events(open_stream, base / SECOND, None, max_delay=0.01)
    async for item in stream:
        got.append(item)
        if len(got) == 4:
            break
    await stream.aclose()
    assert [e.actor.id for e in got if e.actor] == ["a", "c", "b", "d"]
    assert starts[0] == f"{base // SECOND}.000000000"
    assert starts[1] == starts[2]
    # Reopened from two seconds before the newest event delivered.
    assert starts[2] == f"{(base + 30 - 2 * SECOND) // SECOND}.{(base + 30) % SECOND:09d}"


async def test_the_stream_ends_at_until() -> None:
    calls = 0

    async def open_stream(
        start: str | None, on_headers: Headers | None
    ) -> AsyncGenerator[EventMessage, None]:
        nonlocal calls
        calls += 1
        yield ev(SECOND, "a")

    got = [e async for e in follow_events(open_stream, None, 1.0, max_delay=0.01)]
    assert len(got) == 1 and calls == 1


async def test_before_any_event_a_reconnect_starts_at_the_daemons_first_answer() -> None:
    """No `since` and no event yet: the reopened stream starts at the Date the daemon gave
    its first answer (whole seconds), not at the local clock nor without a start."""
    starts: list[str | None] = []

    async def open_stream(
        start: str | None, on_headers: Headers | None
    ) -> AsyncGenerator[EventMessage, None]:
        starts.append(start)
        if on_headers is not None:
            on_headers({"Date": f"Tue, 14 Nov 2023 22:13:{19 + len(starts)} GMT"})
        if len(starts) < 3:
            raise StreamCut("cut before any event")
        yield ev(1_700_000_000 * SECOND, "a")

    stream = follow_events(open_stream, None, None, max_delay=0.01)
    got = await anext(stream)
    await stream.aclose()
    assert got.actor is not None and got.actor.id == "a"
    # 1_700_000_000 is 2023-11-14 22:13:20 UTC: the first answer's Date, kept.
    assert starts == [None, "1700000000", "1700000000"]


async def test_a_given_since_stays_the_start_until_an_event_comes() -> None:
    starts: list[str | None] = []

    async def open_stream(
        start: str | None, on_headers: Headers | None
    ) -> AsyncGenerator[EventMessage, None]:
        starts.append(start)
        assert on_headers is None  # the caller's since is the origin: no need to ask
        if len(starts) < 2:
            raise StreamCut("cut before any event")
        yield ev(1_700_000_000 * SECOND, "a")

    stream = follow_events(open_stream, 1_600_000_000, None, max_delay=0.01)
    await anext(stream)
    await stream.aclose()
    assert starts == ["1600000000"] * 2
