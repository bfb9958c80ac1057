"""ssh:// hosts against a real sshd on 127.0.0.1 and the test daemon behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from aiodockerapi import Docker, DockerConnectionError

from .conftest import DAEMON_API, container_config
from .sandbox import Sandbox
from .sshd import SSHServer, running_sshd

pytestmark = pytest.mark.daemon


@pytest.fixture(scope="module")
def sshd(sandbox: Sandbox) -> Iterator[SSHServer]:
    with running_sshd(sandbox.unix_url) as server:
        yield server


async def test_requests_streams_and_exec_over_ssh(
    sshd: SSHServer, sandbox: Sandbox, image: str, label: str
) -> None:
    async with Docker(sshd.url, ssh_options=sshd.options) as docker:
        assert (await docker.system.version()).api_version == DAEMON_API
        info = await docker.system.info()
        async with Docker(sandbox.unix_url) as local:
            assert info.id == (await local.system.info()).id  # the same daemon

        created = await docker.containers.create(
            container_config(image, "sh", "-c", "echo via ssh", Labels={"aiodockerapi.test": label})
        )
        assert created.id is not None
        await docker.containers.start(created.id)
        assert (await docker.containers.wait(created.id)).status_code == 0
        frames = [f.data async for f in docker.containers.logs(created.id, stdout=True)]
        assert frames == [b"via ssh\n"]
        await docker.containers.delete(created.id)

        running = await docker.containers.create(
            container_config(image, "sleep", "60", Labels={"aiodockerapi.test": label})
        )
        assert running.id is not None
        await docker.containers.start(running.id)
        result = await docker.exec.run(running.id, ["cat"], stdin=b"stdin over ssh")
        assert result.stdout == b"stdin over ssh" and result.exit_code == 0
        await docker.containers.delete(running.id, force=True)


async def test_exec_sessions_beyond_the_pool_over_ssh(
    sshd: SSHServer, image: str, label: str
) -> None:
    """Each exec is a hijacked connection (an ssh session of its own, outside the pool's 8):
    14 at once, next to a pool kept busy, all complete."""
    async with Docker(sshd.url, ssh_options=sshd.options) as docker:
        created = await docker.containers.create(
            container_config(image, "sleep", "120", Labels={"aiodockerapi.test": label})
        )
        assert created.id is not None
        await docker.containers.start(created.id)
        try:
            runs = [
                docker.exec.run(created.id, ["sh", "-c", f"sleep 1; echo {n}"]) for n in range(14)
            ]
            calls = [docker.system.info() for _ in range(16)]
            results = await asyncio.wait_for(asyncio.gather(*runs, *calls), 120)
            outputs = [r.stdout for r in results[:14]]  # type: ignore[union-attr]
            assert outputs == [f"{n}\n".encode() for n in range(14)]
        finally:
            await docker.containers.delete(created.id, force=True)


async def test_one_login_for_many_concurrent_requests(sshd: SSHServer) -> None:
    before = sshd.logins()
    async with Docker(sshd.url, ssh_options=sshd.options) as docker:
        results = await asyncio.gather(*(docker.system.ping() for _ in range(30)))
        assert all(r.api_version == DAEMON_API for r in results)
        versions = await asyncio.gather(*(docker.system.version() for _ in range(30)))
        assert {v.api_version for v in versions} == {DAEMON_API}
    assert sshd.logins() - before == 1


async def test_an_unknown_key_fails_clearly(sshd: SSHServer, tmp_path: object) -> None:
    options = [o for o in sshd.options]
    options[options.index(str(sshd.key))] = f"{tmp_path}/missing-key"
    async with Docker(sshd.url, ssh_options=options) as docker:
        with pytest.raises(DockerConnectionError, match="Permission denied") as caught:
            await asyncio.wait_for(docker.system.ping(), 20)
    assert "127.0.0.1" in str(caught.value)


def test_a_bad_ssh_url_is_rejected() -> None:
    with pytest.raises(ValueError, match="path"):
        Docker("ssh://root@127.0.0.1/some/path")
