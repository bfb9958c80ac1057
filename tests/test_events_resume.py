"""Event streams across a real daemon restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from aiodockerapi import Conflict, Docker, DockerConnectionError, DockerError, Fleet, StreamCut
from aiodockerapi.models import EventMessage

from .conftest import DAEMON_API, TEST_IMAGE, container_config, running_sandbox
from .sandbox import ENGINE, Sandbox

pytestmark = pytest.mark.daemon


@pytest.fixture(scope="module")
def restartable() -> Iterator[Sandbox]:
    """A daemon of this module's own: restarting it must not disturb other tests."""
    with running_sandbox() as box:
        yield box


@pytest.fixture(scope="module")
async def restartable_image(restartable: Sandbox, busybox_context: Path) -> str:
    async with Docker(restartable.unix_url) as docker:
        async for _ in docker.images.build(busybox_context, t=TEST_IMAGE):
            pass
    return TEST_IMAGE


async def create_retrying(docker: Docker, image: str, name: str, label: str) -> None:
    """Create one container, riding out the daemon's restart (same name: never twice)."""
    for _ in range(600):
        try:
            await docker.containers.create(
                {"Image": image, "Cmd": ["true"], "Labels": {"resume.test": label}},
                name=name,
            )
            return
        except Conflict:
            return  # created just before the daemon went down; its answer was lost
        except (DockerConnectionError, DockerError) as exc:
            if isinstance(exc, DockerError) and exc.status is not None and exc.status < 500:
                raise
            await asyncio.sleep(0.05)
    raise AssertionError(f"could not create {name}")


async def collect_until_done(
    stream: AsyncIterator[EventMessage],
    received: list[EventMessage],
    want: int,
    a_third: asyncio.Event,
) -> None:
    async for ev in stream:
        received.append(ev)
        if len(received) >= want // 3:
            a_third.set()
        if len(received) >= want:
            return


async def test_resume_loses_and_repeats_nothing_across_a_restart(
    restartable: Sandbox, restartable_image: str, label: str
) -> None:
    count = 40
    async with Docker(restartable.unix_url) as docker:
        since = time.time()
        received: list[EventMessage] = []
        stream = docker.system.events(
            since=since,
            filters={"type": "container", "label": f"resume.test={label}"},
            resume=True,
        )
        a_third = asyncio.Event()
        watcher = asyncio.create_task(collect_until_done(stream, received, count, a_third))

        # A create still in flight as the daemon stops can be recorded without its event ever
        # leaving the daemon, whose event log lives in memory only: no client could see it.
        # So none is in flight at that instant; creating goes on while the daemon is down.
        quiet = asyncio.Lock()

        async def creator() -> None:
            for i in range(count):
                async with quiet:
                    pass
                await create_retrying(docker, restartable_image, f"resume-{label}-{i}", label)
                await asyncio.sleep(0.05)  # pace: keep creating through the whole restart

        creating = asyncio.create_task(creator())
        await asyncio.wait_for(a_third.wait(), 60)
        restart_began = time.time()
        async with quiet:
            await asyncio.to_thread(restartable.terminate)
        await asyncio.to_thread(restartable.relaunch)
        await asyncio.wait_for(creating, 120)
        await asyncio.wait_for(watcher, 60)

        # The daemon's own record: its containers (each made by one create event), and,
        # since its memory of events died with it, the events it has had since the restart.
        existing = await docker.containers.list(all=True, filters={"label": f"resume.test={label}"})
        until = time.time()
        if ENGINE == "podman":
            # Podman's file event log stops reading at `until` by a timer: one already past
            # stops it at once, before it has read the file (containers/podman#29579), and
            # the answer is empty. An `until` still ahead reads it all (ending then).
            until += 1
        after = [
            ev
            async for ev in docker.system.events(
                since=restart_began,
                until=until,
                filters={"type": "container", "label": f"resume.test={label}"},
            )
        ]
    ids = [ev.actor.id for ev in received if ev.actor is not None]
    assert [ev.action for ev in received] == ["create"] * count
    assert len(set(ids)) == count, "an event was delivered twice"
    assert set(ids) == {c.id for c in existing}, "an event was lost"
    assert after, "some containers must have been created after the restart"
    first_after = after[0].time_nano or 0
    assert [ev for ev in received if (ev.time_nano or 0) >= first_after] == after


async def test_without_resume_the_stream_raises_streamcut_when_the_daemon_goes(
    restartable: Sandbox, restartable_image: str
) -> None:
    async with Docker(restartable.unix_url) as docker:
        received: list[EventMessage] = []

        async def watch() -> None:
            async for ev in docker.system.events():
                received.append(ev)

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.3)  # the stream's request reaches the daemon
        await asyncio.to_thread(restartable.restart)
        # A stopping daemon closes the connection without ending the body: a cut.
        with pytest.raises(StreamCut):
            await asyncio.wait_for(watcher, 30)
        assert (await docker.system.ping()).api_version == DAEMON_API


class Cutter:
    """A unix-socket forwarder to the daemon that can cut the event streams through it:
    `cut()` closes them, `cut_mid_event()` passes on half of the next event's JSON and then
    closes, and while `down` is set every new connection is closed at once (an outage)."""

    def __init__(self, path: Path, daemon: Path) -> None:
        self.path, self.daemon = path, daemon
        self.down = False
        self.answered = asyncio.Event()  # an events request got its response head
        self.cut_inside = asyncio.Event()  # a stream was cut inside an event's JSON
        self._mid_event = False
        self._streams: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Cutter:
        self._server = await asyncio.start_unix_server(self._serve, str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        for writer in self._streams:
            writer.transport.abort()

    def cut_mid_event(self) -> None:
        self.cut_inside.clear()
        self._mid_event = True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up: asyncio.StreamWriter | None = None
        try:
            if self.down:
                return
            up_reader, up = await asyncio.open_unix_connection(str(self.daemon))
            head = await reader.readuntil(b"\r\n\r\n")
            up.write(head)
            events = b"/events" in head.split(b"\r\n", 1)[0]
            if events:
                self._streams.add(writer)
            await asyncio.gather(
                self._pipe(reader, up), self._answer(up_reader, writer, events=events)
            )
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(writer)
            if up is not None:
                up.transport.abort()
            writer.transport.abort()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()

    async def _answer(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, events: bool
    ) -> None:
        if events:
            dst.write(await src.readuntil(b"\r\n\r\n"))
            self.answered.set()
        while chunk := await src.read(65536):
            if events and self._mid_event:
                start = chunk.find(b"{")
                end = chunk.find(b"}\n", start)
                if 0 <= start < end:  # a whole event in this read: pass on half of it
                    self._mid_event = False
                    dst.write(chunk[: (start + end) // 2])
                    await dst.drain()
                    self.cut_inside.set()
                    dst.transport.abort()
                    return
            dst.write(chunk)
            await dst.drain()


@pytest.fixture
async def cutter(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Cutter]:
    async with Cutter(tmp_path / "cut.sock", sandbox.unix_socket) as forwarder:
        yield forwarder


@pytest.fixture
async def direct(sandbox: Sandbox, label: str) -> AsyncIterator[Docker]:
    """A client straight to the daemon, which removes the test's containers at the end."""
    async with Docker(sandbox.unix_url) as docker:
        try:
            yield docker
        finally:
            for c in await docker.containers.list(
                all=True, filters={"label": f"resume.test={label}"}
            ):
                await docker.containers.delete(c.id, force=True)


async def create(docker: Docker, image: str, label: str) -> str:
    created = await docker.containers.create(
        container_config(image, "true", Labels={"resume.test": label})
    )
    assert created.id is not None
    return created.id


class Watch:
    """A resumable event stream of the test's containers, through the cutter, collected."""

    def __init__(self, docker: Docker, label: str) -> None:
        self.received: list[str] = []
        self._arrived = asyncio.Event()
        stream = docker.system.events(
            filters={"type": "container", "event": "create", "label": f"resume.test={label}"},
            resume=True,
        )
        self._stream = stream
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for ev in self._stream:
            assert ev.actor is not None and ev.actor.id
            self.received.append(ev.actor.id)
            self._arrived.set()

    async def seen(self, ids: list[str]) -> None:
        """Wait (bounded) until every one of `ids` has arrived."""
        with anyio.fail_after(60):
            while not set(ids) <= set(self.received):
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._stream.aclose()


async def outage(cutter: Cutter, direct: Docker, image: str, label: str, count: int) -> list[str]:
    """Cut the streams, keep the cutter down while `count` containers are created, and
    bring it back."""
    cutter.down = True
    cutter.cut()
    ids = [await create(direct, image, label) for _ in range(count)]
    cutter.down = False
    return ids


async def test_resume_after_an_outage_before_the_first_event(
    cutter: Cutter, direct: Docker, image: str, label: str
) -> None:
    """No `since` and no event yet when the stream drops: the resumed stream starts at the
    daemon's time of the first connection, so what was created meanwhile is all seen."""
    async with Docker(f"unix://{cutter.path}") as docker:
        watch = Watch(docker, label)
        try:
            await asyncio.wait_for(cutter.answered.wait(), 30)
            during = await outage(cutter, direct, image, label, 5)
            last = await create(direct, image, label)  # after the outage: the stream is back
            await watch.seen([*during, last])
            assert watch.received == [*during, last]
        finally:
            await watch.close()


async def test_resume_after_an_outage_between_events(
    cutter: Cutter, direct: Docker, image: str, label: str
) -> None:
    async with Docker(f"unix://{cutter.path}") as docker:
        watch = Watch(docker, label)
        try:
            await asyncio.wait_for(cutter.answered.wait(), 30)
            before = [await create(direct, image, label) for _ in range(3)]
            await watch.seen(before)
            during = await outage(cutter, direct, image, label, 5)
            last = await create(direct, image, label)
            await watch.seen([*during, last])
            assert watch.received == [*before, *during, last]
        finally:
            await watch.close()


async def test_resume_after_a_cut_inside_an_event(
    cutter: Cutter, direct: Docker, image: str, label: str
) -> None:
    """The connection ends halfway through an event's JSON: that event is delivered once,
    whole, from the resumed stream, with those of the outage that followed."""
    async with Docker(f"unix://{cutter.path}") as docker:
        watch = Watch(docker, label)
        try:
            await asyncio.wait_for(cutter.answered.wait(), 30)
            first = await create(direct, image, label)
            await watch.seen([first])
            cutter.cut_mid_event()
            cutter.down = True
            halved = await create(direct, image, label)
            await asyncio.wait_for(cutter.cut_inside.wait(), 30)
            during = [await create(direct, image, label) for _ in range(3)]
            cutter.down = False
            last = await create(direct, image, label)
            await watch.seen([halved, *during, last])
            assert watch.received == [first, halved, *during, last]
        finally:
            await watch.close()


async def test_fleet_events_resume_after_an_outage_before_the_first_event(
    cutter: Cutter, direct: Docker, image: str, label: str
) -> None:
    """Fleet.events(resume=True) follows each host with the same resumable stream."""
    received: list[str] = []
    filters = {"type": "container", "event": "create", "label": f"resume.test={label}"}
    async with Fleet([f"unix://{cutter.path}"]) as fleet:
        with anyio.fail_after(60):
            async with fleet.events(filters=filters, resume=True) as events:
                await cutter.answered.wait()
                during = await outage(cutter, direct, image, label, 5)
                last = await create(direct, image, label)
                async for item in events:
                    assert item.error is None and item.event is not None
                    assert item.event.actor is not None and item.event.actor.id
                    received.append(item.event.actor.id)
                    if item.event.actor.id == last:
                        break
    assert received == [*during, last]
