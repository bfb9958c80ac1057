"""ssh:// hosts: HTTP over `docker system dial-stdio` run by the system's ssh.

aiohttp can only dial sockets, so an SSHTunnel listens on a private unix socket and pipes
each connection made to it through one `ssh HOST docker system dial-stdio`. All of those
share one ssh login (a ControlMaster started first), so a host is logged into once, and
each aiohttp connection (kept alive and reused by its pool) is one ssh session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from urllib.parse import urlsplit

from ._log import shown_url
from .errors import DockerConnectionError
from .flight import SingleFlight

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_SSH_OPTIONS", "IDLE_SECONDS", "MAX_SESSIONS", "SESSION_LIMIT", "SSHTunnel"]

# sshd's MaxSessions defaults to 10 sessions per login. The tunnel never runs more at once
# (a connection past that waits for one to end), and the pool keeps to 8 of them, so that
# attach and exec, which take a session each outside the pool, find room.
SESSION_LIMIT = 10
MAX_SESSIONS = 8
# Idle pooled connections each hold a session; close them soon, for attach and exec to use.
IDLE_SECONDS = 2.0
# Never prompt: there is nobody to answer on a pipe.
DEFAULT_SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ServerAliveInterval=30")
# The shared login outlives its last session by this long, so a client that is never closed
# (or a process that is killed) leaves no ssh behind for good; the next session after an
# idle spell logs in again and becomes the new master.
PERSIST = ("-o", "ControlPersist=60")
DIAL_STDIO = ("docker", "system", "dial-stdio")


class SSHTunnel:
    """A local unix socket that reaches a remote daemon through ssh."""

    def __init__(self, url: str, options: Sequence[str] = ()) -> None:
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise ValueError(f"not an ssh host: {url!r} (expected ssh://[user@]host[:port])")
        if parts.path not in ("", "/"):
            raise ValueError(f"ssh host {url!r}: a path is not supported")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"ssh host {url!r} has an invalid port") from None
        self.url = url
        self._target = [
            *(("-p", str(port)) if port else ()),
            *(("-l", parts.username) if parts.username else ()),
            *DEFAULT_SSH_OPTIONS,
            *options,
            "--",
            parts.hostname,
        ]
        self._dir: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._starting: SingleFlight[str] = SingleFlight()
        self._sessions = asyncio.Semaphore(SESSION_LIMIT)

    @property
    def socket_path(self) -> str:
        """The local socket that leads to the remote daemon (once started)."""
        assert self._dir is not None, "start the tunnel first"
        return os.path.join(self._dir, "docker.sock")

    def _ssh(self, root: str, *options: str, command: Sequence[str] = ()) -> list[str]:
        ssh = shutil.which("ssh")
        if ssh is None:
            raise DockerConnectionError(f"cannot reach {self.url}: no ssh client on PATH")
        control = os.path.join(root, "control")
        return [ssh, "-S", control, *options, *self._target, *command]

    async def start(self) -> str:
        """Log in once (the control master), listen locally; return the socket path.

        Single-flight: concurrent first calls share one start, a failed start fails them
        all, and the next call after it tries again."""
        if self._server is not None:
            return self.socket_path
        return await self._starting.run(self._start)

    async def _start(self) -> str:
        # A directory of its own per attempt: a cancelled one cleans up only what it made.
        root = tempfile.mkdtemp(prefix="aiodockerapi-ssh-")
        logger.debug("ssh tunnel to %s starting: logging in", shown_url(self.url))
        try:
            await self._start_master(root)
            server = await asyncio.start_unix_server(self._pipe, os.path.join(root, "docker.sock"))
        except BaseException:
            await self._logout(root)
            raise
        self._dir, self._server = root, server
        logger.debug(
            "ssh tunnel to %s started, listening on %s", shown_url(self.url), self.socket_path
        )
        return self.socket_path

    async def _start_master(self, root: str) -> None:
        # -f: go to the background once logged in, so a bad key or host fails here, once.
        proc = await asyncio.create_subprocess_exec(
            *self._ssh(root, "-M", "-N", "-f", *PERSIST),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await proc.communicate()
        except BaseException:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            raise
        if proc.returncode != 0:
            text = err.decode(errors="replace").strip() or f"ssh exited with {proc.returncode}"
            raise DockerConnectionError(f"cannot reach {self.url} over ssh: {text}")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            async with self._sessions:
                await self._session(reader, writer)
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()
            self._pipes.discard(task)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pipe one local connection through one `docker system dial-stdio` session."""
        proc = None
        root = self._dir
        if root is None:  # closed meanwhile
            return
        by_itself = False  # both ways reached their end: ssh ended the session, not the client
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._ssh(root, "-o", "ControlMaster=auto", *PERSIST, command=DIAL_STDIO),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            assert proc.stdin is not None and proc.stdout is not None
            logger.debug("ssh session to %s opened (docker system dial-stdio)", shown_url(self.url))
            await asyncio.gather(_copy(reader, proc.stdin), _copy(proc.stdout, writer))
            by_itself = True
        except OSError as exc:
            if proc is None:  # ssh itself could not be run
                logger.warning(
                    "ssh session to %s could not start ssh: %s", shown_url(self.url), exc
                )
            else:
                logger.debug("ssh session to %s broke: %s", shown_url(self.url), exc)
        finally:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            if proc is not None:
                _ended(shown_url(self.url), proc.returncode, by_itself)

    async def close(self) -> None:
        """Stop listening, end every piped session and the ssh login, remove the socket."""
        await self._starting.aclose(
            lambda: DockerConnectionError(f"the client for {self.url} was closed while connecting")
        )
        if self._server is not None:
            logger.debug(
                "ssh tunnel to %s stopping (%d sessions open)",
                shown_url(self.url),
                len(self._pipes),
            )
            self._server.close()
            self._server = None
        for task in list(self._pipes):
            task.cancel()
        if self._pipes:
            await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._dir is not None:
            root, self._dir = self._dir, None
            await self._logout(root)
            logger.debug("ssh tunnel to %s stopped", shown_url(self.url))

    async def _logout(self, root: str) -> None:
        """End the ssh login whose control socket is in `root`, and remove `root`."""
        if os.path.exists(os.path.join(root, "control")):  # noqa: ASYNC240 - a stat
            proc = await asyncio.create_subprocess_exec(
                *self._ssh(root, "-O", "exit"),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def _ended(url: str, status: int | None, by_itself: bool) -> None:
    """Record a session's end. One whose remote `docker system dial-stdio` failed on its own
    (status 1 to 254, before the client ended it) is worth a warning: the connection broke
    for a reason the client's error does not give. 255 is ssh's own failure, and also what
    asyncio reports for a child whose status it lost (it warns of that itself)."""
    if by_itself and status is not None and 0 < status < 255:
        logger.warning(
            "ssh session to %s failed: the remote docker system dial-stdio exited with "
            "status %d (check the docker CLI and daemon on that host for this login)",
            url,
            status,
        )
    else:
        how = "exit status" if by_itself else "ended by the client, exit status"
        logger.debug("ssh session to %s closed (%s %s)", url, how, status)


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    """Copy until EOF, then pass the EOF on (half-close), so stdin-closing works end to end."""
    try:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except (ConnectionError, RuntimeError):
        pass
