"""Archives, export and stats against the real daemon."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, NotFound

from .conftest import container_config
from .sandbox import ENGINE_VERSION

pytestmark = pytest.mark.daemon


@pytest.fixture
async def running(docker: Docker, image: str, label: str) -> AsyncIterator[str]:
    created = await docker.containers.create(
        container_config(
            image,
            "sh",
            "-c",
            "mkdir -p /data && echo hello > /data/a.txt && sleep 600",
            Labels={"aiodockerapi.test": label},
        )
    )
    assert created.id is not None
    await docker.containers.start(created.id)
    for _ in range(100):
        if (await docker.exec.run(created.id, ["test", "-f", "/data/a.txt"])).exit_code == 0:
            break
    yield created.id
    await docker.containers.delete(created.id, force=True)


async def test_archive_info_and_get_archive(docker: Docker, running: str) -> None:
    stat = await docker.containers.archive_info(running, path="/data/a.txt")
    assert stat.name == "a.txt" and stat.size == 6
    assert stat.mode & 0o777 == 0o644

    chunks = []
    async with docker.containers.get_archive(running, path="/data") as archive:
        assert archive.meta.name == "data"
        assert archive.meta.mode & 0o20000000000  # os.ModeDir in Go's FileMode bits
        async for chunk in archive:
            chunks.append(chunk)
    body = b"".join(chunks)
    assert body[257:262] == b"ustar", "a plain tar, not gzip (tarfile would open either)"
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        member = tar.extractfile("data/a.txt")
        assert member is not None and member.read() == b"hello\n"

    plain = b"".join([c async for c in docker.containers.get_archive(running, path="/data/a.txt")])
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        assert tar.getnames() == ["a.txt"]

    with pytest.raises(NotFound):
        await docker.containers.archive_info(running, path="/no/such/path")
    with pytest.raises(NotFound):
        async with docker.containers.get_archive(running, path="/no/such/path"):
            pass


@pytest.mark.parametrize("kind", ["bytes", "directory", "file-object"])
async def test_put_archive(docker: Docker, running: str, tmp_path: Path, kind: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "put.txt").write_text(f"put as {kind}\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(src / "put.txt", arcname="put.txt")
    source: object = {"bytes": buf.getvalue(), "directory": src, "file-object": buf}[kind]
    buf.seek(0)
    await docker.containers.put_archive(running, source, path="/data")  # type: ignore[arg-type]
    result = await docker.exec.run(running, ["cat", "/data/put.txt"])
    assert result.stdout == f"put as {kind}\n".encode()


async def test_put_archive_into_a_missing_directory_is_not_found(
    docker: Docker, running: str
) -> None:
    with pytest.raises(NotFound):
        await docker.containers.put_archive(running, b"\0" * 1024, path="/no/such/dir")


async def test_export_streams_the_filesystem(docker: Docker, running: str) -> None:
    size = 0
    names: set[str] = set()
    data = bytearray()
    async for chunk in docker.containers.export(running):
        size += len(chunk)
        data += chunk
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
        names = set(tar.getnames())
    assert {"bin/busybox", "data/a.txt"} <= names
    assert size > 500_000


async def test_stats_stream_and_single_sample(docker: Docker, running: str) -> None:
    samples = []
    async for sample in docker.containers.stats(running):
        samples.append(sample)
        if len(samples) == 2:
            break
    assert all(s.id == running for s in samples)
    assert samples[1].cpu_stats is not None and samples[1].cpu_stats.cpu_usage is not None
    assert samples[1].cpu_stats.cpu_usage.total_usage > 0
    assert samples[1].memory_stats is not None and samples[1].memory_stats.usage
    assert samples[1].pids_stats is not None and samples[1].pids_stats.current == 1

    single = [s async for s in docker.containers.stats(running, stream=False)]
    assert len(single) == 1 and single[0].id == running and single[0].name
    assert single[0].precpu_stats is not None and single[0].precpu_stats.cpu_usage is not None
    assert single[0].precpu_stats.cpu_usage.total_usage > 0  # it waited for a second sample

    one_shot = [s async for s in docker.containers.stats(running, stream=False, one_shot=True)]
    assert len(one_shot) == 1
    sample = one_shot[0]
    # One-shot answers at once with one sample: no previous one to compare with.
    assert sample.preread == "0001-01-01T00:00:00Z"
    assert sample.cpu_stats is not None and sample.cpu_stats.cpu_usage is not None
    assert sample.cpu_stats.cpu_usage.total_usage > 0
    assert sample.pids_stats is not None and sample.pids_stats.current == 1
    if ENGINE_VERSION < (26, 1):
        # dockerd 20.10 names the container in a one-shot sample, as in the others.
        assert (sample.id, sample.name) == (running, single[0].name)
    else:
        # dockerd 26.1 and 28.5 leave "id" and "name" out of a one-shot sample, at every API
        # version (1.41 included): the caller knows which container it asked about.
        assert (sample.id, sample.name) == ("", "")


async def test_resize_sets_the_tty_size(docker: Docker, image: str, label: str) -> None:
    created = await docker.containers.create(
        container_config(
            image,
            "sh",
            "-c",
            "until [ -f /go ]; do sleep 0.05; done; stty size",
            Tty=True,
            Labels={"aiodockerapi.test": label},
        )
    )
    cid = created.id
    assert cid is not None
    try:
        await docker.containers.start(cid)
        await docker.containers.resize(cid, h=42, w=132)
        await docker.exec.run(cid, ["touch", "/go"])
        assert (await docker.containers.wait(cid)).status_code == 0
        output = b"".join([f.data async for f in docker.containers.logs(cid, stdout=True)])
        assert output.strip() == b"42 132"
    finally:
        await docker.containers.delete(cid, force=True)
