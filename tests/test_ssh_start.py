"""The ssh tunnel's start is single-flight: concurrent first calls over ssh:// share one
login; a failed or stalled one fails them all (within their timeout), and the next call
logs in afresh. Against the sshd fixture (its log tells the logins apart) and a silent
TCP listener standing for a host whose sshd never answers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, DockerConnectionError, DockerTimeoutError

from .conftest import DAEMON_API
from .sandbox import Sandbox
from .sshd import SSHServer, running_sshd
from .test_single_flight import CALLERS, TIMEOUT, assert_timed_out_together, timed


@pytest.fixture(scope="module")
def sshd(sandbox: Sandbox) -> Iterator[SSHServer]:
    with running_sshd(sandbox.unix_url) as server:
        yield server


def refused_logins(sshd: SSHServer) -> int:
    """How many login attempts sshd has refused so far."""
    return sshd.log.read_text(errors="replace").count("closed by authenticating user")


async def refused_logins_reach(sshd: SSHServer, count: int) -> int:
    """refused_logins, once it reaches `count` (sshd logs a moment after the client
    hears), or after 5 s."""
    for _ in range(100):
        if refused_logins(sshd) >= count:
            break
        await asyncio.sleep(0.05)
    return refused_logins(sshd)


@pytest.mark.daemon
async def test_concurrent_first_calls_over_ssh_share_one_tunnel_start(sshd: SSHServer) -> None:
    logins = sshd.logins()
    async with Docker(sshd.url, ssh_options=sshd.options) as docker:
        answers = await asyncio.wait_for(
            asyncio.gather(*(docker.system.version() for _ in range(CALLERS))), 60
        )
        assert {a.api_version for a in answers} == {DAEMON_API}
    assert sshd.logins() - logins == 1  # its sessions all went over that one login


@pytest.mark.daemon
async def test_a_failed_tunnel_start_fails_every_caller_and_the_next_call_tries_again(
    sshd: SSHServer, tmp_path: Path
) -> None:
    options = list(sshd.options)
    options[options.index(str(sshd.key))] = str(tmp_path / "missing-key")
    before = refused_logins(sshd)
    async with Docker(sshd.url, ssh_options=options) as docker:
        results = await asyncio.wait_for(
            asyncio.gather(
                *(docker.system.version() for _ in range(CALLERS)), return_exceptions=True
            ),
            60,
        )
        assert all(
            isinstance(r, DockerConnectionError) and "Permission denied" in str(r) for r in results
        ), results
        assert await refused_logins_reach(sshd, before + 1) == before + 1  # one, for all ten
        with pytest.raises(DockerConnectionError, match="Permission denied"):
            await asyncio.wait_for(docker.system.version(), 30)
        assert await refused_logins_reach(sshd, before + 2) == before + 2  # tried again


class SilentListener:
    """A TCP port on 127.0.0.1 that accepts and never says a word: an ssh client that
    reaches it waits for the server's greeting. It counts the connections made, and when
    each was given up."""

    def __init__(self) -> None:
        self.connections = 0
        self.connected = asyncio.Event()
        self.gone = asyncio.Event()  # a connection was closed by the client
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> SilentListener:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.connected.set()
        self._writers.add(writer)
        try:
            await reader.read()
        finally:
            self.gone.set()
            self._writers.discard(writer)
            writer.close()


SILENT_SSH = [
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
]


async def test_a_stalled_ssh_login_fails_every_caller_within_their_timeout() -> None:
    """The tunnel's start counts against each request's timeout: ten first calls share one
    login, which never completes; each gives up after its timeout, the abandoned login is
    ended (its ssh killed), and the next call logs in afresh."""
    loop = asyncio.get_running_loop()
    async with SilentListener() as silent:
        url = f"ssh://root@127.0.0.1:{silent.port}"
        async with Docker(url, ssh_options=SILENT_SSH, timeout=TIMEOUT) as docker:
            began = loop.time()
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(timed(docker.system.version(), loop) for _ in range(CALLERS))),
                10 * TIMEOUT,
            )
            assert_timed_out_together(outcomes, began)
            assert silent.connections == 1
            # The ssh client was stopped, closing its connection.
            await asyncio.wait_for(silent.gone.wait(), 10 * TIMEOUT)

            with pytest.raises(DockerTimeoutError):
                await asyncio.wait_for(docker.system.version(), 10 * TIMEOUT)
            assert silent.connections == 2


async def test_closing_the_client_during_the_ssh_login_fails_its_waiters_clearly() -> None:
    async with SilentListener() as silent:
        docker = Docker(f"ssh://root@127.0.0.1:{silent.port}", ssh_options=SILENT_SSH)
        callers = [asyncio.create_task(docker.system.version()) for _ in range(3)]
        await asyncio.wait_for(silent.connected.wait(), 10 * TIMEOUT)
        await asyncio.wait_for(docker.close(), 10 * TIMEOUT)
        results = await asyncio.wait_for(
            asyncio.gather(*callers, return_exceptions=True), 10 * TIMEOUT
        )
        assert not any(c.cancelled() for c in callers)
        assert all(isinstance(r, DockerConnectionError) for r in results), results
        assert silent.connections == 1
