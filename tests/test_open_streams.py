"""Streams connected on purpose: `async with` a stream subscribes before its block runs, so
what the block does is seen; `async for` alone still connects on the first item."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest

from aiodockerapi import BadRequest, Docker, NotFound
from aiodockerapi.models import EventMessage, StreamType
from aiodockerapi.testing import HTTPRequest, MockResponse, MockTransport

from .conftest import container_config
from .sandbox import ENGINE

pytestmark = pytest.mark.asyncio


async def test_events_in_async_with_see_what_the_block_does(
    docker: Docker, image: str, label: str
) -> None:
    # aiodocker's example, ported: subscribe, create and start a container, then iterate.
    filters = {"label": f"aiodockerapi.test={label}", "type": "container"}
    async with docker.system.events(filters=filters) as events:
        created = await docker.containers.create(
            container_config(image, "true", Labels={"aiodockerapi.test": label})
        )
        assert created.id is not None
        try:
            await docker.containers.start(created.id)
            seen: list[EventMessage] = []
            async with asyncio.timeout(30):
                async for ev in events:
                    seen.append(ev)
                    if ev.action == "start":
                        break
        finally:
            await docker.containers.delete(created.id, force=True)
    # Podman sends an "init" between them.
    assert [ev.action for ev in seen if ev.action in ("create", "start")] == ["create", "start"]
    assert {ev.actor.id for ev in seen if ev.actor is not None} == {created.id}


async def test_followed_logs_in_async_with_see_the_first_line(docker: Docker, image: str) -> None:
    # The container prints "old", then "first" once /go exists. With tail=0 the logs hold
    # only what comes after the daemon took the request: "first" is seen only if the logs
    # were connected before /go was made.
    script = "echo old; while [ ! -e /go ]; do sleep 0.05; done; echo first; sleep 60"
    async with docker.containers.running(container_config(image, "sh", "-c", script)) as cid:
        async with asyncio.timeout(30):
            async for _ in docker.containers.logs(cid, follow=True):
                break  # "old" is written
        go = docker.exec.run(cid, ["touch", "/go"])
        if ENGINE == "podman":
            # Podman sends a followed log's response head with its first line: entering
            # waits for output, so the line is caused from a task of its own.
            touching = asyncio.ensure_future(go)
        async with asyncio.timeout(30), docker.containers.logs(cid, follow=True, tail=0) as logs:
            if ENGINE != "podman":
                assert (await go).exit_code == 0
            frame = await anext(logs)
        if ENGINE == "podman":
            assert (await touching).exit_code == 0
    assert frame.stream is StreamType.STDOUT
    assert frame.data == b"first\n"


async def test_logs_without_streams_named_have_both(docker: Docker, image: str) -> None:
    result = await docker.containers.run(
        container_config(image, "sh", "-c", "echo out; echo err >&2")
    )
    assert (result.stdout, result.stderr) == (b"out\n", b"err\n")
    created = await docker.containers.create(
        container_config(image, "sh", "-c", "echo out; echo err >&2")
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        frames = [f async for f in docker.containers.logs(created.id)]
        only_err = [f async for f in docker.containers.logs(created.id, stdout=False)]
        only_out = [f async for f in docker.containers.logs(created.id, stdout=True)]
    finally:
        await docker.containers.delete(created.id, force=True)
    assert sorted((f.stream, f.data) for f in frames) == [
        (StreamType.STDOUT, b"out\n"),
        (StreamType.STDERR, b"err\n"),
    ]
    assert [(f.stream, f.data) for f in only_err] == [(StreamType.STDERR, b"err\n")]
    assert [(f.stream, f.data) for f in only_out] == [(StreamType.STDOUT, b"out\n")]


async def test_logs_of_neither_stream_are_refused(docker: Docker) -> None:
    with pytest.raises(ValueError, match="stdout, stderr or both"):
        docker.containers.logs("any", stdout=False, stderr=False)
    with pytest.raises(ValueError, match="stdout, stderr or both"):
        docker.services.logs("any", stdout=False, stderr=False)
    with pytest.raises(ValueError, match="stdout, stderr or both"):
        docker.tasks.logs("any", stdout=False, stderr=False)
    with pytest.raises(ValueError, match="stdout, stderr or both"):
        await docker.containers.wait_for_log("any", "x", timeout=1, stdout=False, stderr=False)


async def test_async_for_alone_connects_on_the_first_item(
    docker: Docker, image: str, label: str
) -> None:
    filters = {"label": f"aiodockerapi.test={label}"}
    created = await docker.containers.create(
        container_config(image, "true", Labels={"aiodockerapi.test": label})
    )
    assert created.id is not None
    await docker.containers.delete(created.id)
    actions: list[str | None] = []
    async with asyncio.timeout(30):
        async for ev in docker.system.events(since=0, filters=filters):
            actions.append(ev.action)
            if ev.action in ("destroy", "remove"):  # Podman's name for it
                break
    assert actions[0] == "create" and actions[-1] in ("destroy", "remove")


async def test_errors_surface_when_entering(docker: Docker) -> None:
    with pytest.raises(NotFound):
        async with docker.containers.logs("aiodockerapi-no-such-container", follow=True):
            pytest.fail("the block ran")
    with pytest.raises(NotFound):
        async with docker.containers.stats("aiodockerapi-no-such-container"):
            pytest.fail("the block ran")
    if ENGINE != "podman":  # Podman answers any /events request with a stream
        with pytest.raises(BadRequest):
            async with docker.system.events(since=2000, until=1000):
                pytest.fail("the block ran")


async def test_leaving_the_block_early_closes_the_connection(docker: Docker) -> None:
    for _ in range(3):
        async with docker.system.events() as events:
            pass
        with pytest.raises(StopAsyncIteration):
            await anext(events)
    gc.collect()  # an unclosed socket would warn here (and -W error fail the test)
    await docker.system.ping()


async def test_a_stream_is_entered_once(docker: Docker) -> None:
    async with docker.system.events() as events:
        with pytest.raises(RuntimeError, match="entered already"):
            await events.__aenter__()


# -- the mechanism, without a daemon -----------------------------------------------------

EVENT = b'{"Type":"container","Action":"start","timeNano":1}\n'


class HeldResponse(MockResponse):
    """A response whose head comes at once and whose body waits for `release`."""

    def __init__(self, release: asyncio.Event) -> None:
        super().__init__(headers={"Content-Type": "application/json"})
        self._release = release

    def chunks(self) -> AsyncIterator[bytes]:
        return self._held()

    async def _held(self) -> AsyncIterator[bytes]:
        await self._release.wait()
        yield EVENT


async def test_entering_needs_the_head_not_an_item() -> None:
    release = asyncio.Event()
    transport = MockTransport(lambda request: HeldResponse(release))
    async with Docker(api_version="1.41", transport=transport) as docker:
        stream = docker.system.events()
        assert transport.requests == []  # nothing sent before it is entered or iterated
        async with asyncio.timeout(30):
            async with stream as events:
                assert [r.target for r in transport.requests] == ["/v1.41/events"]
                release.set()
                event = await anext(events)
        assert event.action == "start"


async def test_async_for_alone_sends_on_the_first_item() -> None:
    release = asyncio.Event()
    release.set()
    transport = MockTransport(lambda request: HeldResponse(release))
    async with Docker(api_version="1.41", transport=transport) as docker:
        stream = docker.system.events()
        assert transport.requests == []
        async with asyncio.timeout(30):
            async for event in stream:
                assert event.action == "start"
        assert len(transport.requests) == 1


async def test_a_cancelled_entry_leaves_no_task_behind() -> None:
    asked = asyncio.Event()

    async def never(request: HTTPRequest) -> MockResponse:
        asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with Docker(api_version="1.41", transport=MockTransport(never)) as docker:
        before = asyncio.all_tasks()

        async def enter() -> None:
            async with docker.system.events():
                pytest.fail("the block ran")

        entering = asyncio.ensure_future(enter())
        async with asyncio.timeout(30):
            await asked.wait()
        entering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await entering
        assert asyncio.all_tasks() == before
