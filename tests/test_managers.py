"""Managers: one client over several endpoints, moving on from one that can't be reached.

The live endpoint is the session's sandbox daemon; a dead one is a socket path nobody
listens on; a daemon whose connection breaks after the request was sent is a small unix
server of the test's own (no daemon can be made to do that on demand)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import DockerConnectionError, Managers, NotFound
from aiodockerapi.http.failover import never_sent

from .sandbox import API_VERSION, Sandbox

pytestmark = pytest.mark.daemon


@pytest.fixture
async def breaker(tmp_path: Path) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A unix socket that reads each request's head, then closes the connection."""
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    path = tmp_path / "broken.sock"
    server = await asyncio.start_unix_server(handle, path)
    async with server:
        yield f"unix://{path}", heads
    await server.wait_closed()


async def test_a_refused_endpoint_is_skipped_for_reads_and_writes(
    sandbox: Sandbox, tmp_path: Path, label: str
) -> None:
    dead = f"unix://{tmp_path / 'nobody.sock'}"
    async with Managers([dead, sandbox.unix_url]) as managers:
        assert managers.host == dead  # nothing answered yet
        await managers.containers.list()
        assert managers.host == sandbox.unix_url
    # A write, first request of a fresh client: it never reached the dead one, so it moves on.
    async with Managers([dead, sandbox.unix_url], api_version=API_VERSION) as managers:
        volume = await managers.volumes.create({"Name": f"mgr-{label}"})
        assert managers.host == sandbox.unix_url
        assert (await managers.members[1].volumes.inspect(volume.name)).name == f"mgr-{label}"
        await managers.volumes.delete(volume.name)


async def test_a_broken_connection_moves_a_read_on_but_raises_a_write(
    sandbox: Sandbox, breaker: tuple[str, list[bytes]], label: str
) -> None:
    broken, heads = breaker
    async with Managers([broken, sandbox.unix_url], api_version=API_VERSION) as managers:
        with pytest.raises(DockerConnectionError) as raised:
            await managers.volumes.create({"Name": f"mgr-{label}"})
        assert not never_sent(raised.value)
        assert [h.split(b" ")[:2] for h in heads] == [
            [b"POST", f"/v{API_VERSION}/volumes/create".encode()]
        ]
        with pytest.raises(NotFound):
            await managers.volumes.inspect(f"mgr-{label}")  # sent on to the sandbox
        assert managers.host == sandbox.unix_url

    heads.clear()
    async with Managers([broken, sandbox.unix_url], api_version=API_VERSION) as managers:
        version = await managers.system.version()
        assert version.api_version == API_VERSION
        # Sent to the broken one first (the pool may resend a read there once itself).
        assert heads and all(h.startswith(f"GET /v{API_VERSION}/version ".encode()) for h in heads)
        assert managers.host == sandbox.unix_url


async def test_no_endpoint_answering_names_each_failure(tmp_path: Path) -> None:
    dead = [f"unix://{tmp_path / f'nobody{i}.sock'}" for i in range(2)]
    async with Managers(dead) as managers:
        with pytest.raises(DockerConnectionError, match=r"no endpoint answered \(2 tried\)") as e:
            await managers.system.ping()
        assert str(tmp_path / "nobody0.sock") in str(e.value)
        assert str(tmp_path / "nobody1.sock") in str(e.value)
        # How the failover knows a request reached no daemon: http/errors.py's wording.
        assert e.value.__cause__ is not None and never_sent(e.value.__cause__)


def test_managers_checks_its_hosts() -> None:
    with pytest.raises(ValueError, match="non-empty list"):
        Managers("unix:///var/run/docker.sock")
    with pytest.raises(ValueError, match="non-empty list"):
        Managers([])
