"""fsutil's receiver: writing a Packet stream into a fresh directory, never outside it.

Every path is checked (relative, clean, no ``..``) and must come in fsutil's order, so its
parent is a directory received earlier in the same stream: nothing is ever written under
a symlink, and files are created with ``O_EXCL | O_NOFOLLOW``. Directory modes and times
are applied last, deepest first, so a read-only directory can still be filled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .packets import (
    MODE_DIR,
    MODE_NAMED_PIPE,
    MODE_SYMLINK,
    MODE_TYPE,
    OrderCheck,
    Packet,
    PacketStream,
    PeerError,
    ProtocolError,
    Stat,
    check_relative,
    err_packet,
    posix_permissions,
    run_in_thread,
)

__all__ = ["PeerError", "receive_tree"]

# Files whose content is asked for at once: bounded, so the sender never waits on a
# request the receiver cannot send because it is busy sending others.
_MAX_OPEN = 64
# Complete files are closed this many at a time.
_CLOSE_BATCH = 64
# Data is written to disk in blocks this large (one worker-thread hop each).
_WRITE_BLOCK = 512 * 1024
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass
class _File:
    path: str
    stat: Stat
    fd: int
    buffer: bytearray = field(default_factory=bytearray)


async def receive_tree(stream: PacketStream, root: str, commit: Callable[[], None]) -> None:
    """Receive the sender's tree into the empty directory ``root``.

    ``commit`` is called once everything is on disk, before the closing ``FIN`` is sent, with
    no await in between: a stream reset after that point cannot undo a finished transfer.
    """
    receiver = _Receiver(stream, root)
    try:
        await receiver.run(commit)
    except Exception as exc:
        if not isinstance(exc, PeerError):  # tell the sender why, as fsutil does
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stream.send_message(err_packet(str(exc))), 5)
        raise
    finally:
        receiver.close_all()


class _Receiver:
    def __init__(self, stream: PacketStream, root: str) -> None:
        self.stream = stream
        self.root = root
        self.order = OrderCheck()
        self.files: set[str] = set()  # regular files received, targets for hard links
        self.dirs: list[Stat] = []
        self.waiting: deque[tuple[int, str, Stat]] = deque()
        self.open: dict[int, _File] = {}
        self.done: list[_File] = []  # complete, to be closed in a batch
        self.index = 0
        self.listed = False

    async def run(self, commit: Callable[[], None]) -> None:
        finished = False
        while True:
            packet = await self.stream.recv_message()
            if packet is None:
                if finished:
                    return
                raise ProtocolError("the sender ended the file stream before it was complete")
            kind = packet.type
            if finished:  # dest is complete and in place: wait for the sender's FIN
                if kind == Packet.PACKET_FIN:
                    return
                continue
            if kind == Packet.PACKET_STAT:
                if self.listed:
                    raise ProtocolError("the sender listed a file after the end of its listing")
                if packet.HasField("stat"):
                    self.entry(packet.stat)
                else:
                    self.listed = True
            elif kind == Packet.PACKET_DATA:
                await self.data(packet.ID, packet.data)
            elif kind == Packet.PACKET_FIN:
                raise ProtocolError("the sender sent FIN before the transfer ended")
            elif kind == Packet.PACKET_ERR:
                raise PeerError("error from the sender: " + packet.data.decode("utf-8", "replace"))
            else:
                raise ProtocolError(f"unexpected packet type {kind} from the sender")
            await self.request_more()
            if self.listed and not self.waiting and not self.open:
                await self.close_done()
                self.finish_dirs()
                commit()
                finished = True
                await self.stream.send_message(Packet(type=Packet.PACKET_FIN))

    def entry(self, stat: Stat) -> None:
        path = stat.path
        mode = stat.mode
        self.order.add(path, bool(mode & MODE_DIR))
        full = os.path.join(self.root, path)
        file_id = self.index
        self.index += 1
        if mode & MODE_DIR:
            os.mkdir(full, 0o700)
            self.dirs.append(stat)
        elif mode & MODE_SYMLINK:
            os.symlink(stat.linkname, full)
            _set_time(full, stat, follow=False)
        elif mode & MODE_NAMED_PIPE:
            os.mkfifo(full, 0o600)
            os.chmod(full, posix_permissions(mode))  # just made: no symlink
            _set_time(full, stat, follow=False)
        elif mode & MODE_TYPE:
            return  # devices and sockets are not exported
        elif stat.linkname:
            check_relative(stat.linkname)
            if stat.linkname not in self.files:
                raise ProtocolError(
                    f"hard link {path!r} to {stat.linkname!r}, which is no file received before"
                )
            os.link(os.path.join(self.root, stat.linkname), full, follow_symlinks=False)
        else:
            self.files.add(path)
            self.waiting.append((file_id, path, stat))

    async def request_more(self) -> None:
        while self.waiting and len(self.open) < _MAX_OPEN:
            file_id, path, stat = self.waiting.popleft()
            full = os.path.join(self.root, path)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
            self.open[file_id] = _File(path, stat, os.open(full, flags, 0o600))
            await self.stream.send_message(Packet(type=Packet.PACKET_REQ, ID=file_id))

    async def data(self, file_id: int, data: bytes) -> None:
        file = self.open.get(file_id)
        if file is None:
            raise ProtocolError(f"the sender sent data for file id {file_id}, never asked for")
        if data:
            file.buffer += data
            if len(file.buffer) >= _WRITE_BLOCK:
                await self.flush(file)
            return
        del self.open[file_id]
        self.done.append(file)
        if len(self.done) >= _CLOSE_BATCH:
            await self.close_done()

    async def close_done(self) -> None:
        """Finish the complete files: write what is left, set mode and mtime, close; in one
        worker-thread hop for many files, which costs far more than a small file's writes."""
        if self.done:
            files, self.done = self.done, []
            try:
                await run_in_thread(_close_files, files)
            except BaseException:
                self.done = [f for f in files if f.fd >= 0]
                raise

    async def flush(self, file: _File) -> None:
        if file.buffer:
            block = bytes(file.buffer)
            file.buffer.clear()
            await run_in_thread(_write_all, file.fd, block)

    def finish_dirs(self) -> None:
        for stat in reversed(self.dirs):  # children before their parents
            full = os.path.join(self.root, stat.path)
            os.chmod(full, posix_permissions(stat.mode))
            _set_time(full, stat, follow=True)

    def close_all(self) -> None:
        for file in [*self.open.values(), *self.done]:
            if file.fd >= 0:
                os.close(file.fd)
        self.open.clear()
        self.done.clear()


def _write_all(fd: int, block: bytes) -> None:
    view = memoryview(block)
    while view:
        view = view[os.write(fd, view) :]


def _close_files(files: list[_File]) -> None:
    for file in files:
        _close_file(file)


def _close_file(file: _File) -> None:
    try:
        _write_all(file.fd, bytes(file.buffer))
        file.buffer.clear()
        os.fchmod(file.fd, posix_permissions(file.stat.mode))
        os.utime(file.fd, ns=(file.stat.modTime, file.stat.modTime))
    finally:
        os.close(file.fd)
        file.fd = -1


def _set_time(path: str, stat: Stat, *, follow: bool) -> None:
    os.utime(path, ns=(stat.modTime, stat.modTime), follow_symlinks=follow)
