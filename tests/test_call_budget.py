"""A guard against slowdowns that needs no stopwatch: the package's own Python-level calls.

One warmed-up inspect and one list go through the real connection pool to the canned
daemon of benchmarks/ (in this process, on a unix socket); one event and one log frame are
the marginal calls of a stream (calls for 2N items minus calls for N, over N), fed by
MockTransport so that the chunks (one item each, as dockerd sends them) arrive the same way
every time, and so counting the resumptions of the stream's generators too. Each is held to a budget
below: a change that makes more calls fails and says by how many and where. The budgets were
counted on Python 3.11; there a count below its budget fails too, so that the budget follows
the code down (newer Pythons inline comprehensions and may count fewer, never more).
Speed itself is measured by the benchmarks, never here.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from aiodockerapi import Docker
from aiodockerapi.http.base import HTTPRequest
from aiodockerapi.testing import MockResponse, MockTransport
from benchmarks.canned import Canned, scale_events, scale_frames
from benchmarks.recorded import PAYLOADS, load

from .callcount import CallCounter

BUDGET = {
    "inspect": 5,
    "list": 6,
    "event": 3,
    "log frame": 3,
}
BUDGET_PYTHON = (3, 11)
STREAM_ITEMS = 200


def check(workload: str, calls: float, where: Counter[str]) -> None:
    budget = BUDGET[workload]
    top = ", ".join(f"{name} x{n}" for name, n in where.most_common(8))
    if calls > budget:
        pytest.fail(
            f"{workload}: {calls:g} calls of the package's own, {calls - budget:g} over the "
            f"budget of {budget} (most called: {top})",
            pytrace=False,
        )
    if sys.version_info[:2] == BUDGET_PYTHON and calls < budget:
        pytest.fail(
            f"{workload}: {calls:g} calls, {budget - calls:g} under the budget: lower "
            f"BUDGET[{workload!r}] to {calls:g} in {Path(__file__).name}",
            pytrace=False,
        )


@pytest.fixture
async def canned(tmp_path: Path) -> AsyncIterator[str]:
    """The canned daemon on a unix socket of this loop; its host URL."""
    server_data = Canned(PAYLOADS, events=10, containers=50, logs_bytes=1 << 16)
    path = tmp_path / "canned.sock"
    server = await asyncio.start_unix_server(server_data.serve, path=str(path))
    try:
        yield f"unix://{path}"
    finally:
        server.close()
        await server.wait_closed()


async def counted(work: Callable[[], Awaitable[object]]) -> CallCounter:
    counter = CallCounter()
    await counter.run(work())
    return counter


async def test_inspect_and_list(canned: str) -> None:
    async with Docker(canned) as docker:
        cid = "a" * 64
        await docker.containers.inspect(cid)  # warm-up: negotiation, the pool's connection
        await docker.containers.list(all=True)
        inspect = await counted(lambda: docker.containers.inspect(cid))
        listing = await counted(lambda: docker.containers.list(all=True))
    check("inspect", inspect.total, inspect.calls)
    check("list", listing.total, listing.calls)


def mock_stream(chunks: list[bytes], content_type: str) -> MockTransport:
    def handler(request: HTTPRequest) -> MockResponse:
        return MockResponse(headers={"Content-Type": content_type}, chunks=chunks)

    return MockTransport(handler)


async def marginal(
    make: Callable[[int], MockTransport], consume: Callable[[Docker], Awaitable[int]]
) -> tuple[float, Counter[str]]:
    """Calls per item: the calls for 2N items less those for N, over N."""
    counts: list[CallCounter] = []
    for n in (STREAM_ITEMS, 2 * STREAM_ITEMS):
        async with Docker(api_version="1.41", transport=make(n)) as docker:
            assert await consume(docker) == n  # warm-up: first-use imports
            counter = CallCounter(resumptions=True)
            assert await counter.run(consume(docker)) == n
            counts.append(counter)
    small, large = counts
    return (large.total - small.total) / STREAM_ITEMS, large.calls - small.calls


async def test_one_event() -> None:
    events = scale_events(load("events.http"), 2 * STREAM_ITEMS)

    async def consume(docker: Docker) -> int:
        return sum([1 async for _ in docker.system.events()])

    calls, where = await marginal(lambda n: mock_stream(events[:n], "application/json"), consume)
    check("event", calls, where)


async def test_one_log_frame() -> None:
    frames = scale_frames(load("logs.http"), 1 << 20)[: 2 * STREAM_ITEMS]
    assert len(frames) == 2 * STREAM_ITEMS

    async def consume(docker: Docker) -> int:
        return sum([1 async for _ in docker.containers.logs("c", stdout=True, stderr=True)])

    calls, where = await marginal(
        lambda n: mock_stream(frames[:n], "application/vnd.docker.multiplexed-stream"), consume
    )
    check("log frame", calls, where)
