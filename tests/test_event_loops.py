"""A client used from a second event loop, as pytest fixtures do: made and used in one
asyncio.run(), used again in another. It works there, and the first loop's connections are
closed as that loop ends, without a warning (the suite runs with -W error)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable

import pytest

from aiodockerapi import ClientClosed, Docker, TLSConfig

from .sandbox import Sandbox


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def two_loops(make: Callable[[], Docker]) -> None:
    """Ping in one loop; ping, list and follow a stream in a second; close there."""
    holder: list[Docker] = []
    before = open_fds()

    async def first() -> None:
        docker = make()
        holder.append(docker)
        await docker.system.ping()
        assert len(open_fds() - before) >= 1  # its pooled connection

    async def second() -> None:
        docker = holder[0]
        await docker.system.ping()
        await docker.containers.list(all=True)
        async with asyncio.timeout(30):
            events = [ev async for ev in docker.system.events(since=0, until=1)]
        assert events == []
        await docker.close()

    asyncio.run(first(), debug=True)
    gc.collect()
    assert open_fds() - before == set()  # the first loop's end closed its connection
    asyncio.run(second(), debug=True)
    gc.collect()
    assert open_fds() - before == set()


def test_a_second_loop_over_the_unix_socket(sandbox: Sandbox) -> None:
    two_loops(lambda: Docker(sandbox.unix_url))


def test_a_second_loop_over_tls(sandbox: Sandbox) -> None:
    assert sandbox.tcp_url is not None and sandbox.tls_files is not None
    files = sandbox.tls_files
    tls = TLSConfig(ca_cert=files.ca, client_cert=(files.client_cert, files.client_key))
    url = sandbox.tcp_url
    two_loops(lambda: Docker(url, tls=tls))


def test_each_loop_gets_its_own_connections(sandbox: Sandbox) -> None:
    """Three loops in turn, the client closed in none but the last: no warning either."""
    docker = Docker(sandbox.unix_url)

    async def ping() -> None:
        assert (await docker.system.ping()).api_version

    for _ in range(3):
        asyncio.run(ping(), debug=True)
        gc.collect()
    asyncio.run(docker.close())


@pytest.mark.asyncio
async def test_a_closed_client_stays_closed(sandbox: Sandbox) -> None:
    docker = Docker(sandbox.unix_url)
    await docker.system.ping()
    await docker.close()
    with pytest.raises(ClientClosed, match="the client was closed"):
        await docker.system.ping()
