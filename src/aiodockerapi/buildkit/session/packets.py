"""fsutil's Packet protocol: Go file modes, the entry order rule, safe relative paths.

Both directions of BuildKit's file transfer (FileSync pulls a local directory, FileSend's
local export pushes one back) are a stream of fsutil ``Packet`` messages: one ``STAT`` per
entry, depth-first with names sorted bytewise and each directory before its contents (an
entry's id is its position in that listing); a ``STAT`` without a stat ends the listing; the
receiver asks for a regular file's content with ``REQ(id)`` and the sender answers ``DATA``
packets and an empty ``DATA``; ``FIN`` each way ends the transfer, ``ERR`` aborts it.
"""

from __future__ import annotations

import asyncio
import stat as _stat
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote_plus

from .fsutil_pb2 import Packet, Stat

__all__ = [
    "CHUNK_SIZE",
    "MODE_DIR",
    "MODE_SYMLINK",
    "MODE_TYPE",
    "OrderCheck",
    "Packet",
    "PacketStream",
    "PeerError",
    "ProtocolError",
    "Stat",
    "check_relative",
    "go_mode",
    "grpc_error",
    "metadata_values",
    "posix_permissions",
    "run_in_thread",
]

_T = TypeVar("_T")

# Data packets stay well under gRPC's 4 MiB default message limit.
CHUNK_SIZE = 32 * 1024

# Go's os.FileMode bits.
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMED_PIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHAR_DEVICE = 1 << 21
MODE_STICKY = 1 << 20
MODE_IRREGULAR = 1 << 19
MODE_TYPE = (
    MODE_DIR
    | MODE_SYMLINK
    | MODE_NAMED_PIPE
    | MODE_SOCKET
    | MODE_DEVICE
    | MODE_CHAR_DEVICE
    | MODE_IRREGULAR
)

_KIND_BITS = {
    _stat.S_IFDIR: MODE_DIR,
    _stat.S_IFLNK: MODE_SYMLINK,
    _stat.S_IFBLK: MODE_DEVICE,
    _stat.S_IFCHR: MODE_DEVICE | MODE_CHAR_DEVICE,
    _stat.S_IFIFO: MODE_NAMED_PIPE,
    _stat.S_IFSOCK: MODE_SOCKET,
    _stat.S_IFREG: 0,
}
_SPECIAL_BITS = (
    (_stat.S_ISUID, MODE_SETUID),
    (_stat.S_ISGID, MODE_SETGID),
    (_stat.S_ISVTX, MODE_STICKY),
)


class ProtocolError(Exception):
    """The other side broke the Packet protocol, or sent a path that isn't allowed."""


class PeerError(ProtocolError):
    """The other side reported an error (an ``ERR`` packet): nothing to tell it back."""


class PacketStream(Protocol):
    """What the file transfer handlers need of a grpclib server stream."""

    @property
    def metadata(self) -> Any: ...

    async def recv_message(self) -> Any: ...

    async def send_message(self, message: Any) -> None: ...


def go_mode(st_mode: int) -> int:
    """Go's ``os.FileMode`` for a POSIX ``st_mode`` (what ``Stat.mode`` carries)."""
    mode = (st_mode & 0o777) | _KIND_BITS.get(_stat.S_IFMT(st_mode), MODE_IRREGULAR)
    for posix, go in _SPECIAL_BITS:
        if st_mode & posix:
            mode |= go
    return mode


def posix_permissions(mode: int) -> int:
    """The ``chmod`` bits (permissions, setuid, setgid, sticky) of a Go file mode."""
    perm = mode & 0o777
    for posix, go in _SPECIAL_BITS:
        if mode & go:
            perm |= posix
    return perm


def check_relative(path: str) -> None:
    """Refuse a path that is empty, absolute, unclean or climbs out with ``..``."""
    if not path:
        raise ProtocolError("empty path in the file stream")
    if path.startswith("/"):
        raise ProtocolError(f"absolute path {path!r} in the file stream")
    if "\x00" in path:
        raise ProtocolError(f"path {path!r} in the file stream holds a NUL byte")
    for part in path.split("/"):
        if part == "..":
            raise ProtocolError(f"path {path!r} in the file stream climbs out with '..'")
        if part in ("", "."):
            raise ProtocolError(f"unclean path {path!r} in the file stream")


class OrderCheck:
    """fsutil's order rule: depth-first, names bytewise sorted, each parent listed first."""

    def __init__(self) -> None:
        # (directory, last name seen in it); "" is the root.
        self._stack: list[tuple[str, str]] = [("", "")]

    def add(self, path: str, is_dir: bool) -> None:
        check_relative(path)
        parent, _, name = path.rpartition("/")
        stack = self._stack
        while stack and stack[-1][0] != parent:
            stack.pop()
        if not stack:
            raise ProtocolError(
                f"file stream out of order: {path!r} comes without its directory before it"
            )
        last = stack[-1][1]
        # For valid UTF-8, code point order is byte order.
        if last and name <= last:
            previous = f"{parent}/{last}" if parent else last
            raise ProtocolError(f"file stream out of order: {path!r} after {previous!r}")
        stack[-1] = (parent, name)
        if is_dir:
            stack.append((path, ""))


def metadata_values(metadata: Any, key: str) -> list[str]:
    """All values of ``key`` in gRPC metadata, decoded when ``<key>-encoded`` says so.

    BuildKit percent-encodes (query style) values holding non-ASCII characters and marks
    the key with ``<key>-encoded: 1``.
    """
    values = _getall(metadata, key)
    flag = _getall(metadata, key + "-encoded")
    if flag and flag[0].strip().lower() in ("1", "t", "true"):
        values = [unquote_plus(v) for v in values]
    return values


def _getall(metadata: Any, key: str) -> list[str]:
    if metadata is None:
        return []
    if hasattr(metadata, "getall"):
        raw: Iterable[Any] = metadata.getall(key, ())
    elif isinstance(metadata, Mapping):
        value = metadata.get(key)
        raw = () if value is None else value if isinstance(value, (list, tuple)) else (value,)
    else:
        raw = (v for k, v in metadata if k == key)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in raw]


def stat_packet(stat: Stat | None) -> Packet:
    """A ``STAT`` packet; ``None`` ends the listing."""
    packet = Packet(type=Packet.PACKET_STAT)
    if stat is not None:
        packet.stat.CopyFrom(stat)
    return packet


def grpc_error(exc: Exception) -> Exception:
    """What the daemon is answered for a failed transfer: a gRPC status naming the cause
    (grpclib would log anything else as an application error and answer UNKNOWN)."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    if isinstance(exc, GRPCError):
        return exc
    status = Status.INVALID_ARGUMENT if isinstance(exc, ProtocolError) else Status.INTERNAL
    return GRPCError(status, str(exc))


def err_packet(message: str) -> Packet:
    return Packet(type=Packet.PACKET_ERR, data=message.encode("utf-8", "replace"))


async def run_in_thread(func: Callable[..., _T], *args: Any) -> _T:
    """``func(*args)`` on a worker thread; if cancelled, the thread is waited for first.

    The caller's cleanup (closing a file descriptor, removing a directory) then never races
    a read or write still running on it (anyio's shield does not hold against the plain
    asyncio cancellation grpclib uses).
    """
    future = asyncio.get_running_loop().run_in_executor(None, func, *args)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
