"""docker.images' archives against the real daemon: get and get_all (docker save), load,
and import (create from a tarball in the request body)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, DockerStreamError, NotFound, models
from aiodockerapi.models import BuildInfo

from .conftest import BUSYBOX, container_config
from .registry import containerd_image_store

pytestmark = pytest.mark.daemon


async def run_output(docker: Docker, image: str, *cmd: str) -> bytes:
    created = await docker.containers.create(container_config(image, *cmd))
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        return b"".join([f.data async for f in docker.containers.logs(created.id, stdout=True)])
    finally:
        await docker.containers.delete(created.id, force=True)


async def committed(docker: Docker, image: str, repo: str, tag: str, marker: str) -> str:
    """Commit a container that wrote /marker as repo:tag; returns the image id."""
    created = await docker.containers.create(
        container_config(image, "sh", "-c", f"echo {marker} > /marker")
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        result = await docker.images.commit(container=created.id, repo=repo, tag=tag)
    finally:
        await docker.containers.delete(created.id, force=True)
    assert result.id is not None
    return result.id


def blob(digest: str) -> str:
    """Where an OCI image layout keeps the blob of `digest`."""
    algorithm, _, hex_digest = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digest}"


async def collect_load(stream: AsyncIterator[BuildInfo]) -> list[BuildInfo]:
    return [m async for m in stream]


async def api_at_least(docker: Docker, version: tuple[int, int]) -> bool:
    """Whether the API version spoken (the daemon's newest, as negotiated) is `version` or later."""
    spoken = await docker.transport.negotiated_version()
    return tuple(int(n) for n in spoken.split(".")) >= version


def tar_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            m.name: (tar.extractfile(m).read() if m.isfile() else b"")  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


async def test_get_load_round_trip(
    docker: Docker, image: str, repo: str, label: str, tmp_path: Path
) -> None:
    image_id = await committed(docker, image, repo, "saved", label)
    chunks = [chunk async for chunk in docker.images.get(f"{repo}:saved")]
    assert len(chunks) > 1  # streamed, not read whole
    archive = b"".join(chunks)
    members = tar_members(archive)
    manifest = json.loads(members["manifest.json"])
    assert [m["RepoTags"] for m in manifest] == [[f"{repo}:saved"]]
    assert all(layer in members for layer in manifest[0]["Layers"])
    if not await api_at_least(docker, (1, 44)):
        # dockerd up to 24 (20.10: API 1.41) writes the legacy layout: the image config as
        # <image id>.json, each layer as <id>/layer.tar.
        assert manifest[0]["Config"] == image_id.removeprefix("sha256:") + ".json"
    else:
        # dockerd 25 (API 1.44) and later write an OCI image layout (which manifest.json still
        # indexes): every file as blobs/sha256/<hex>, and index.json pointing at the image's
        # manifest, which points at its config.
        assert json.loads(members["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
        [entry] = json.loads(members["index.json"])["manifests"]
        image_manifest = json.loads(members[blob(entry["digest"])])
        assert manifest[0]["Config"] == blob(image_manifest["config"]["digest"])
        assert manifest[0]["Layers"] == [
            blob(layer["digest"]) for layer in image_manifest["layers"]
        ]
        if await containerd_image_store(docker):
            # containerd's image store names an image by its manifest's digest.
            assert entry["digest"] == image_id
        else:
            # The classic store names it by its config's digest.
            assert manifest[0]["Config"] == blob(image_id)

    path = tmp_path / "saved.tar"
    path.write_bytes(archive)

    async def pieces() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    sources = {
        "bytes": lambda: archive,
        "path": lambda: path,
        "file-object": lambda: open(path, "rb"),  # closed below
        "async-iterable": pieces,
    }
    for kind, source in sources.items():
        await docker.images.delete(f"{repo}:saved")
        with pytest.raises(NotFound):
            await docker.images.inspect(image_id)
        body = source()
        try:
            messages = await collect_load(docker.images.load(body))  # type: ignore[arg-type]
        finally:
            if isinstance(body, io.IOBase):
                body.close()
        assert all(isinstance(m, BuildInfo) for m in messages)
        assert messages[-1].stream == f"Loaded image: {repo}:saved\n", kind
        assert (await docker.images.inspect(f"{repo}:saved")).id == image_id
    assert await run_output(docker, f"{repo}:saved", "cat", "/marker") == f"{label}\n".encode()


async def test_load_progress_unless_quiet(
    docker: Docker, image: str, repo: str, label: str
) -> None:
    await committed(docker, image, repo, "p", label)
    archive = b"".join([c async for c in docker.images.get(f"{repo}:p")])
    await docker.images.delete(f"{repo}:p")
    loud = await collect_load(docker.images.load(archive))
    if await containerd_image_store(docker):
        # containerd's image store imports the archive's blobs without reporting progress:
        # even unquiet, it only says what it loaded.
        assert [m.stream for m in loud] == [f"Loaded image: {repo}:p\n"]
    else:
        # The committed layer is new to the daemon again: its loading is reported.
        assert any(m.status == "Loading layer" and m.progress_detail is not None for m in loud)
        assert loud[-1].stream == f"Loaded image: {repo}:p\n"
    await docker.images.delete(f"{repo}:p")
    quiet = await collect_load(docker.images.load(archive, quiet=True))
    assert [m.stream for m in quiet] == [f"Loaded image: {repo}:p\n"]


async def test_get_all_exports_several_images(
    docker: Docker, image: str, repo: str, label: str
) -> None:
    one = await committed(docker, image, repo, "one", label + "1")
    two = await committed(docker, image, repo, "two", label + "2")
    archive = b"".join([c async for c in docker.images.get_all([f"{repo}:one", f"{repo}:two"])])
    manifest = json.loads(tar_members(archive)["manifest.json"])
    assert sorted(tuple(m["RepoTags"]) for m in manifest) == [(f"{repo}:one",), (f"{repo}:two",)]
    await docker.images.delete(f"{repo}:one")
    await docker.images.delete(f"{repo}:two")
    messages = await collect_load(docker.images.load(archive, quiet=True))
    assert sorted(m.stream or "" for m in messages) == [
        f"Loaded image: {repo}:one\n",
        f"Loaded image: {repo}:two\n",
    ]
    assert (await docker.images.inspect(f"{repo}:one")).id == one
    assert (await docker.images.inspect(f"{repo}:two")).id == two
    # One name alone is fine too.
    single = b"".join([c async for c in docker.images.get_all(f"{repo}:one")])
    assert [m["RepoTags"] for m in json.loads(tar_members(single)["manifest.json"])] == [
        [f"{repo}:one"]
    ]


async def test_get_of_a_missing_image(docker: Docker) -> None:
    # The classic store says "reference does not exist"; containerd's image store
    # "No such image: aiodockerapi-test/no-such-image:1".
    if await containerd_image_store(docker):
        match = "No such image: aiodockerapi-test/no-such-image:1"
    else:
        match = "reference does not exist"
    with pytest.raises(NotFound, match=match):
        async for _ in docker.images.get("aiodockerapi-test/no-such-image:1"):
            pass


@pytest.mark.parametrize(
    "data", [b"this is not a tar archive\n" * 40, b"\0" * 10240], ids=["garbage", "empty-tar"]
)
async def test_load_of_a_bad_archive_raises(docker: Docker, data: bytes) -> None:
    containerd = await containerd_image_store(docker)
    if data.startswith(b"this"):
        # dockerd 20.10 (API 1.41) untars in a child process: "Error processing tar file(exit
        # status 1): ..."; 26.1 and later (API 1.45) pass on Go's error, whatever the store.
        if await api_at_least(docker, (1, 45)):
            match = "archive/tar: invalid tar header"
        else:
            match = "Error processing tar file"
    elif containerd:
        # An empty tar: containerd's image store finds neither index.json nor manifest.json.
        match = "unrecognized image format"
    else:
        # The classic store looks for the legacy layout's "repositories" file last.
        match = "repositories: no such file or directory"
    with pytest.raises(DockerStreamError, match=match):
        async for _ in docker.images.load(data):
            pass


async def test_import_from_the_request_body(docker: Docker, repo: str, label: str) -> None:
    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        data = f"{label}\n".encode()
        member = tarfile.TarInfo("etc/imported")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    messages = [
        m
        async for m in docker.images.create(
            input_image=rootfs.getvalue(),
            repo=repo,
            tag="imported",
            message="imported by aiodockerapi",
            changes=['ENTRYPOINT ["/bin/busybox"]', "ENV IMPORTED=yes"],
        )
    ]
    assert all(isinstance(m, models.CreateImageInfo) for m in messages)
    image_id = messages[-1].status
    assert image_id is not None and image_id.startswith("sha256:")
    info = await docker.images.inspect(f"{repo}:imported")
    assert info.id == image_id
    assert info.comment == "imported by aiodockerapi"
    assert info.config is not None and info.config.entrypoint == ["/bin/busybox"]
    assert "IMPORTED=yes" in (info.config.env or [])
    assert await run_output(docker, f"{repo}:imported", "cat", "/etc/imported") == (
        f"{label}\n".encode()
    )
