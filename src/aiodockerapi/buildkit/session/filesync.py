"""FileSync: serving local directories (a build's context and Dockerfile) to the daemon.

The daemon calls ``/moby.filesync.v1.FileSync/DiffCopy`` with metadata naming the
directory (``dir-name``) and how to filter it (``include-patterns``, ``exclude-patterns``,
``followpaths``); the client sends the tree as fsutil Packets and the content of the
files the daemon asks for. The daemon keeps what it got keyed by the session's shared key,
so it asks again only for files whose size, mtime or mode changed.
"""

from __future__ import annotations

import os
import stat as _stat
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple, TypeVar

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ...bodies.dockerignore import DOCKERIGNORE, DockerIgnore, load_dockerignore, parse_dockerignore
from .packets import (
    CHUNK_SIZE,
    MODE_TYPE,
    Packet,
    PacketStream,
    PeerError,
    ProtocolError,
    Stat,
    err_packet,
    grpc_error,
    metadata_values,
    run_in_thread,
    stat_packet,
)
from .walk import TreeFilter, resolve_followpaths, walk_tree

__all__ = ["FileSyncService", "SyncedDir", "context_dirs", "send_tree"]

DIFF_COPY = "/moby.filesync.v1.FileSync/DiffCopy"

_WALK_BATCH = 256
_READ_SIZE = 1024 * 1024
# Files up to this size are read together, up to this many in one worker-thread hop.
_SMALL_FILE = 64 * 1024
_SMALL_BATCH = 64
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_T = TypeVar("_T")


@dataclass(frozen=True)
class SyncedDir:
    """A local directory the daemon may pull, with the client's own exclusions."""

    path: str
    ignore: DockerIgnore | None = None
    keep: frozenset[str] = frozenset()
    reset_owner: bool = True


def context_dirs(
    context: str | os.PathLike[str], dockerfile: str = "Dockerfile"
) -> dict[str, SyncedDir]:
    """The ``context`` and ``dockerfile`` directories of a build, as ``docker build`` serves them.

    ``dockerfile`` is relative to the context or absolute. The context is filtered by
    ``<Dockerfile>.dockerignore`` beside the Dockerfile when there is one, else by the
    context's ``.dockerignore``; the Dockerfile and ``.dockerignore`` are always sent.
    """
    root = os.path.abspath(os.fspath(context))
    if not os.path.isdir(root):
        raise NotADirectoryError(f"build context {root!r} is not a directory")
    path = dockerfile if os.path.isabs(dockerfile) else os.path.join(root, dockerfile)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Dockerfile {path!r} does not exist")
    keep = {DOCKERIGNORE}
    rel = os.path.relpath(path, root)
    if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
        keep.add(rel.replace(os.sep, "/"))
    own_ignore = path + DOCKERIGNORE
    if os.path.isfile(own_ignore):
        with open(own_ignore, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        try:
            ignore = DockerIgnore(parse_dockerignore(text))
        except ValueError as exc:
            raise ValueError(f"{own_ignore}: {exc}") from None
    else:
        ignore = load_dockerignore(root)
    return {
        "context": SyncedDir(root, ignore if ignore.patterns else None, frozenset(keep)),
        "dockerfile": SyncedDir(os.path.dirname(path)),
    }


class FileSyncService:
    """The ``moby.filesync.v1.FileSync`` service, for a grpclib server's handler list."""

    def __init__(self, dirs: Mapping[str, SyncedDir]) -> None:
        self._dirs = dict(dirs)

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        return {DIFF_COPY: Handler(self.diff_copy, Cardinality.STREAM_STREAM, Packet, Packet)}

    async def diff_copy(self, stream: PacketStream) -> None:
        names = metadata_values(stream.metadata, "dir-name")
        name = names[0] if names else ""
        synced = self._dirs.get(name)
        if synced is None:
            from grpclib.const import Status
            from grpclib.exceptions import GRPCError

            raise GRPCError(Status.NOT_FOUND, f"no access allowed to dir {name!r}")
        include = metadata_values(stream.metadata, "include-patterns")
        follow = metadata_values(stream.metadata, "followpaths")
        if follow:
            include += await run_in_thread(resolve_followpaths, synced.path, follow)
        exclude = metadata_values(stream.metadata, "exclude-patterns")
        try:
            tree_filter = TreeFilter(
                ignore=synced.ignore,
                keep=synced.keep,
                include=DockerIgnore(include) if include else None,
                exclude=DockerIgnore(exclude) if exclude else None,
            )
            await send_tree(stream, synced.path, tree_filter, reset_owner=synced.reset_owner)
        except (ProtocolError, OSError, ValueError) as exc:
            raise grpc_error(exc) from exc


async def send_tree(
    stream: PacketStream, root: str, tree_filter: TreeFilter, *, reset_owner: bool = True
) -> None:
    """Send ``root`` on ``stream`` as fsutil's sender does, until the receiver's ``FIN``.

    The walk and the file reads run on worker threads, so the event loop stays free.
    """
    sender = _Sender(stream, root)
    send_req, recv_req = anyio.create_memory_object_stream[_Request](max_buffer_size=1 << 30)
    async with anyio.create_task_group() as tg:
        entries = walk_tree(root, tree_filter, reset_owner=reset_owner)
        tg.start_soon(sender.guard, tg, sender.walk, entries)
        tg.start_soon(sender.guard, tg, sender.serve, recv_req)
        with send_req:
            await sender.guard(tg, sender.receive, send_req)
    if sender.error is not None:
        raise sender.error
    await stream.send_message(Packet(type=Packet.PACKET_FIN))


class _Sender:
    def __init__(self, stream: PacketStream, root: str) -> None:
        self.stream = stream
        self.root = root
        self.files: dict[int, _Request] = {}
        self.error: BaseException | None = None
        self._lock = anyio.Lock()

    async def guard(self, tg: TaskGroup, work: Callable[[_T], Awaitable[None]], arg: _T) -> None:
        """Run ``work(arg)``; on the first failure tell the receiver and stop the others."""
        try:
            await work(arg)
        except Exception as exc:
            if self.error is None:
                self.error = exc
                tg.cancel_scope.cancel()
                if not isinstance(exc, PeerError):
                    with anyio.move_on_after(5, shield=True):
                        try:
                            await self.send(err_packet(str(exc)))
                        except Exception:
                            pass

    async def send(self, packet: Packet) -> None:
        # Stat and data packets come from different tasks; a message must go out whole.
        async with self._lock:
            await self.stream.send_message(packet)

    async def walk(self, entries: Iterator[Stat]) -> None:
        index = 0
        while batch := await run_in_thread(_take, entries):
            for stat in batch:
                if not stat.mode & MODE_TYPE:
                    self.files[index] = _Request(index, stat.path, stat.size)
                index += 1
                await self.send(stat_packet(stat))
        await self.send(stat_packet(None))

    async def receive(self, requests: MemoryObjectSendStream[_Request]) -> None:
        while True:
            packet = await self.stream.recv_message()
            if packet is None:
                raise ProtocolError("the receiver ended the file stream without FIN")
            if packet.type == Packet.PACKET_REQ:
                request = self.files.pop(packet.ID, None)
                if request is None:
                    raise ProtocolError(f"the receiver asked for an invalid file id {packet.ID}")
                requests.send_nowait(request)
            elif packet.type == Packet.PACKET_FIN:
                return
            elif packet.type == Packet.PACKET_ERR:
                raise PeerError(
                    "error from the receiver: " + packet.data.decode("utf-8", "replace")
                )

    async def serve(self, requests: MemoryObjectReceiveStream[_Request]) -> None:
        async with requests:
            async for request in requests:
                # The small files asked for so far are read in one worker-thread hop: a
                # hop costs far more than reading a few KiB.
                small: list[_Request] = []
                current: _Request | None = request
                while current is not None:
                    if current.size > _SMALL_FILE:
                        await self.send_file(current.id, current.path)
                    else:
                        small.append(current)
                    current = _next_now(requests) if len(small) < _SMALL_BATCH else None
                if small:
                    paths = [os.path.join(self.root, r.path) for r in small]
                    contents = await run_in_thread(_read_small_files, paths)
                    for r, data in zip(small, contents, strict=True):
                        if data is None:  # grew since the walk: streamed instead
                            await self.send_file(r.id, r.path)
                        else:
                            await self.send_data(r.id, data)

    async def send_data(self, file_id: int, data: bytes) -> None:
        for start in range(0, len(data), CHUNK_SIZE):
            chunk = data[start : start + CHUNK_SIZE]
            await self.send(Packet(type=Packet.PACKET_DATA, ID=file_id, data=chunk))
        await self.send(Packet(type=Packet.PACKET_DATA, ID=file_id))

    async def send_file(self, file_id: int, rel: str) -> None:
        """Send a large file, read a MiB at a time (one worker-thread hop each)."""
        try:
            fd, block = await run_in_thread(_open_and_read, os.path.join(self.root, rel))
        except OSError:
            fd, block = -1, b""  # gone or changed since the walk: empty, as fsutil does
        try:
            while block:
                view = memoryview(block)
                for start in range(0, len(view), CHUNK_SIZE):
                    chunk = bytes(view[start : start + CHUNK_SIZE])
                    await self.send(Packet(type=Packet.PACKET_DATA, ID=file_id, data=chunk))
                block = await run_in_thread(os.read, fd, _READ_SIZE) if fd >= 0 else b""
        finally:
            if fd >= 0:
                os.close(fd)
        await self.send(Packet(type=Packet.PACKET_DATA, ID=file_id))


class _Request(NamedTuple):
    id: int
    path: str
    size: int


def _next_now(requests: MemoryObjectReceiveStream[_Request]) -> _Request | None:
    try:
        return requests.receive_nowait()
    except (anyio.WouldBlock, anyio.EndOfStream):
        return None


def _read_small_files(paths: list[str]) -> list[bytes | None]:
    """Each file's content (empty if gone), or None for one now larger than a read."""
    out: list[bytes | None] = []
    for path in paths:
        try:
            fd, data = _open_and_read(path)
        except OSError:
            out.append(b"")
            continue
        if fd >= 0:
            os.close(fd)
            out.append(None)
        else:
            out.append(data)
    return out


def _open_and_read(path: str) -> tuple[int, bytes]:
    """The file's first MiB, and its descriptor if there is more (else -1, closed)."""
    # O_NONBLOCK: a FIFO swapped in since the walk must not hang the open.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _O_NOFOLLOW)
    try:
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path!r} is no longer a regular file")
        block = os.read(fd, _READ_SIZE)
        if len(block) < _READ_SIZE:
            os.close(fd)
            return -1, block
        return fd, block
    except BaseException:
        os.close(fd)
        raise


def _take(entries: Iterator[Stat]) -> list[Stat]:
    return list(islice(entries, _WALK_BATCH))
