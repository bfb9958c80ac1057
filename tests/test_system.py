"""docker.system and connecting, against the real daemon."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time

import anyio
import pytest

from aiodockerapi import Docker, DockerConnectionError
from aiodockerapi.models import EventMessage

from .conftest import DAEMON_API, container_config
from .sandbox import ENGINE_VERSION, Sandbox

pytestmark = pytest.mark.daemon


async def test_ping_and_version(docker: Docker) -> None:
    ping = await docker.system.ping()
    assert ping.api_version == DAEMON_API
    assert ping.os_type == "linux"
    head = await docker.system.ping_head()
    assert head.api_version == DAEMON_API

    version = await docker.system.version()
    assert version.api_version == DAEMON_API
    engine = ".".join(map(str, ENGINE_VERSION))  # the flavour's release, e.g. "28.5"
    assert version.version.startswith(engine + ".")
    assert version.os == "linux"
    assert docker.api_version == DAEMON_API


async def test_info_counts_containers(docker: Docker, image: str, label: str) -> None:
    before = await docker.system.info()
    created = await docker.containers.create(
        container_config(image, "sleep", "60", Labels={"aiodockerapi.test": label})
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        after = await docker.system.info()
        assert after.containers == (before.containers or 0) + 1
        assert after.containers_running == (before.containers_running or 0) + 1
        assert after.images is not None and after.images >= 1
        assert after.os_type == "linux"
        assert after.docker_root_dir and after.docker_root_dir.endswith("/data")
    finally:
        await docker.containers.delete(created.id, force=True)


async def test_data_usage(docker: Docker, image: str) -> None:
    usage = await docker.system.data_usage()
    assert any(image in (i.repo_tags or []) for i in usage.images or [])
    assert usage.layers_size is not None and usage.layers_size > 0


async def test_events_by_type_and_container_within_since_until(
    docker: Docker, image: str, label: str
) -> None:
    since = dt.datetime.now(dt.timezone.utc)
    created = await docker.containers.create(
        container_config(image, "true", Labels={"aiodockerapi.test": label})
    )
    cid = created.id
    assert cid is not None
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    await docker.containers.delete(cid)
    until = time.time() + 0.5
    await asyncio.sleep(0.6)

    events = [
        ev
        async for ev in docker.system.events(
            since=since, until=until, filters={"type": "container", "container": cid}
        )
    ]
    assert [ev.action for ev in events] == ["create", "start", "die", "destroy"]
    for ev in events:
        assert ev.type == "container"
        assert ev.actor is not None and ev.actor.id == cid
        assert ev.actor.attributes is not None
        assert ev.actor.attributes["aiodockerapi.test"] == label
        assert ev.actor.attributes["image"] == image
        assert ev.time_nano is not None
        assert since.timestamp() * 1e9 <= ev.time_nano <= until * 1e9
    die = events[2]
    assert die.actor is not None and die.actor.attributes is not None
    assert die.actor.attributes["exitCode"] == "0"

    # Filtered by type only: other types (the image's, networks') are left out.
    typed = [
        ev.type
        async for ev in docker.system.events(
            since=since, until=until, filters={"type": ["network", "image"]}
        )
    ]
    assert "container" not in typed

    # The same events in lists, as the connection's reads completed them.
    batches = [
        batch
        async for batch in docker.system.event_batches(
            since=since, until=until, filters={"type": "container", "container": cid}
        )
    ]
    assert batches and all(batches)
    assert [ev for batch in batches for ev in batch] == events


async def test_events_follow_live(docker: Docker, image: str, label: str) -> None:
    received: list[EventMessage] = []
    ready = asyncio.Event()

    async def watch() -> None:
        stream = docker.system.events(filters={"label": f"aiodockerapi.test={label}"})
        ready.set()
        async for ev in stream:
            received.append(ev)
            if ev.action == "destroy":
                return

    watcher = asyncio.create_task(watch())
    await ready.wait()
    await asyncio.sleep(0.3)  # let the stream's request reach the daemon
    created = await docker.containers.create(
        container_config(image, "true", Labels={"aiodockerapi.test": label})
    )
    assert created.id is not None
    await docker.containers.delete(created.id)
    await asyncio.wait_for(watcher, 10)
    assert [ev.action for ev in received] == ["create", "destroy"]


async def test_docker_host_from_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", sandbox.unix_url)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    async with Docker() as docker:
        assert docker.host == sandbox.unix_url
        assert (await docker.system.ping()).api_version == DAEMON_API


async def test_unreachable_socket_names_the_path(tmp_path: object) -> None:
    path = f"{tmp_path}/missing/docker.sock"
    async with Docker(f"unix://{path}") as docker:
        with pytest.raises(DockerConnectionError, match=path):
            await docker.system.info()


async def test_unreachable_tcp_port_names_the_host() -> None:
    async with Docker("tcp://127.0.0.1:9") as docker:
        with pytest.raises(DockerConnectionError, match=r"127\.0\.0\.1:9"):
            await docker.system.version()


def test_bad_docker_host_is_rejected_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ftp://x")
    with pytest.raises(ValueError, match="ftp://x"):
        Docker()


async def test_malformed_filter_is_rejected_before_any_request(tmp_path: object) -> None:
    # The socket does not exist: a request would raise DockerConnectionError instead.
    async with Docker(f"unix://{tmp_path}/none.sock") as docker:
        with pytest.raises(ValueError, match="filter 'label'"):
            await docker.containers.list(filters={"label": 3.5})
        with pytest.raises(ValueError, match="filters must be a mapping"):
            docker.system.events(filters=["type=container"])  # type: ignore[arg-type]


async def test_concurrent_first_requests_share_one_negotiation(sandbox: Sandbox) -> None:
    async with Docker(sandbox.unix_url) as docker:
        assert docker.api_version is None
        results = await asyncio.gather(*(docker.system.info() for _ in range(20)))
        assert all(r.id == results[0].id for r in results)
        assert docker.api_version == DAEMON_API


def open_sockets() -> int:
    """This process's open sockets."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # listdir's own descriptor
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


async def sockets_back_to(before: int) -> int:
    """Open sockets once the loop has run the closes already scheduled (a few turns)."""
    for _ in range(100):
        if open_sockets() <= before:
            break
        await asyncio.sleep(0.01)
    return open_sockets()


async def test_anyio_cancel_scope_ends_a_stream_and_closes_its_socket(
    sandbox: Sandbox,
) -> None:
    async with Docker(sandbox.unix_url, pool_size=1) as docker:
        await docker.system.version()
        before = open_sockets()
        received = []
        with anyio.move_on_after(0.5) as scope:
            async for ev in docker.system.events():
                received.append(ev)
        assert scope.cancelled_caught
        assert received == []
        assert await sockets_back_to(before) <= before  # a leaked socket would add one
        with anyio.fail_after(10):
            assert (await docker.system.version()).api_version == DAEMON_API


async def test_asyncio_timeout_around_a_stream(sandbox: Sandbox) -> None:
    async with Docker(sandbox.unix_url, pool_size=1) as docker:
        await docker.system.version()
        before = open_sockets()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                async for _ in docker.system.events():
                    pass
        assert await sockets_back_to(before) <= before  # a leaked socket would add one
        async with asyncio.timeout(10):
            assert (await docker.system.info()).os_type == "linux"


async def test_followed_streams_leave_the_pool_to_calls(
    sandbox: Sandbox, image: str, label: str
) -> None:
    """Three followed streams and a pool of one: requests still go through meanwhile."""
    async with Docker(sandbox.unix_url, pool_size=1) as docker:
        since = time.time() - 1
        created = await docker.containers.create(
            container_config(
                image, "sh", "-c", "echo up; sleep 30", Labels={"aiodockerapi.test": label}
            )
        )
        assert created.id is not None
        cid = created.id
        await docker.containers.start(cid)
        events = docker.system.events(since=since, filters={"label": f"aiodockerapi.test={label}"})
        logs = docker.containers.logs(cid, stdout=True, follow=True)
        stats = docker.containers.stats(cid)
        try:
            with anyio.fail_after(20):
                assert (await anext(logs)).data == b"up\n"
                assert (await anext(stats)).id == cid
                assert (await anext(events)).action == "create"
                assert (await docker.containers.inspect(cid)).state.running  # type: ignore[union-attr]
                assert (await anext(events)).action == "start"
        finally:
            for stream in (events, logs, stats):
                await stream.aclose()
            await docker.containers.delete(cid, force=True)


async def test_times_as_durations_and_rfc3339(docker: Docker, image: str, label: str) -> None:
    created = await docker.containers.create(
        container_config(image, "echo", "timed", Labels={"aiodockerapi.test": label})
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        await asyncio.sleep(1.1)  # "1s" ago must be after the container's output
        now = dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        actions = [
            ev.action
            async for ev in docker.system.events(
                since="10m", until=now, filters={"container": created.id}
            )
        ]
        assert actions == ["create", "start", "die"]
        recent = [f.data async for f in docker.containers.logs(created.id, stdout=True, since="1h")]
        assert recent == [b"timed\n"]
        assert [f async for f in docker.containers.logs(created.id, stdout=True, since="1s")] == []
        with pytest.raises(ValueError, match="'yesterday'"):
            docker.system.events(since="yesterday")
    finally:
        await docker.containers.delete(created.id, force=True)


async def test_changes_of_an_unchanged_container_is_empty(docker: Docker, image: str) -> None:
    created = await docker.containers.create(container_config(image, "true"))
    assert created.id is not None
    try:
        assert await docker.containers.changes(created.id) == []
    finally:
        await docker.containers.delete(created.id)
