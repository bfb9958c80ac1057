"""ssh agent forwarding over the session: `/moby.sshforward.v1.SSH/CheckAgent` and
`ForwardAgent`, which a `RUN --mount=type=ssh[,id=...]` step uses to reach an agent on the
client's side (the agent protocol's bytes relayed both ways to the agent's unix socket)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from grpclib.server import Stream

    from .sshforward_pb2 import BytesMessage, CheckAgentRequest, CheckAgentResponse

__all__ = ["DEFAULT_ID", "SSHAgents", "SSHService"]

DEFAULT_ID = "default"
_ID_KEY = "buildkit.ssh.id"
_CHECK = "/moby.sshforward.v1.SSH/CheckAgent"
_FORWARD = "/moby.sshforward.v1.SSH/ForwardAgent"
_READ = 64 * 1024


class SSHAgents(Mapping[str, Path]):
    """ssh id -> the agent's unix socket. `None` as a socket means $SSH_AUTH_SOCK."""

    __slots__ = ("_sockets",)

    def __init__(self, agents: Mapping[str, str | os.PathLike[str] | None] | None = None) -> None:
        sockets: dict[str, Path] = {}
        for key, where in (agents or {}).items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"an ssh id must be a non-empty string, not {key!r}")
            if where is None:
                where = os.environ.get("SSH_AUTH_SOCK") or None
                if where is None:
                    raise ValueError(
                        f"ssh {key!r}: no agent socket given and SSH_AUTH_SOCK is not set"
                    )
            elif not isinstance(where, (str, os.PathLike)):
                raise TypeError(
                    f"ssh {key!r}: give an agent socket's path or None, not {type(where).__name__}"
                )
            sockets[key] = Path(where)
        self._sockets = sockets

    def __getitem__(self, key: str) -> Path:
        return self._sockets[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sockets)

    def __len__(self) -> int:
        return len(self._sockets)

    def __repr__(self) -> str:
        return f"SSHAgents({ {k: str(v) for k, v in self._sockets.items()} })"

    def check(self) -> None:
        """Raise ValueError naming the first id whose socket is not a socket (blocking)."""
        for key, path in self._sockets.items():
            if not path.is_socket():
                raise ValueError(f"ssh {key!r}: {path} is not a unix socket (an ssh agent's)")


class SSHService:
    """The session's SSH service: one forwarded connection to the agent per ForwardAgent."""

    def __init__(self, agents: SSHAgents) -> None:
        self.agents = agents

    def _socket(self, key: str) -> Path:
        from grpclib import GRPCError, Status

        key = key or DEFAULT_ID
        if key not in self.agents:
            raise GRPCError(Status.NOT_FOUND, f"unset ssh forward key {key}")
        return self.agents[key]

    async def check_agent(self, stream: Stream[CheckAgentRequest, CheckAgentResponse]) -> None:
        from .sshforward_pb2 import CheckAgentResponse

        request = await stream.recv_message()
        self._socket(request.ID if request is not None else "")
        await stream.send_message(CheckAgentResponse())

    async def forward_agent(self, stream: Stream[BytesMessage, BytesMessage]) -> None:
        from grpclib import GRPCError, Status

        from .sshforward_pb2 import BytesMessage

        key = str(stream.metadata.get(_ID_KEY, "") if stream.metadata else "")
        path = self._socket(key)
        try:
            reader, writer = await asyncio.open_unix_connection(path)
        except OSError as exc:
            raise GRPCError(
                Status.UNAVAILABLE, f"ssh {key or DEFAULT_ID}: cannot reach the agent at {path}"
            ) from exc

        async def to_agent() -> None:
            async for message in stream:
                writer.write(message.data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(to_agent)
                while data := await reader.read(_READ):
                    await stream.send_message(BytesMessage(data=data))
                tasks.cancel_scope.cancel()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        from .sshforward_pb2 import BytesMessage, CheckAgentRequest, CheckAgentResponse

        return {
            _CHECK: Handler(
                self.check_agent, Cardinality.UNARY_UNARY, CheckAgentRequest, CheckAgentResponse
            ),
            _FORWARD: Handler(
                self.forward_agent, Cardinality.STREAM_STREAM, BytesMessage, BytesMessage
            ),
        }
