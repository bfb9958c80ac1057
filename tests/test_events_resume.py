"""Event streams across a real daemon restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiodockerapi import Conflict, Docker, DockerConnectionError, DockerError, StreamCut
from aiodockerapi.models import EventMessage

from .conftest import DAEMON_API, TEST_IMAGE, running_sandbox
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
