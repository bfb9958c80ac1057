"""A fleet of three real daemons side by side: unix, TLS over TCP, and ssh."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import anyio
import pytest

from aiodockerapi import Docker, DockerConnectionError, Fleet, HostEvent, HostFailure, TLSConfig

from .conftest import DAEMON_API, running_sandbox
from .sandbox import Sandbox
from .sshd import SSHServer, running_sshd

pytestmark = pytest.mark.daemon


@dataclass
class Three:
    unix: Sandbox
    tls: Sandbox
    ssh: Sandbox
    sshd: SSHServer


@pytest.fixture(scope="module")
def three(sandbox: Sandbox) -> Iterator[Three]:
    with (
        running_sandbox(tls=True) as tls,
        running_sandbox() as ssh,
        running_sshd(ssh.unix_url) as sshd,
    ):
        yield Three(sandbox, tls, ssh, sshd)


@pytest.fixture
async def clients(three: Three) -> AsyncIterator[list[str | Docker]]:
    assert three.tls.tcp_url is not None and three.tls.tls_files is not None
    files = three.tls.tls_files
    tls = Docker(
        three.tls.tcp_url,
        tls=TLSConfig(ca_cert=files.ca, client_cert=(files.client_cert, files.client_key)),
    )
    ssh = Docker(three.sshd.url, ssh_options=three.sshd.options)
    async with tls, ssh:
        yield [three.unix.unix_url, tls, ssh]


async def test_run_on_every_host(three: Three, clients: list[str | Docker]) -> None:
    async with Fleet(clients, limit=2, timeout=30) as fleet:
        results = await fleet.run(lambda docker: docker.system.info())
    assert list(results) == [three.unix.unix_url, three.tls.tcp_url, three.sshd.url]
    assert all(r.ok for r in results.values())
    ids = {r.value.id for r in results.values() if r.value is not None}
    assert len(ids) == 3, "three different daemons"


async def test_one_host_down_hides_no_other(
    three: Three, clients: list[str | Docker], tmp_path: object
) -> None:
    down = f"unix://{tmp_path}/stopped.sock"
    async with Fleet([*clients, down], timeout=30) as fleet:
        results = await fleet.run(lambda docker: docker.system.version())
    assert isinstance(results[down].error, DockerConnectionError)
    assert str(tmp_path) in str(results[down].error)
    others = [r for name, r in results.items() if name != down]
    assert [r.ok for r in others] == [True, True, True]
    assert {r.value.api_version for r in others if r.value} == {DAEMON_API}


async def test_per_host_timeout(three: Three, clients: list[str | Docker]) -> None:
    slow = three.sshd.url

    async def work(docker: Docker) -> str:
        if docker.host == slow:
            await anyio.sleep(30)
        return (await docker.system.ping()).api_version or ""

    started = time.monotonic()
    async with Fleet(clients, timeout=1) as fleet:
        results = await fleet.run(work)
    assert time.monotonic() - started < 10
    assert isinstance(results[slow].error, TimeoutError)
    assert [r.value for n, r in results.items() if n != slow] == [DAEMON_API, DAEMON_API]


async def test_cancelling_the_caller_cancels_every_host(clients: list[str | Docker]) -> None:
    cancelled: list[str] = []

    async def work(docker: Docker) -> None:
        try:
            await anyio.sleep(60)
        finally:
            cancelled.append(docker.host)

    async with Fleet(clients) as fleet:
        with anyio.move_on_after(0.5) as scope:
            await fleet.run(work)
    assert scope.cancelled_caught
    assert len(cancelled) == 3


@pytest.mark.parametrize("resume", [False, True])
async def test_merged_events_tagged_with_their_host(
    three: Three, clients: list[str | Docker], label: str, resume: bool
) -> None:
    received: list[HostEvent] = []
    async with Fleet(clients) as fleet:
        names = list(fleet.clients)
        volume = {"type": "volume", "volume": f"fleet-{label}"}
        async with asyncio.timeout(30), fleet.events(filters=volume, resume=resume) as events:
            made = await fleet.run(
                lambda docker: docker.volumes.create(
                    {"Name": f"fleet-{label}", "Labels": {"fleet": label}}
                )
            )
            assert all(r.ok for r in made.values())
            async for item in events:
                received.append(item)
                if len(received) == 3:
                    break
        await fleet.run(lambda docker: docker.volumes.delete(f"fleet-{label}"))
    assert sorted(e.host for e in received) == sorted(names)
    for item in received:
        assert item.error is None and item.event is not None
        assert item.event.action == "create"
        assert item.event.actor is not None and item.event.actor.id == f"fleet-{label}"


async def test_a_stopped_daemon_ends_only_its_own_events(
    three: Three, clients: list[str | Docker], tmp_path: object
) -> None:
    down = f"unix://{tmp_path}/stopped.sock"
    async with Fleet([*clients, down]) as fleet:
        async with asyncio.timeout(30), fleet.events() as events:
            first = await events.receive()
    assert first.host == down and isinstance(first.error, DockerConnectionError)
    assert isinstance(first, HostFailure) and isinstance(first, HostEvent)


async def test_a_host_failure_raised_in_the_loop_is_collected(tmp_path: object) -> None:
    """Events are invisible to the garbage collector (one is made per event); a failure is
    not: `raise item.error` makes a cycle through the item, which must still be freed."""

    async def raise_the_first(fleet: Fleet) -> weakref.ref[BaseException]:
        async with fleet.events() as events:
            async for item in events:
                try:
                    assert item.error is not None
                    raise item.error
                except DockerConnectionError as exc:
                    return weakref.ref(exc)
        raise AssertionError("no item")

    async with Fleet([f"unix://{tmp_path}/stopped.sock"]) as fleet:
        ref = await raise_the_first(fleet)
    gc.collect()
    assert ref() is None
