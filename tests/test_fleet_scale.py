"""Fleet at scale, against canned daemons on unix sockets in this process (no dockerd).

Each daemon replays benchmarks/canned.py's recorded responses; the server counts what it
sees (requests in flight across all sockets, connections open, bytes sent), so the tests
assert behaviour, not timings.
"""

from __future__ import annotations

import asyncio
import email.utils
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import msgspec
import pytest

from aiodockerapi import Docker, DockerConnectionError, Fleet, HostEvent
from aiodockerapi.models import EventMessage
from benchmarks.canned import Canned
from benchmarks.recorded import PAYLOADS

HOSTS = 200


@dataclass
class Fleetd:
    """Many canned daemons served by one asyncio server per socket."""

    canned: Canned
    delay: float = 0.0  # before each answer, so that requests overlap
    stalled: set[str] = field(default_factory=set)  # socket paths that accept, never answer
    in_flight: int = 0
    peak: int = 0
    connections: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # body bytes written, per socket
    idle: asyncio.Event = field(default_factory=asyncio.Event)  # no connection open

    async def serve(self, path: str, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.idle.clear()
        try:
            if path in self.stalled:
                await reader.read()  # until the client gives up
                return
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                method, target, _ = head.decode("latin-1").split("\r\n", 1)[0].split(" ", 2)
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                try:
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    resp = self.canned.route(method, target)
                    date = email.utils.formatdate(usegmt=True).encode()
                    w.write(resp.head + b"\r\nDate: " + date + b"\r\n\r\n")
                    body = memoryview(resp.body if method != "HEAD" else b"")
                    for start in range(0, len(body), 1 << 16):
                        w.write(body[start : start + (1 << 16)])
                        await w.drain()
                        self.sent[path] = self.sent.get(path, 0) + len(body[start:][: 1 << 16])
                finally:
                    self.in_flight -= 1
        except ConnectionError:
            return
        finally:
            self.connections -= 1
            if not self.connections:
                self.idle.set()
            w.close()


@pytest.fixture(scope="module")
def sockets() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="fleet-", dir="/tmp"))  # short unix socket paths
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def canned() -> Canned:
    return Canned(PAYLOADS, events=500, containers=20, logs_bytes=0)


def expected_events(canned: Canned) -> list[EventMessage]:
    """The events every canned daemon sends, in its order."""
    lines = [line for line in canned.events.body.split(b"\r\n") if line.startswith(b"{")]
    return [msgspec.json.decode(line, type=EventMessage) for line in lines]


@asynccontextmanager
async def serving(fleetd: Fleetd, directory: Path, count: int) -> AsyncIterator[list[str]]:
    """`count` daemons listening on unix sockets; their URLs."""
    paths = [str(directory / f"d{i}.sock") for i in range(count)]
    servers = []
    try:
        for path in paths:

            async def serve(
                r: asyncio.StreamReader, w: asyncio.StreamWriter, p: str = path
            ) -> None:
                await fleetd.serve(p, r, w)

            servers.append(await asyncio.start_unix_server(serve, path=path))
        yield [f"unix://{path}" for path in paths]
    finally:
        for server in servers:
            server.close()
        remove(paths)


def remove(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


async def test_run_over_200_hosts_never_exceeds_the_limit(sockets: Path, canned: Canned) -> None:
    fleetd = Fleetd(canned, delay=0.02)
    async with serving(fleetd, sockets, HOSTS) as urls, Fleet(urls, limit=16, timeout=60) as fleet:
        results = await fleet.run(lambda docker: docker.containers.list(all=True))
    assert list(results) == urls
    assert all(r.ok and r.value is not None and len(r.value) == 20 for r in results.values())
    assert 1 < fleetd.peak <= 16, "hosts worked at once, never more than the limit"


async def test_a_stalled_host_delays_no_other(sockets: Path, canned: Canned) -> None:
    fleetd = Fleetd(canned)
    async with serving(fleetd, sockets, HOSTS) as urls:
        stalled = urls[0]
        fleetd.stalled.add(stalled.removeprefix("unix://"))
        finished: list[str] = []
        others_done_when_stalled_ended: list[int] = []

        async def work(docker: Docker) -> str:
            try:
                version = await docker.system.version()
            finally:
                if docker.host == stalled:
                    others_done_when_stalled_ended.append(len(finished))
            finished.append(docker.host)
            return version.api_version or ""

        async with Fleet(urls, limit=20, timeout=5) as fleet:
            results = await fleet.run(work)
    assert isinstance(results[stalled].error, TimeoutError)
    others = [r for name, r in results.items() if name != stalled]
    assert len(others) == HOSTS - 1 and all(r.ok and r.value == "1.41" for r in others)
    # Holding one of the 20 slots, the stalled host kept none of the others waiting on it.
    assert others_done_when_stalled_ended == [HOSTS - 1]


async def test_merged_events_over_200_hosts(sockets: Path, canned: Canned) -> None:
    fleetd = Fleetd(canned)
    expected = expected_events(canned)
    received: dict[str, list[EventMessage]] = {}
    async with serving(fleetd, sockets, HOSTS) as urls, Fleet(urls, limit=16) as fleet:
        with anyio.fail_after(120):
            async with fleet.events() as events:
                async for item in events:
                    assert item.error is None and item.event is not None
                    received.setdefault(item.host, []).append(item.event)
    assert sorted(received) == sorted(urls)
    for events_of_one in received.values():
        assert events_of_one == expected  # all of them, in the host's order


async def test_a_slow_consumer_holds_the_daemons_back(sockets: Path) -> None:
    big = Canned(PAYLOADS, events=20_000, containers=1, logs_bytes=0)
    fleetd = Fleetd(big)
    expected = expected_events(big)
    body = len(big.events.body)
    received: dict[str, list[EventMessage]] = {}
    async with serving(fleetd, sockets, 3) as urls, Fleet(urls) as fleet:
        with anyio.fail_after(120):
            async with fleet.events(buffer=64) as events:
                async for item in events:
                    assert item.event is not None
                    received.setdefault(item.host, []).append(item.event)
                    if sum(map(len, received.values())) == 10:
                        await asyncio.sleep(0.3)  # a consumer busy elsewhere
                        # Nothing read ahead without bound: each daemon is held at what its
                        # socket, one read and the buffer can take.
                        assert all(fleetd.sent.get(u[7:], 0) < body // 4 for u in urls)
    assert sorted(received) == sorted(urls)
    assert all(events_of_one == expected for events_of_one in received.values())


async def test_a_host_down_reports_once_and_the_others_go_on(sockets: Path, canned: Canned) -> None:
    fleetd = Fleetd(canned)
    down = f"unix://{sockets}/nobody.sock"
    items: list[HostEvent] = []
    async with serving(fleetd, sockets, 5) as urls, Fleet([*urls, down]) as fleet:
        with anyio.fail_after(60):
            async with fleet.events() as events:
                items = [item async for item in events]
    errors = [item for item in items if item.error is not None]
    assert len(errors) == 1 and errors[0].host == down
    assert isinstance(errors[0].error, DockerConnectionError)
    assert len(items) == 1 + 5 * 500


async def test_cancelling_the_caller_closes_every_stream(sockets: Path) -> None:
    big = Canned(PAYLOADS, events=20_000, containers=1, logs_bytes=0)
    fleetd = Fleetd(big)
    async with serving(fleetd, sockets, 20) as urls, Fleet(urls) as fleet:
        seen = 0
        with anyio.move_on_after(0.5) as scope:
            async with fleet.events(buffer=16) as events:
                async for _ in events:
                    seen += 1
                    await asyncio.sleep(0.01)
        assert scope.cancelled_caught and seen > 0
        with anyio.fail_after(30):
            await fleetd.idle.wait()  # the server sees every stream's connection closed


async def test_receive_and_aclose(sockets: Path, canned: Canned) -> None:
    fleetd = Fleetd(canned)
    async with serving(fleetd, sockets, 3) as urls, Fleet(urls) as fleet:
        with anyio.fail_after(60):
            async with fleet.events() as events:
                first = await events.receive()
                assert first.host in urls and first.event is not None
                await events.aclose()
                with pytest.raises(anyio.EndOfStream):
                    await events.receive()
                assert [item async for item in events] == []
