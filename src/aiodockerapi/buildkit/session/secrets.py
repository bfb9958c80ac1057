"""Build secrets over the session: `/moby.buildkit.secrets.v1.Secrets/GetSecret`, which a
`RUN --mount=type=secret,id=...` step asks for.

A value is bytes, text (sent as UTF-8) or a file's path, read only when the daemon asks
(off the event loop). Values never show in a repr, a log line or an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import anyio.to_thread

if TYPE_CHECKING:
    from grpclib.server import Stream

    from .secrets_pb2 import GetSecretRequest, GetSecretResponse

__all__ = ["SecretValue", "Secrets", "SecretsService"]

SecretValue: TypeAlias = "bytes | str | os.PathLike[str]"

_GET_SECRET = "/moby.buildkit.secrets.v1.Secrets/GetSecret"


class Secrets(Mapping[str, "bytes | str | os.PathLike[str]"]):
    """Secret id -> value (bytes, str, or a path to read when asked). Its repr shows the ids
    and what kind each value is, never a value."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, SecretValue] | None = None) -> None:
        checked: dict[str, SecretValue] = {}
        for key, value in (values or {}).items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"a secret id must be a non-empty string, not {key!r}")
            if not isinstance(value, (bytes, str, os.PathLike)):
                raise TypeError(
                    f"secret {key!r}: give bytes, a str or a path, not {type(value).__name__}"
                )
            checked[key] = value
        self._values = checked

    def __getitem__(self, key: str) -> SecretValue:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{key!r}: <{_kind(v)}>" for key, v in self._values.items())
        return f"Secrets({{{kinds}}})"

    def files(self) -> dict[str, Path]:
        """The ids whose value is a file to read, and its path."""
        return {k: Path(v) for k, v in self._values.items() if isinstance(v, os.PathLike)}

    async def read(self, key: str) -> bytes:
        """The value of `key` as bytes (KeyError if there is none; OSError from its file)."""
        value = self._values[key]
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        return await anyio.to_thread.run_sync(Path(value).read_bytes)


def _kind(value: SecretValue) -> str:
    if isinstance(value, os.PathLike):
        return f"file {os.fspath(value)}"
    return "bytes" if isinstance(value, bytes) else "str"


class SecretsService:
    """The session's Secrets service: an unknown id answers NOT_FOUND, which the daemon
    reports as the secret it could not find."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets

    async def get_secret(self, stream: Stream[GetSecretRequest, GetSecretResponse]) -> None:
        from grpclib import GRPCError, Status

        from .secrets_pb2 import GetSecretResponse

        request = await stream.recv_message()
        key = request.ID if request is not None else ""
        if key not in self.secrets:
            raise GRPCError(Status.NOT_FOUND, f"secret {key} not found")
        try:
            data = await self.secrets.read(key)
        except OSError as exc:
            raise GRPCError(
                Status.UNAVAILABLE, f"secret {key}: cannot read its file ({exc.strerror})"
            ) from None
        await stream.send_message(GetSecretResponse(data=data))

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        from .secrets_pb2 import GetSecretRequest, GetSecretResponse

        return {
            _GET_SECRET: Handler(
                self.get_secret, Cardinality.UNARY_UNARY, GetSecretRequest, GetSecretResponse
            )
        }
