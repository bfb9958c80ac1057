"""BuildKit's file transfer without a daemon: fsutil's packet order, FileSync's filters,
FileSend's exports, paths that try to escape, cancellation.

The handlers are driven through an in-memory stream with grpclib's Stream API
(recv_message, send_message, metadata).
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import tempfile
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from aiodockerapi.buildkit.session.filesend import (
    FileSendService,
    LocalExport,
    RawMessage,
    TarExport,
)
from aiodockerapi.buildkit.session.filesync import FileSyncService, context_dirs, send_tree
from aiodockerapi.buildkit.session.filesync_pb2 import BytesMessage
from aiodockerapi.buildkit.session.fsutil_pb2 import Packet, Stat
from aiodockerapi.buildkit.session.packets import (
    MODE_DIR,
    MODE_SYMLINK,
    ProtocolError,
    go_mode,
    posix_permissions,
)
from aiodockerapi.buildkit.session.walk import TreeFilter, walk_tree

TIMEOUT = 30


class MemoryStream:
    """One end of an in-memory message pipe, shaped like grpclib's server Stream."""

    def __init__(
        self,
        incoming: MemoryObjectReceiveStream[Any],
        outgoing: MemoryObjectSendStream[Any],
        metadata: MultiDict[str] | None = None,
    ) -> None:
        self._in, self._out = incoming, outgoing
        self.metadata = metadata if metadata is not None else MultiDict()
        self.sent: list[Any] = []

    async def recv_message(self) -> Any:
        try:
            return await self._in.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None

    async def send_message(self, message: Any) -> None:
        self.sent.append(message)
        await self._out.send(message)

    def close(self) -> None:
        """End what this side sends (the other side then receives None)."""
        self._out.close()

    def close_all(self) -> None:
        self._out.close()
        self._in.close()


def pipe(metadata: MultiDict[str] | None = None, size: int = 8) -> tuple[MemoryStream, MemoryStream]:
    """Two connected ends: what one sends, the other receives."""
    a_out, b_in = anyio.create_memory_object_stream[Any](size)
    b_out, a_in = anyio.create_memory_object_stream[Any](size)
    return MemoryStream(a_in, a_out, metadata), MemoryStream(b_in, b_out, metadata)


async def sync_and_export(
    root: Path, dest: Path, tree_filter: TreeFilter | None = None
) -> MemoryStream:
    """Send ``root`` with the FileSync sender into a local export at ``dest``."""
    sender, receiver = pipe()
    try:
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:

                async def send() -> None:
                    await send_tree(sender, str(root), tree_filter or TreeFilter())
                    sender.close()

                tg.start_soon(send)
                await LocalExport(dest).receive(receiver)
    finally:
        sender.close_all()
        receiver.close_all()
    return sender


def snapshot(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root``: kind, permission bits, content or target, mtime."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st_ = os.lstat(full)
            perm = stat.S_IMODE(st_.st_mode)
            if stat.S_ISLNK(st_.st_mode):
                out[rel] = ("link", os.readlink(full), st_.st_mtime_ns)
            elif stat.S_ISDIR(st_.st_mode):
                out[rel] = ("dir", perm, st_.st_mtime_ns)
            else:
                out[rel] = ("file", perm, Path(full).read_bytes(), st_.st_mtime_ns)
    return out


def stat_key(path: str) -> list[bytes]:
    # Depth-first, siblings sorted bytewise: the order of the components' bytes.
    return [part.encode() for part in path.split("/")]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="filesync-") as tmp:
        yield Path(tmp)


# --- file modes ------------------------------------------------------------------------------


def test_go_modes_are_not_posix_modes() -> None:
    assert go_mode(stat.S_IFDIR | 0o755) == MODE_DIR | 0o755
    assert go_mode(stat.S_IFLNK | 0o777) == MODE_SYMLINK | 0o777
    assert go_mode(stat.S_IFREG | 0o755) == 0o755
    assert go_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert go_mode(stat.S_IFDIR | stat.S_ISVTX | 0o777) == MODE_DIR | (1 << 20) | 0o777
    assert posix_permissions((1 << 23) | (1 << 22) | (1 << 20) | 0o750) == 0o7750


# --- arbitrary trees -------------------------------------------------------------------------

NAMES = st.text(alphabet="aBz.-_ éß日🙂", min_size=1, max_size=5).filter(
    lambda s: s not in (".", "..")
)
CONTENT = st.one_of(
    st.binary(max_size=40),
    st.integers(0, 3 * 32 * 1024 + 7).map(lambda n: (b"0123456789abcdef" * (n // 16 + 1))[:n]),
)
FILE = st.tuples(st.just("file"), CONTENT, st.sampled_from([0o644, 0o755, 0o600, 0o444, 0o4755]))
LINK = st.tuples(st.just("link"), st.sampled_from(["../up", "/etc/passwd", "sibling", "日/本"]))
TREE = st.recursive(
    st.one_of(FILE, LINK),
    lambda children: st.tuples(
        st.just("dir"),
        st.dictionaries(NAMES, children, max_size=4),
        st.sampled_from([0o755, 0o700, 0o555]),
    ),
    max_leaves=12,
)


def materialize(root: Path, entries: dict[str, Any], clock: list[int]) -> None:
    for name, entry in entries.items():
        path = root / name
        clock[0] += 1_000_003
        mtime = clock[0]
        if entry[0] == "file":
            path.write_bytes(entry[1])
            path.chmod(entry[2])
            os.utime(path, ns=(mtime, mtime))
        elif entry[0] == "link":
            path.symlink_to(entry[1])
            os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
        else:
            path.mkdir()
            materialize(path, entry[1], clock)
            path.chmod(entry[2])
            os.utime(path, ns=(mtime, mtime))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.dictionaries(NAMES, TREE, max_size=5))
async def test_any_tree_goes_in_order_and_comes_back_whole(tree: dict[str, Any]) -> None:
    """STATs depth-first and bytewise sorted, REQ ids name files, and a sender → receiver
    round trip reproduces the tree: content, modes, symlinks, mtimes."""
    with scratch() as tmp:
        src, dest = tmp / "src", tmp / "dest"
        src.mkdir()
        materialize(src, tree, [1_600_000_000_000_000_000])
        sender = await sync_and_export(src, dest)

        packets: list[Packet] = sender.sent
        stats = [p.stat for p in packets if p.type == Packet.PACKET_STAT and p.HasField("stat")]
        paths = [s.path for s in stats]
        assert paths == sorted(paths, key=stat_key)
        assert set(paths) == set(snapshot(src))
        assert [p.type for p in packets].count(Packet.PACKET_STAT) == len(stats) + 1
        assert packets[-1].type == Packet.PACKET_FIN
        # Every regular file was asked for by its position in the listing, once.
        data: dict[int, bytes] = {}
        for p in packets:
            if p.type == Packet.PACKET_DATA:
                data[p.ID] = data.get(p.ID, b"") + p.data
        files = {i for i, s in enumerate(stats) if not s.mode & (MODE_DIR | MODE_SYMLINK)}
        assert set(data) == files
        for i in files:
            assert data[i] == (src / stats[i].path).read_bytes()
        assert snapshot(dest) == snapshot(src)


async def test_received_stats_match_what_is_sent_again(tmp_path: Path) -> None:
    """What a receiver writes stats the same as its source (size, mtime, mode): the
    daemon's cache of a synced dir compares these to decide what to ask for again."""
    (tmp_path / "src" / "d").mkdir(parents=True)
    (tmp_path / "src" / "d" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (tmp_path / "src" / "d" / "run.sh").chmod(0o755)
    (tmp_path / "src" / "ß.txt").write_bytes(b"x" * 100_000)
    (tmp_path / "src" / "link").symlink_to("d/run.sh")
    (tmp_path / "src" / "empty").mkdir()
    await sync_and_export(tmp_path / "src", tmp_path / "dest")

    def listing(root: Path) -> list[tuple[Any, ...]]:
        return [
            (s.path, s.mode, s.size, s.uid, s.gid, s.linkname)
            + (() if s.mode & MODE_DIR else (s.modTime,))
            for s in walk_tree(str(root), TreeFilter())
        ]

    first = listing(tmp_path / "src")
    assert first == listing(tmp_path / "src")
    assert first == listing(tmp_path / "dest")
    assert [s[0] for s in first] == ["d", "d/run.sh", "empty", "link", "ß.txt"]


async def test_a_large_file_is_streamed(tmp_path: Path) -> None:
    """A 24 MiB file goes through in chunks: never whole in memory on either side."""
    size = 24 * 1024 * 1024
    (tmp_path / "src").mkdir()
    with open(tmp_path / "src" / "big", "wb") as f:
        for i in range(size // (1 << 20)):
            f.write(bytes([i]) * (1 << 20))
    tracemalloc.start()
    try:
        await sync_and_export(tmp_path / "src", tmp_path / "dest")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert os.path.getsize(tmp_path / "dest" / "big") == size
    with open(tmp_path / "dest" / "big", "rb") as f:
        f.seek(size - 1)
        assert f.read() == bytes([size // (1 << 20) - 1])
