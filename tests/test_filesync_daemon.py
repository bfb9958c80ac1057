"""FileSync and FileSend against the real daemons: a directory context pulled over the
session (with .dockerignore, a symlink, an executable, an empty directory, a non-ASCII name
and a 100 MiB file), a second build asking only for what changed, local and tar exports."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker
from aiodockerapi import operations as ops
from aiodockerapi.buildkit import run_build
from aiodockerapi.buildkit.session.build import SessionOptions, session_build
from aiodockerapi.buildkit.session.filesend import FileSendService, LocalExport, TarExport
from aiodockerapi.buildkit.session.filesync import FileSyncService, context_dirs
from aiodockerapi.buildkit.session.fsutil_pb2 import Packet
from aiodockerapi.buildkit.session.packets import PacketStream

from .sandbox import ENGINE

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit session"),
]

BIG = 100 * 1024 * 1024
DOCKERFILE = """\
FROM aiodockerapi-test/busybox:latest AS ctx
COPY . /ctx
RUN test -x /ctx/bin/run.sh && test -L /ctx/link && test -d /ctx/empty \\
 && test ! -e /ctx/junk.log && grep -q héllo /ctx/ß/日本.txt
FROM scratch
COPY --from=ctx /ctx /
"""


class CountingSync(FileSyncService):
    """FileSync that records, per call, the paths listed and the bytes of content sent."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.requested: list[str] = []
        self.data_bytes = 0

    async def diff_copy(self, stream: PacketStream) -> None:
        await super().diff_copy(_Counting(stream, self))


class _Counting:
    def __init__(self, stream: PacketStream, owner: CountingSync) -> None:
        self._stream, self._owner = stream, owner
        self.metadata = stream.metadata
        self._stats: list[str] = []

    async def recv_message(self) -> Any:
        packet = await self._stream.recv_message()
        if packet is not None and packet.type == Packet.PACKET_REQ:
            self._owner.requested.append(self._stats[packet.ID])
        return packet

    async def send_message(self, packet: Any) -> None:
        if packet.type == Packet.PACKET_STAT and packet.HasField("stat"):
            self._stats.append(packet.stat.path)
        elif packet.type == Packet.PACKET_DATA:
            self._owner.data_bytes += len(packet.data)
        await self._stream.send_message(packet)


def make_context(ctx: Path) -> None:
    (ctx / "bin").mkdir(parents=True)
    (ctx / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (ctx / "bin" / "run.sh").chmod(0o755)
    (ctx / "link").symlink_to("bin/run.sh")
    (ctx / "empty").mkdir()
    (ctx / "ß").mkdir()
    (ctx / "ß" / "日本.txt").write_text("héllo")
    (ctx / "junk.log").write_text("ignored")
    (ctx / ".dockerignore").write_text("*.log\n")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    with open(ctx / "big.bin", "wb") as f:
        block = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(BIG // len(block)):
            f.write(block)


def tree_of(root: Path) -> dict[str, tuple[Any, ...]]:
    """Kind, permission bits and content digest (or link target) of each entry."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            rel = os.path.relpath(full, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), _digest_file(full))
    return out


def tree_of_tar(data: bytes) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            rel = m.name.removeprefix("./").rstrip("/")
            if not rel or rel == ".":
                continue
            if m.issym():
                out[rel] = ("link", m.linkname)
            elif m.isdir():
                out[rel] = ("dir", m.mode & 0o7777)
            else:
                f = tar.extractfile(m)
                assert f is not None
                out[rel] = ("file", m.mode & 0o7777, hashlib.sha256(f.read()).hexdigest())
    return out


def _digest_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def expected(ctx: Path) -> dict[str, tuple[Any, ...]]:
    tree = tree_of(ctx)
    del tree["junk.log"]  # .dockerignore'd
    return tree


async def session_context_build(
    docker: Docker, ctx: Path, sync: FileSyncService, export: FileSendService, kind: str
) -> None:
    req = ops.ImageBuild(
        remote="client-session",
        dockerfile="Dockerfile",
        version="2",
        networkmode="none",
        outputs=f'[{{"Type": "{kind}", "Attrs": {{}}}}]',
    )
    options = SessionOptions(services=[sync, export], shared_key=f"ctx-{ctx}")
    stream = session_build(docker.transport, req, options, data=None, headers={})
    result = await asyncio.wait_for(run_build(stream), 300)
    assert not [s for s in result.state.steps if s.state == "error"]


async def test_directory_context_and_exports(docker: Docker, image: str, tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    await asyncio.to_thread(make_context, ctx)
    want = await asyncio.to_thread(expected, ctx)

    # First build: everything goes up once, the result comes back as a local export.
    sync = CountingSync(context_dirs(ctx))
    dest = tmp_path / "out"
    await session_context_build(docker, ctx, sync, FileSendService([LocalExport(dest)]), "local")
    assert BIG <= sync.data_bytes < BIG + (1 << 20)
    assert "junk.log" not in sync.requested and "big.bin" in sync.requested
    assert await asyncio.to_thread(tree_of, dest) == want

    # Second build of the same directory, one small file changed: only that goes up.
    (ctx / "ß" / "日本.txt").write_text("héllo again")
    want = await asyncio.to_thread(expected, ctx)
    sync = CountingSync(context_dirs(ctx))
    tar_out = io.BytesIO()
    await session_context_build(docker, ctx, sync, FileSendService([TarExport(tar_out)]), "tar")
    assert [p for p in sync.requested if p not in ("Dockerfile", ".dockerignore")] == ["ß/日本.txt"]
    assert sync.data_bytes < 1 << 20
    assert await asyncio.to_thread(tree_of_tar, tar_out.getvalue()) == want


async def test_tar_export_to_a_path(docker: Docker, image: str, tmp_path: Path) -> None:
    """A tar export to a path lands whole (setuid bit kept), with no partial file left."""
    ctx = tmp_path / "ctx"
    (ctx / "d").mkdir(parents=True)
    (ctx / "d" / "x").write_text("x")
    (ctx / "d" / "x").chmod(0o4750)
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY d /d\n")
    out = tmp_path / "out.tar"
    sync = FileSyncService(context_dirs(ctx))
    await session_context_build(docker, ctx, sync, FileSendService([TarExport(out)]), "tar")
    tree = tree_of_tar(out.read_bytes())
    assert tree["d/x"][:2] == ("file", 0o4750)
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path)) == ["ctx", "out.tar"]


IMAGE_DOCKERFILE = """\
FROM aiodockerapi-test/busybox:latest
RUN mkdir -p /data/empty /data/ß && echo hi > /data/f && chmod 4755 /data/f \\
 && ln -s f /data/l && ln /data/f /data/hard && echo 日本 > /data/ß/日本
"""


async def test_exports_match_the_image_filesystem(
    docker: Docker, image: str, tmp_path: Path
) -> None:
    """The same build exported locally and as a tar holds what the built image's container
    holds (symlinks, a hard link, setuid, an empty directory, non-ASCII names)."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(IMAGE_DOCKERFILE)
    tag = "aiodockerapi-test/filesync-export:latest"
    await asyncio.wait_for(
        run_build(docker.images.build(ctx, t=tag, version="2", networkmode="none")), 300
    )
    try:
        created = await docker.containers.create(
            {"Image": tag, "Cmd": ["true"], "NetworkDisabled": True}
        )
        assert created.id is not None
        try:
            body = b"".join([chunk async for chunk in docker.containers.export(created.id)])
        finally:
            await docker.containers.delete(created.id)
    finally:
        await docker.images.delete(tag)
    in_image = {k: v for k, v in tree_of_tar(body).items() if k.split("/")[0] in ("bin", "data")}
    assert in_image["data/f"][:2] == ("file", 0o4755) and in_image["data/l"] == ("link", "f")

    dest = tmp_path / "out"
    sync = FileSyncService(context_dirs(ctx))
    await session_context_build(docker, ctx, sync, FileSendService([LocalExport(dest)]), "local")
    local = await asyncio.to_thread(tree_of, dest)
    assert {k: v for k, v in local.items() if k.split("/")[0] in ("bin", "data")} == in_image
    assert os.stat(dest / "data" / "hard").st_ino == os.stat(dest / "data" / "f").st_ino

    tar_out = tmp_path / "out.tar"
    await session_context_build(docker, ctx, sync, FileSendService([TarExport(tar_out)]), "tar")
    exported = await asyncio.to_thread(tree_of_tar, tar_out.read_bytes())
    assert exported == local


async def test_the_session_rebuild_benchmark_runs(docker: Docker) -> None:
    """benchmarks/session_rebuild.py on this daemon, small: its table, and the session sending
    a fraction of what the tar upload sends."""
    from benchmarks import session_rebuild

    samples = await session_rebuild.measure(docker.host, files=40, size=4096, rounds=1)
    assert samples["session B"][0] < 1024 < samples["tar B"][0]
    table = session_rebuild.report(samples, 40, 4096)
    assert "| session (FileSync) |" in table and "| tar upload |" in table
