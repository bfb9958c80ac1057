"""FileSend: receiving a build's export (``outputs`` of type ``local`` or ``tar``) on the client.

The daemon calls ``/moby.filesync.v1.FileSend/DiffCopy``: for a local export it sends the
tree as fsutil Packets, for a tar export the archive as ``BytesMessage`` chunks. The
method is declared with ``BytesMessage``, so the handler takes raw messages and decodes
them as its export target needs.

Neither kind leaves a half-written result: a local export is received into a hidden
directory beside ``dest`` and renamed to ``dest`` once complete (on failure or
cancellation that directory is removed and ``dest`` is as it was); a tar export to a path
is written to a hidden file beside it and renamed the same way. A tar export to a writer
object gets the chunks as they come: what a failed export wrote to it stays written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any, BinaryIO

from .filesync_pb2 import BytesMessage
from .packets import (
    Packet,
    PacketStream,
    ProtocolError,
    grpc_error,
    metadata_values,
    run_in_thread,
)
from .receive import receive_tree

__all__ = ["FileSendService", "LocalExport", "RawMessage", "TarExport"]

DIFF_COPY = "/moby.filesync.v1.FileSend/DiffCopy"
EXPORTER_ID = "buildkit-attachable-exporter-id"

_WRITE_BLOCK = 1024 * 1024


class RawMessage:
    """A gRPC message kept as its bytes (grpclib's codec calls these two methods)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    @classmethod
    def FromString(cls, data: bytes) -> RawMessage:
        return cls(data)

    def SerializeToString(self) -> bytes:
        return self.data


class _PacketView:
    """A stream of raw messages seen as fsutil Packets."""

    def __init__(self, stream: PacketStream) -> None:
        self._stream = stream
        self.metadata = stream.metadata

    async def recv_message(self) -> Packet | None:
        raw = await self._stream.recv_message()
        return None if raw is None else Packet.FromString(raw.data)

    async def send_message(self, message: Any) -> None:
        await self._stream.send_message(RawMessage(message.SerializeToString()))


class LocalExport:
    """Receive a local export into the directory ``dest``.

    ``dest`` must not exist or be an empty directory, unless ``replace`` is true: then an
    existing directory is replaced as a whole once the export is complete.
    """

    def __init__(self, dest: str | os.PathLike[str], *, replace: bool = False) -> None:
        self.dest = os.path.abspath(os.fspath(dest))
        self.replace = replace
        #: Why the export failed, once it has (the daemon is answered an error too).
        self.error: Exception | None = None

    def check(self) -> None:
        """Refuse a destination the export could not be renamed to (call before the build)."""
        parent = os.path.dirname(self.dest)
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"export destination's directory {parent!r} does not exist")
        if not os.path.lexists(self.dest):
            return
        if os.path.islink(self.dest) or not os.path.isdir(self.dest):
            raise FileExistsError(f"export destination {self.dest!r} exists and is no directory")
        if not self.replace and os.listdir(self.dest):
            raise FileExistsError(
                f"export destination {self.dest!r} is not empty (pass replace=True to replace it)"
            )

    async def receive(self, stream: PacketStream) -> None:
        """Receive the Packet stream into ``dest``; on any failure ``dest`` is untouched."""
        self.check()
        parent, name = os.path.split(self.dest)
        staging = tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent)
        state: dict[str, str | None] = {"aside": None, "committed": None}

        def commit() -> None:
            os.chmod(staging, 0o755)
            try:
                os.rename(staging, self.dest)  # replaces a missing or empty dest
            except OSError:
                if not self.replace or not os.path.isdir(self.dest):
                    raise
                aside = tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=parent)
                old = os.path.join(aside, name)
                os.rename(self.dest, old)
                try:
                    os.rename(staging, self.dest)
                except BaseException:
                    os.rename(old, self.dest)
                    os.rmdir(aside)
                    raise
                state["aside"] = aside
            state["committed"] = self.dest

        try:
            await receive_tree(stream, staging, commit)
            if state["aside"] is not None:
                await run_in_thread(shutil.rmtree, state["aside"], True)
                state["aside"] = None
        finally:
            if state["committed"] is None:
                shutil.rmtree(staging, ignore_errors=True)
            if state["aside"] is not None:
                shutil.rmtree(state["aside"], ignore_errors=True)


class TarExport:
    """Receive a tar export into the file ``dest`` (a path) or a binary writer."""

    def __init__(self, dest: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(dest, (str, os.PathLike)):
            self.path: str | None = os.path.abspath(os.fspath(dest))
            self.writer: BinaryIO | None = None
        elif callable(getattr(dest, "write", None)):
            self.path, self.writer = None, dest
        else:
            raise TypeError(f"tar export destination {dest!r} is neither a path nor a writer")
        #: Why the export failed, once it has (the daemon is answered an error too).
        self.error: Exception | None = None

    def check(self) -> None:
        """Refuse a path whose directory is missing or that is a directory."""
        if self.path is None:
            return
        if not os.path.isdir(os.path.dirname(self.path)):
            raise FileNotFoundError(f"tar export's directory of {self.path!r} does not exist")
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"tar export destination {self.path!r} is a directory")

    async def receive(self, stream: PacketStream) -> None:
        """Write each ``BytesMessage`` chunk until the daemon ends the stream."""
        self.check()
        if self.writer is not None:
            await _copy_chunks(stream, self.writer)
            return
        assert self.path is not None
        parent, name = os.path.split(self.path)
        fd, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=parent)
        done = False
        try:
            with os.fdopen(fd, "wb") as f:
                await _copy_chunks(stream, f)
            os.chmod(partial, 0o644)
            os.replace(partial, self.path)
            done = True
        finally:
            if not done:
                os.unlink(partial)


async def _copy_chunks(stream: PacketStream, writer: BinaryIO) -> None:
    buffer = bytearray()
    while (raw := await stream.recv_message()) is not None:
        buffer += BytesMessage.FromString(raw.data).data
        if len(buffer) >= _WRITE_BLOCK:
            await run_in_thread(writer.write, bytes(buffer))
            buffer.clear()
    if buffer:
        await run_in_thread(writer.write, bytes(buffer))


class FileSendService:
    """The ``moby.filesync.v1.FileSend`` service: export ``i`` goes to ``exports[i]``.

    The daemon names the export in the metadata ``buildkit-attachable-exporter-id``
    (dockerd 20.10 sends none: the first export).
    """

    def __init__(self, exports: Sequence[LocalExport | TarExport]) -> None:
        self._exports = list(exports)

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        return {
            DIFF_COPY: Handler(self.diff_copy, Cardinality.STREAM_STREAM, RawMessage, RawMessage)
        }

    async def diff_copy(self, stream: PacketStream) -> None:
        ids = metadata_values(stream.metadata, EXPORTER_ID)
        try:
            index = int(ids[0]) if ids else 0
            target = self._exports[index]
        except (ValueError, IndexError):
            from grpclib.const import Status
            from grpclib.exceptions import GRPCError

            raise GRPCError(
                Status.NOT_FOUND, f"exporter {ids[0] if ids else 0} not found"
            ) from None
        try:
            if isinstance(target, LocalExport):
                await target.receive(_PacketView(stream))
            else:
                await target.receive(stream)
        except (ProtocolError, OSError, ValueError) as exc:
            target.error = exc
            raise grpc_error(exc) from exc
