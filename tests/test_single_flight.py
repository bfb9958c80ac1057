"""Single-flight negotiation: concurrent first calls share one API negotiation; a failed
attempt fails them all within one timeout, and the next call tries again (the same for
the ssh tunnel's start: tests/test_ssh_start.py).

A stalling server of the test's own (a unix socket that holds /_ping unanswered while
told to) and a forwarder to the real daemon that holds its first connection show it from
the outside: how many attempts reached the server, and when each caller got its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker, DockerTimeoutError

from .conftest import DAEMON_API
from .sandbox import Sandbox

TIMEOUT = 1.0
CALLERS = 10
VERSION_BODY = b'{"ApiVersion":"1.41","Version":"stall-test"}'


class StallingServer:
    """A minimal daemon on a unix socket: answers /_ping (with its `api` version) and
    /version, except that while `stall` is set a /_ping is read and never answered, and a
    request at a version in `refused` is refused as too old."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stall = True
        self.api = "1.41"
        self.refused: set[str] = set()
        self.pings: list[str] = []  # "HEAD /_ping" for each handshake that reached us
        self.pinged = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None
        self._held: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> StallingServer:
        self._server = await asyncio.start_unix_server(self._serve, str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._held:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.add(writer)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                if target == "/_ping":
                    self.pings.append(f"{method} {target}")
                    self.pinged.set()
                    if self.stall:
                        await reader.read()  # until the client gives up and closes
                        return
                    status, body = b"200 OK", b"OK"
                elif target.split("/")[1].lstrip("v") in self.refused:
                    status = b"400 Bad Request"
                    body = b'{"message":"client version %s is too old"}' % target[2:6].encode()
                else:
                    status, body = b"200 OK", VERSION_BODY
                writer.write(
                    b"HTTP/1.1 %s\r\nApi-Version: %s\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n%s"
                    % (status, self.api.encode(), len(body), b"" if method == "HEAD" else body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._held.discard(writer)
            writer.close()


@pytest.fixture
async def stalling(tmp_path: Path) -> AsyncIterator[StallingServer]:
    async with StallingServer(tmp_path / "stall.sock") as server:
        yield server


@contextlib.contextmanager
def unhandled_task_errors() -> Iterator[list[dict[str, Any]]]:
    """What the loop's exception handler is given meanwhile ("Task exception was never
    retrieved", "Task was destroyed but it is pending"), after a garbage collection."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield seen
        gc.collect()
    finally:
        loop.set_exception_handler(previous)


async def timed(call: Any, loop: asyncio.AbstractEventLoop) -> tuple[float, BaseException | None]:
    """When `call` ended (loop time) and what it raised."""
    try:
        await call
    except Exception as exc:
        return loop.time(), exc
    return loop.time(), None


def assert_timed_out_together(
    outcomes: list[tuple[float, BaseException | None]], began: float
) -> None:
    """Every caller got DockerTimeoutError when the one shared attempt timed out, not one
    timeout after another."""
    assert all(isinstance(exc, DockerTimeoutError) for _, exc in outcomes), outcomes
    ends = [at - began for at, _ in outcomes]
    assert max(ends) - min(ends) < TIMEOUT / 2, ends


async def test_concurrent_first_calls_share_one_stalled_handshake(
    stalling: StallingServer,
) -> None:
    loop = asyncio.get_running_loop()
    async with Docker(f"unix://{stalling.path}", timeout=TIMEOUT) as docker:
        began = loop.time()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(timed(docker.system.version(), loop) for _ in range(CALLERS))),
            10 * TIMEOUT,
        )
        assert_timed_out_together(outcomes, began)
        assert stalling.pings == ["HEAD /_ping"]

        stalling.stall = False
        answer = await asyncio.wait_for(docker.system.version(), 10 * TIMEOUT)
        assert answer.version == "stall-test"
        assert docker.api_version == "1.41"
        assert stalling.pings == ["HEAD /_ping"] * 2  # one fresh attempt, then no more
        await asyncio.wait_for(docker.system.version(), 10 * TIMEOUT)
        assert len(stalling.pings) == 2


async def test_a_cancelled_caller_leaves_the_shared_attempt_to_the_others(
    stalling: StallingServer,
) -> None:
    async with Docker(f"unix://{stalling.path}", timeout=2 * TIMEOUT) as docker:
        callers = [asyncio.create_task(docker.system.version()) for _ in range(CALLERS)]
        await asyncio.wait_for(stalling.pinged.wait(), 10 * TIMEOUT)
        callers[0].cancel()
        await asyncio.sleep(0.1)
        stalling.stall = False  # the held /_ping stays held; only a new attempt would pass
        results = await asyncio.wait_for(
            asyncio.gather(*callers[1:], return_exceptions=True), 20 * TIMEOUT
        )
        assert callers[0].cancelled()
        # The shared attempt, not cancelled with the first caller, timed out for the rest.
        assert all(isinstance(r, DockerTimeoutError) for r in results), results
        assert stalling.pings == ["HEAD /_ping"]


async def test_an_attempt_nobody_waits_for_is_dropped_without_a_trace(
    stalling: StallingServer,
) -> None:
    async with Docker(f"unix://{stalling.path}", timeout=10 * TIMEOUT) as docker:
        with unhandled_task_errors() as seen:
            for _ in range(3):
                stalling.pinged.clear()
                caller = asyncio.create_task(docker.system.version())
                await asyncio.wait_for(stalling.pinged.wait(), 10 * TIMEOUT)
                caller.cancel()  # its only caller gives up while the handshake is held
                await asyncio.gather(caller, return_exceptions=True)
                assert caller.cancelled()
            await asyncio.sleep(0.1)  # for anything left behind to be reported
        assert seen == []
        # Each caller that gave up took its attempt with it: the next one starts afresh.
        assert stalling.pings == ["HEAD /_ping"] * 3
        stalling.stall = False
        answer = await asyncio.wait_for(docker.system.version(), 10 * TIMEOUT)
        assert answer.version == "stall-test"
        assert len(stalling.pings) == 4


async def test_a_stalled_renegotiation_fails_all_refused_callers_at_once(
    stalling: StallingServer,
) -> None:
    """The daemon is "upgraded" under the client: it now refuses 1.41. Ten calls refused
    together share one renegotiation; stalled, it fails them all within one timeout; the
    next call renegotiates afresh and is answered."""
    loop = asyncio.get_running_loop()
    stalling.stall = False
    async with Docker(f"unix://{stalling.path}", timeout=TIMEOUT) as docker:
        await asyncio.wait_for(docker.system.version(), 10 * TIMEOUT)
        assert docker.api_version == "1.41"
        stalling.api, stalling.refused, stalling.stall = "1.44", {"1.41"}, True
        began = loop.time()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(timed(docker.system.version(), loop) for _ in range(CALLERS))),
            10 * TIMEOUT,
        )
        assert_timed_out_together(outcomes, began)
        assert stalling.pings == ["HEAD /_ping"] * 2  # the first negotiation, one renegotiation

        stalling.stall = False
        answers = await asyncio.wait_for(
            asyncio.gather(*(docker.system.version() for _ in range(CALLERS))), 10 * TIMEOUT
        )
        assert {a.version for a in answers} == {"stall-test"}
        assert docker.api_version == "1.44"
        assert stalling.pings == ["HEAD /_ping"] * 3


class HoldFirst:
    """A unix-socket forwarder to the real daemon that holds its first connection (reads,
    never forwards nor answers) and pipes every later one through."""

    def __init__(self, path: Path, daemon: Path) -> None:
        self.path, self.daemon = path, daemon
        self.connections = 0
        self.opened_by: list[str] = []  # each connection's first request: "HEAD /_ping"
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> HoldFirst:
        self._server = await asyncio.start_unix_server(self._serve, str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.opened_by.append(" ".join(head.decode().split(" ", 2)[:2]))
            if self.connections == 1:
                await reader.read()
                return
            up_reader, up_writer = await asyncio.open_unix_connection(str(self.daemon))
            up_writer.write(head)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.close()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
        dst.close()


@pytest.mark.daemon
async def test_against_the_daemon_a_held_handshake_fails_all_callers_at_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    async with HoldFirst(tmp_path / "fwd.sock", sandbox.unix_socket) as forwarder:
        async with Docker(f"unix://{forwarder.path}", timeout=TIMEOUT) as docker:
            began = loop.time()
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(timed(docker.system.info(), loop) for _ in range(CALLERS))),
                10 * TIMEOUT,
            )
            assert_timed_out_together(outcomes, began)
            assert forwarder.opened_by == ["HEAD /_ping"]  # one handshake for all ten

            info = await asyncio.wait_for(docker.system.info(), 30)
            assert info.id
            assert docker.api_version == DAEMON_API
            # One fresh attempt, on a fresh connection (Podman closes it after the answer:
            # /info then comes on another).
            assert forwarder.opened_by[:2] == ["HEAD /_ping"] * 2
            assert forwarder.opened_by.count("HEAD /_ping") == 2
