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
import tarfile
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
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from aiodockerapi.bodies.build_context import open_context
from aiodockerapi.bodies.dockerignore import DockerIgnore, parse_dockerignore
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
from aiodockerapi.buildkit.session.walk import TreeFilter, resolve_followpaths, walk_tree

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
        self.has_sent = asyncio.Event()

    async def recv_message(self) -> Any:
        try:
            return await self._in.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None

    async def send_message(self, message: Any) -> None:
        self.sent.append(message)
        self.has_sent.set()
        await self._out.send(message)

    def close(self) -> None:
        """End what this side sends (the other side then receives None)."""
        self._out.close()

    def close_all(self) -> None:
        self._out.close()
        self._in.close()


def pipe(
    metadata: MultiDict[str] | None = None, size: int = 8
) -> tuple[MemoryStream, MemoryStream]:
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


def write_mib_blocks(path: Path, count: int) -> None:
    """A file of ``count`` MiB blocks, block i all bytes i."""
    with open(path, "wb") as f:
        for i in range(count):
            f.write(bytes([i]) * (1 << 20))


def read_mib_blocks(path: Path) -> list[int]:
    """The byte each MiB block of ``path`` is made of (-1 for a mixed block)."""
    out = []
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            out.append(block[0] if block.count(block[:1]) == len(block) else -1)
    return out


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


PATTERNS = st.lists(
    st.one_of(
        st.sampled_from(["*", "**", "**/*é", "*/*", "!*", "!**/B*", "!a/**", "*.x"]),
        st.text(alphabet="aBzé*?!/", min_size=1, max_size=6),
    ),
    max_size=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.dictionaries(NAMES, TREE, max_size=5), patterns=PATTERNS)
async def test_dockerignore_means_the_same_for_tar_and_filesync(
    tree: dict[str, Any], patterns: list[str]
) -> None:
    """One matcher, one meaning: the files and symlinks FileSync sends for a context are
    the ones the tar context holds."""
    try:
        DockerIgnore(parse_dockerignore("\n".join(patterns)))
    except ValueError:
        assume(False)
    with scratch() as src:
        materialize(src, tree, [1_600_000_000_000_000_000])
        (src / ".dockerignore").write_text("\n".join(patterns) + "\n")
        if not (src / "Dockerfile").exists():
            (src / "Dockerfile").write_text("FROM scratch\n")
        body = b"".join([chunk async for chunk in open_context(src)])
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            in_tar = {m.name for m in tar.getmembers() if not m.isdir()}
        synced = context_dirs(src)["context"]
        tree_filter = TreeFilter(ignore=synced.ignore, keep=synced.keep)
        sent = {s.path for s in walk_tree(str(src), tree_filter) if not s.mode & MODE_DIR}
        assert sent == in_tar


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
    write_mib_blocks(tmp_path / "src" / "big", size >> 20)
    tracemalloc.start()
    try:
        await sync_and_export(tmp_path / "src", tmp_path / "dest")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert read_mib_blocks(tmp_path / "dest" / "big") == list(range(size >> 20))


# --- what FileSync sends ---------------------------------------------------------------------


async def pull(service: FileSyncService, metadata: MultiDict[str]) -> list[str]:
    """Call FileSync/DiffCopy as the daemon would; the paths it lists (none requested)."""
    daemon, client = pipe(metadata, size=10_000)
    try:
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                tg.start_soon(service.diff_copy, client)
                paths = []
                while (packet := await daemon.recv_message()).HasField("stat"):
                    paths.append(packet.stat.path)
                await daemon.send_message(Packet(type=Packet.PACKET_FIN))
                assert (await daemon.recv_message()).type == Packet.PACKET_FIN
    finally:
        daemon.close_all()
        client.close_all()
    return paths


def make_context(root: Path) -> None:
    for rel in ["app/main.py", "app/x.log", "build/out.o", "build/keep.txt", "ß/日.txt", "z"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    (root / "empty").mkdir()
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / ".dockerignore").write_text("*/*.log\nbuild\n!build/keep.txt\nDockerfile\n")


async def test_dockerignore_filters_the_context(tmp_path: Path) -> None:
    make_context(tmp_path)
    service = FileSyncService(context_dirs(tmp_path))
    paths = await pull(service, MultiDict({"dir-name": "context"}))
    # build/ is ignored but comes as the parent of its re-included file; the Dockerfile and
    # .dockerignore are always sent.
    assert paths == [
        ".dockerignore",
        "Dockerfile",
        "app",
        "app/main.py",
        "build",
        "build/keep.txt",
        "empty",
        "z",
        "ß",
        "ß/日.txt",
    ]


async def test_the_dockerfiles_own_ignore_file_wins(tmp_path: Path) -> None:
    make_context(tmp_path)
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "app" / "Dockerfile.dockerignore").write_text("*\n!app/main.py\n")
    dirs = context_dirs(tmp_path, "app/Dockerfile")
    assert await pull(FileSyncService(dirs), MultiDict({"dir-name": "context"})) == [
        ".dockerignore",
        "app",
        "app/Dockerfile",
        "app/main.py",
    ]
    assert await pull(FileSyncService(dirs), MultiDict({"dir-name": "dockerfile"})) == [
        "Dockerfile",
        "Dockerfile.dockerignore",
        "main.py",
        "x.log",
    ]


async def test_the_daemons_patterns_and_followpaths(tmp_path: Path) -> None:
    make_context(tmp_path)
    (tmp_path / "Dockerfile").unlink()
    (tmp_path / "df").mkdir()
    (tmp_path / "df" / "real").write_text("FROM scratch\n")
    (tmp_path / "Dockerfile").symlink_to("df/real")
    service = FileSyncService({"context": context_dirs(tmp_path)["context"]})
    md = MultiDict(
        [("dir-name", "context"), ("exclude-patterns", "app"), ("exclude-patterns", "b*")]
    )
    assert await pull(service, md) == [
        ".dockerignore",
        "Dockerfile",
        "df",
        "df/real",
        "empty",
        "z",
        "ß",
        "ß/日.txt",
    ]
    md = MultiDict(
        [("dir-name", "context"), ("include-patterns", "app/*.py"), ("include-patterns", "ß")]
    )
    assert await pull(service, md) == ["app", "app/main.py", "ß", "ß/日.txt"]
    # followpaths: the symlink and what it points at.
    md = MultiDict([("dir-name", "context"), ("followpaths", "Dockerfile")])
    assert await pull(service, md) == ["Dockerfile", "df", "df/real"]
    # Non-ASCII values come query-escaped, flagged by "<key>-encoded".
    md = MultiDict(
        [
            ("dir-name", "context"),
            ("include-patterns", "%C3%9F%2F%E6%97%A5.txt"),
            ("include-patterns-encoded", "1"),
        ]
    )
    assert await pull(service, md) == ["ß", "ß/日.txt"]


async def test_an_unknown_directory_is_not_found(tmp_path: Path) -> None:
    service = FileSyncService({"context": context_dirs(tmp_path / "..", __file__)["context"]})
    stream, _ = pipe(MultiDict({"dir-name": "/etc"}))
    with pytest.raises(GRPCError) as caught:
        await service.diff_copy(stream)
    assert caught.value.status is Status.NOT_FOUND and "/etc" in str(caught.value.message)
    stream.close_all()
    _.close_all()


def test_bad_context_arguments_fail_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="not a directory"):
        context_dirs(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="Dockerfile"):
        context_dirs(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("[\n")
    with pytest.raises(ValueError, match=r"\.dockerignore"):
        context_dirs(tmp_path)


# --- exports that try to escape --------------------------------------------------------------


def stat_of(path: str, mode: int, linkname: str = "") -> Packet:
    return Packet(
        type=Packet.PACKET_STAT, stat=Stat(path=path, mode=mode, linkname=linkname, modTime=1)
    )


END = Packet(type=Packet.PACKET_STAT)


async def export_stream(
    dest: Path, packets: list[Packet], replies: list[Packet] | None = None
) -> list[Packet]:
    """Play ``packets`` to a local export at ``dest``; what the receiver sent back (also
    into ``replies``, when it fails)."""
    daemon, client = pipe(size=1000)
    try:
        for packet in packets:
            await daemon.send_message(packet)
        daemon.close()
        with anyio.fail_after(TIMEOUT):
            await LocalExport(dest).receive(client)
    finally:
        daemon.close_all()
        client.close_all()
        if replies is not None:
            replies.extend(client.sent)
    return client.sent


@pytest.mark.parametrize(
    ("packets", "error"),
    [
        ([stat_of("../evil", 0o644)], "climbs out"),
        ([stat_of("ok", MODE_DIR | 0o755), stat_of("ok/../../evil", 0o644)], "climbs out"),
        ([stat_of("/tmp/evil", 0o644)], "absolute"),
        ([stat_of("a//b", 0o644)], "unclean"),
        # A symlink out, then a file "through" it: its parent was never a listed directory.
        (
            [stat_of("link", MODE_SYMLINK | 0o777, "{outside}"), stat_of("link/evil", 0o644)],
            "out of order",
        ),
        # The same name again, now as a directory to write into.
        (
            [stat_of("link", MODE_SYMLINK | 0o777, "{outside}"), stat_of("link", MODE_DIR | 0o755)],
            "out of order",
        ),
        ([stat_of("b", 0o644), stat_of("a", 0o644)], "out of order"),
        ([stat_of("h", 0o644, "../../etc/passwd")], "climbs out"),
        ([stat_of("h", 0o644, "nothing")], "no file received before"),
        ([stat_of("a", 0o644), END, stat_of("b", 0o644)], "after the end of its"),
    ],
)
async def test_an_export_never_writes_outside_dest(
    tmp_path: Path, packets: list[Packet], error: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    packets = [Packet.FromString(p.SerializeToString()) for p in packets]  # shared: copy
    for p in packets:
        if p.HasField("stat"):
            p.stat.linkname = p.stat.linkname.format(outside=outside)
    before = sorted(os.listdir(tmp_path))
    replies: list[Packet] = []
    with pytest.raises(ProtocolError, match=error):
        await export_stream(tmp_path / "dest", [*packets, END], replies)
    # The daemon is told why, as fsutil's receiver does.
    assert replies[-1].type == Packet.PACKET_ERR and error in replies[-1].data.decode()
    # Nothing outside, no dest, no staging directory left beside it.
    assert sorted(os.listdir(tmp_path)) == before
    assert os.listdir(outside) == []
    assert not (tmp_path.parent / "evil").exists()


async def test_an_export_lands_whole(tmp_path: Path) -> None:
    sent = await export_stream(
        tmp_path / "dest",
        [
            stat_of("d", MODE_DIR | 0o555),
            stat_of("d/f", 0o755),
            stat_of("d/h", 0o755, "d/f"),
            stat_of("l", MODE_SYMLINK | 0o777, "/etc/passwd"),
            stat_of("p", (1 << 25) | 0o640),  # a named pipe
            stat_of("s", (1 << 24) | 0o755),  # a socket: skipped
            END,
            Packet(type=Packet.PACKET_DATA, ID=1, data=b"hello"),
            Packet(type=Packet.PACKET_DATA, ID=1),
            Packet(type=Packet.PACKET_FIN),
        ],
    )
    assert [(p.type, p.ID) for p in sent] == [(Packet.PACKET_REQ, 1), (Packet.PACKET_FIN, 0)]
    dest = tmp_path / "dest"
    assert (dest / "d" / "f").read_bytes() == b"hello"
    assert os.stat(dest / "d" / "h").st_ino == os.stat(dest / "d" / "f").st_ino
    assert stat.S_IMODE(os.stat(dest / "d").st_mode) == 0o555
    assert os.readlink(dest / "l") == "/etc/passwd"
    assert os.stat(dest / "d" / "f").st_mtime_ns == 1
    assert stat.S_ISFIFO(os.lstat(dest / "p").st_mode)
    assert stat.S_IMODE(os.lstat(dest / "p").st_mode) == 0o640
    assert sorted(os.listdir(dest)) == ["d", "l", "p"]


async def test_an_error_from_the_daemon_leaves_nothing(tmp_path: Path) -> None:
    packets = [
        stat_of("f", 0o644),
        END,
        Packet(type=Packet.PACKET_DATA, ID=0, data=b"x"),
        Packet(type=Packet.PACKET_ERR, data=b"disk full"),
    ]
    with pytest.raises(ProtocolError, match="error from the sender: disk full"):
        await export_stream(tmp_path / "dest", packets)
    assert os.listdir(tmp_path) == []
    with pytest.raises(ProtocolError, match="before it was complete"):
        await export_stream(tmp_path / "dest", packets[:3])
    assert os.listdir(tmp_path) == []


async def test_export_destination_rules(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old").write_text("old")
    with pytest.raises(FileExistsError, match="not empty"):
        LocalExport(dest).check()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LocalExport(tmp_path / "no" / "dest").check()
    # replace=True swaps the whole directory once the export is complete.
    daemon, client = pipe(size=100)
    for p in [
        stat_of("new", 0o644),
        END,
        Packet(type=Packet.PACKET_DATA, ID=0),
        Packet(type=Packet.PACKET_FIN),
    ]:
        await daemon.send_message(p)
    daemon.close()
    with anyio.fail_after(TIMEOUT):
        await LocalExport(dest, replace=True).receive(client)
    daemon.close_all()
    client.close_all()
    assert os.listdir(dest) == ["new"]
    assert os.listdir(tmp_path) == ["dest"]
    # A failed export leaves the directory it would have replaced as it was.
    daemon, client = pipe(size=100)
    for p in [stat_of("other", 0o644), END, Packet(type=Packet.PACKET_ERR, data=b"boom")]:
        await daemon.send_message(p)
    daemon.close()
    with pytest.raises(ProtocolError, match="boom"), anyio.fail_after(TIMEOUT):
        await LocalExport(dest, replace=True).receive(client)
    daemon.close_all()
    client.close_all()
    assert os.listdir(dest) == ["new"]
    assert os.listdir(tmp_path) == ["dest"]


# --- cancellation ----------------------------------------------------------------------------


async def test_cancelled_mid_sync_leaves_nothing_open(tmp_path: Path) -> None:
    """grpclib cancels a handler's task when the daemon resets the stream: the file being
    read is closed, once its worker thread is done with it."""
    (tmp_path / "big").write_bytes(b"x" * (8 << 20))
    fds = open_fds()
    daemon, client = pipe(MultiDict({"dir-name": "context"}), size=4)
    service = FileSyncService({"context": context_dirs(tmp_path, "big")["context"]})
    task = asyncio.ensure_future(service.diff_copy(client))
    try:
        with anyio.fail_after(TIMEOUT):
            assert (await daemon.recv_message()).stat.path == "big"
            await daemon.send_message(Packet(type=Packet.PACKET_REQ, ID=0))
            got = 0
            while got < 1 << 20:
                packet = await daemon.recv_message()
                got += len(packet.data)
            assert open_fds() == fds + 1  # the file being sent
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        daemon.close_all()
        client.close_all()
    assert open_fds() == fds


async def test_cancelled_mid_export_leaves_no_dest(tmp_path: Path) -> None:
    fds = open_fds()
    daemon, client = pipe(size=100)
    for p in [
        stat_of("d", MODE_DIR | 0o755),
        stat_of("d/f", 0o644),
        END,
        Packet(type=Packet.PACKET_DATA, ID=1, data=b"x" * 1000),
    ]:
        await daemon.send_message(p)
    task = asyncio.ensure_future(LocalExport(tmp_path / "dest").receive(client))
    with anyio.fail_after(TIMEOUT):
        await client.has_sent.wait()  # the REQ for d/f: the export is under way
    assert len(os.listdir(tmp_path)) == 1  # the staging directory
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    daemon.close_all()
    client.close_all()
    assert os.listdir(tmp_path) == []
    assert open_fds() == fds


# --- tar exports and the FileSend service ----------------------------------------------------


def raw_chunks(*chunks: bytes) -> list[RawMessage]:
    return [RawMessage(BytesMessage(data=c).SerializeToString()) for c in chunks]


async def call_filesend(
    service: FileSendService,
    messages: list[Any],
    metadata: MultiDict[str] | None = None,
    end: bool = True,
) -> MemoryStream:
    daemon, client = pipe(metadata, size=1000)
    try:
        for m in messages:
            await daemon.send_message(m)
        if end:
            daemon.close()
        with anyio.fail_after(TIMEOUT):
            await service.diff_copy(client)
    finally:
        daemon.close_all()
        client.close_all()
    return client


async def test_tar_export_to_a_path_and_a_writer(tmp_path: Path) -> None:
    writer = io.BytesIO()
    service = FileSendService([TarExport(tmp_path / "out.tar"), TarExport(writer)])
    await call_filesend(service, raw_chunks(b"abc", b"", b"def" * 500_000))
    assert (tmp_path / "out.tar").read_bytes() == b"abc" + b"def" * 500_000
    await call_filesend(
        service, raw_chunks(b"x", b"y"), MultiDict({"buildkit-attachable-exporter-id": "1"})
    )
    assert writer.getvalue() == b"xy"
    with pytest.raises(GRPCError, match="exporter 2 not found"):
        await call_filesend(service, [], MultiDict({"buildkit-attachable-exporter-id": "2"}))


async def test_a_failed_tar_export_leaves_no_file(tmp_path: Path) -> None:
    service = FileSendService([TarExport(tmp_path / "out.tar")])

    daemon, client = pipe(size=10)
    await daemon.send_message(raw_chunks(b"partial")[0])
    task = asyncio.ensure_future(service.diff_copy(client))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    daemon.close_all()
    client.close_all()
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError, match="neither a path nor a writer"):
        TarExport(42)  # type: ignore[arg-type]


async def test_local_export_through_the_service(tmp_path: Path) -> None:
    """FileSend/DiffCopy takes raw messages: a local export's are fsutil Packets."""
    service = FileSendService([LocalExport(tmp_path / "dest")])
    packets = [
        stat_of("f", 0o600),
        END,
        Packet(type=Packet.PACKET_DATA, ID=0, data=b"z"),
        Packet(type=Packet.PACKET_DATA, ID=0),
        Packet(type=Packet.PACKET_FIN),
    ]
    client = await call_filesend(service, [RawMessage(p.SerializeToString()) for p in packets])
    assert [Packet.FromString(m.data).type for m in client.sent] == [
        Packet.PACKET_REQ,
        Packet.PACKET_FIN,
    ]
    assert (tmp_path / "dest" / "f").read_bytes() == b"z"
    assert set(service.__mapping__()) == {"/moby.filesync.v1.FileSend/DiffCopy"}


async def test_failures_answer_the_daemon_a_grpc_status(tmp_path: Path) -> None:
    """A refused export and an unreadable context answer INVALID_ARGUMENT / INTERNAL with the
    cause (not grpclib's UNKNOWN), and the export keeps the cause for the caller."""
    export = LocalExport(tmp_path / "dest")
    service = FileSendService([export])
    with pytest.raises(GRPCError) as caught:
        await call_filesend(service, [RawMessage(stat_of("../x", 0o644).SerializeToString())])
    assert caught.value.status is Status.INVALID_ARGUMENT
    assert "climbs out" in str(caught.value.message)
    assert isinstance(export.error, ProtocolError)

    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    os.mkdir(os.fsencode(tmp_path / "ctx") + b"/bad\xff")
    sync = FileSyncService(context_dirs(tmp_path / "ctx"))
    daemon, client = pipe(MultiDict({"dir-name": "context"}), size=100)
    try:
        with pytest.raises(GRPCError) as caught, anyio.fail_after(TIMEOUT):
            await sync.diff_copy(client)
    finally:
        daemon.close_all()
        client.close_all()
    assert caught.value.status is Status.INTERNAL
    assert "not valid UTF-8" in str(caught.value.message)
    assert client.sent[-1].type == Packet.PACKET_ERR


KIND_MODES = {"dir": MODE_DIR | 0o755, "file": 0o644, "link": MODE_SYMLINK | 0o777, "hard": 0o644}
CRAFTED = st.lists(
    st.tuples(
        st.lists(
            st.sampled_from(["a", "b", "l", "日"] * 4 + ["..", ".", ""]), min_size=1, max_size=3
        ),
        st.sampled_from([False] * 6 + [True]),
        st.sampled_from(list(KIND_MODES)),
        st.sampled_from(["{outside}", "..", "../..", "a", "l/x", "/", "a/b"]),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=CRAFTED, ordered=st.booleans())
async def test_no_packet_stream_writes_outside_dest(entries: list[Any], ordered: bool) -> None:
    """Whatever paths, kinds and link targets a stream lists, nothing lands outside dest:
    the export is refused (and leaves nothing) or everything is inside it."""
    if ordered:  # in fsutil's order, so that more streams get past the order check
        entries = sorted(
            {"/".join(e[0]): e for e in entries}.values(), key=lambda e: stat_key("/".join(e[0]))
        )
    with scratch() as tmp:
        outside = tmp / "outside"
        outside.mkdir()
        packets = []
        files = []
        for i, (parts, absolute, kind, target) in enumerate(entries):
            path = ("/" if absolute else "") + "/".join(parts)
            linkname = target.format(outside=outside) if kind in ("link", "hard") else ""
            packets.append(stat_of(path, KIND_MODES[kind], linkname))
            if kind == "file":
                files.append(i)
        packets.append(END)
        for i in files:
            packets += [Packet(type=Packet.PACKET_DATA, ID=i, data=b"x")]
            packets += [Packet(type=Packet.PACKET_DATA, ID=i)]
        packets.append(Packet(type=Packet.PACKET_FIN))
        box = tmp / "box"  # dest's parent, where the staging directory goes
        box.mkdir()
        try:
            await export_stream(box / "dest", packets)
        except (ProtocolError, OSError):
            assert os.listdir(box) == []
        else:
            assert os.listdir(box) == ["dest"]
            for dirpath, _, filenames in os.walk(box / "dest"):  # symlinks not followed
                for name in filenames:
                    assert Path(dirpath, name).is_relative_to(box / "dest")
        assert sorted(os.listdir(tmp)) == ["box", "outside"]
        assert os.listdir(outside) == []


def test_followpaths_resolve_symlinks_wildcards_and_loops(tmp_path: Path) -> None:
    (tmp_path / "df").mkdir()
    (tmp_path / "df" / "Dockerfile.real").write_text("FROM scratch\n")
    (tmp_path / "Dockerfile").symlink_to("/df/Dockerfile.real")  # absolute: from the root
    (tmp_path / "dir").symlink_to("df")
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    assert resolve_followpaths(str(tmp_path), ["Dockerfile"]) == [
        "Dockerfile",
        "df/Dockerfile.real",
    ]
    assert resolve_followpaths(str(tmp_path), ["dir/Docker*", "missing"]) == [
        "df/Dockerfile.real",
        "dir",
        "missing",
    ]
    assert resolve_followpaths(str(tmp_path), ["loop1", "../../x"]) == ["loop1", "loop2", "x"]
    # The same symlink on the way to two paths leads to both.
    assert resolve_followpaths(str(tmp_path), ["dir/a", "dir/b"]) == ["df/a", "df/b", "dir"]
