"""docker.images against the real daemon: list, build from every kind of context, build_prune,
errors, and argument checks made before any request."""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, DockerStreamError, NotFound, models
from aiodockerapi.models import BuildInfo

from .conftest import container_config
from .registry import containerd_image_store
from .sandbox import ENGINE

pytestmark = pytest.mark.daemon


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def as_listed(name: str) -> str:
    """How the daemon names an image tagged `name` (a name with no registry in it) in its
    answers: dockerd as given; podman's Docker API by its normalised name, docker.io/ first
    (it names images pulled from Docker Hub docker.io/library/..., built ones localhost/...
    when given no repository path)."""
    return f"docker.io/{name}" if ENGINE == "podman" else name


async def collect(stream: AsyncIterator[BuildInfo]) -> list[BuildInfo]:
    return [m async for m in stream]


def built_id(messages: list[BuildInfo]) -> str:
    ids = [m.aux.id for m in messages if m.aux is not None and m.aux.id]
    assert len(ids) == 1, messages
    return ids[0]


@pytest.fixture
async def tags(docker: Docker, label: str) -> AsyncIterator[str]:
    """A repository name unique to the test; its images are removed afterwards."""
    repo = f"aiodockerapi-test/t{label}"
    yield repo
    for img in await docker.images.list(filters={"reference": f"{repo}:*"}):
        for tag in img.repo_tags or []:
            await docker.images.delete(tag, force=True)


async def run_output(docker: Docker, image: str, *cmd: str) -> bytes:
    created = await docker.containers.create(container_config(image, *cmd))
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        return b"".join([f.data async for f in docker.containers.logs(created.id, stdout=True)])
    finally:
        await docker.containers.delete(created.id, force=True)


async def test_list_with_reference_filter(docker: Docker, image: str) -> None:
    listed = await docker.images.list(filters={"reference": image})
    assert len(listed) == 1
    assert listed[0].repo_tags == [as_listed(image)]
    assert listed[0].id is not None and listed[0].id.startswith("sha256:")
    assert listed[0].size is not None and listed[0].size > 500_000  # the static busybox
    assert await docker.images.list(filters={"reference": "no/such:image"}) == []


async def test_build_options(docker: Docker, image: str, tags: str, tmp_path: Path) -> None:
    (tmp_path / "build.Containerfile").write_text(
        f"FROM {image}\n"
        "ARG GREETING=unset\n"
        'RUN echo "$GREETING" > /greeting\n'
        'LABEL built.by="aiodockerapi"\n'
    )
    (tmp_path / "Dockerfile").write_text("FROM scratch\nthis file must not be used\n")
    messages = await collect(
        docker.images.build(
            tmp_path,
            t=[f"{tags}:one", f"{tags}:two"],
            dockerfile="build.Containerfile",
            rm=True,
            pull=False,
            buildargs={"GREETING": "hello from buildargs"},
            labels={"extra.label": "yes"},
        )
    )
    text = "".join(m.stream or "" for m in messages)
    assert f"Successfully tagged {tags}:one" in text
    assert f"Successfully tagged {tags}:two" in text
    image_id = built_id(messages)

    inspected = await docker.images.inspect(f"{tags}:one")
    assert inspected.id == image_id
    assert sorted(inspected.repo_tags or []) == [as_listed(f"{tags}:one"), as_listed(f"{tags}:two")]
    assert inspected.config is not None and inspected.config.labels is not None
    labels = dict(inspected.config.labels)
    if ENGINE == "podman":
        # Podman builds with buildah, which labels each image with its own version.
        assert labels.pop("io.buildah.version")
    assert labels == {"built.by": "aiodockerapi", "extra.label": "yes"}
    assert await run_output(docker, f"{tags}:one", "cat", "/greeting") == b"hello from buildargs\n"
    # rm=True: no intermediate containers are left from the RUN step.
    leftovers = await docker.containers.list(all=True, filters={"ancestor": image_id})
    assert leftovers == []

    history = await docker.images.history(f"{tags}:one")
    if ENGINE == "podman":
        # Podman lists the id of the image each step of the build was committed as (hex
        # digits only), or <missing>; none is the id of the image itself. Its newest entry
        # is a step of its own that adds the build's labels=.
        assert all(h.id != image_id for h in history)
        assert history[0].created_by == '/bin/sh -c #(nop) LABEL "extra.label"="yes"'
    else:
        assert history[0].id == image_id
    assert any("LABEL built.by=" in (h.created_by or "") for h in history)
    assert any("GREETING" in (h.created_by or "") for h in history)


@pytest.mark.parametrize("kind", ["bytes", "tar-path", "file-object", "async-iterable"])
async def test_build_context_kinds(
    docker: Docker, image: str, tags: str, tmp_path: Path, kind: str
) -> None:
    archive = tar_of(
        {
            "Dockerfile": f"FROM {image}\nCOPY payload.txt /payload.txt\n".encode(),
            "payload.txt": f"context as {kind}\n".encode(),
        }
    )
    if kind == "bytes":
        context: object = archive
    elif kind == "tar-path":
        (tmp_path / "ctx.tar").write_bytes(archive)
        context = str(tmp_path / "ctx.tar")
    elif kind == "file-object":
        context = io.BytesIO(archive)
    else:

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(archive), 1000):
                yield archive[start : start + 1000]

        context = pieces()
    await collect(docker.images.build(context, t=f"{tags}:{kind}"))  # type: ignore[arg-type]
    out = await run_output(docker, f"{tags}:{kind}", "cat", "/payload.txt")
    assert out == f"context as {kind}\n".encode()


async def test_build_directory_honours_dockerignore(
    docker: Docker, image: str, tags: str, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f'FROM {image}\nCOPY . /ctx/\nCMD ["find", "/ctx"]\n')
    (tmp_path / ".dockerignore").write_text("secret/\n*.log\n!keep.log\n")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key").write_text("nope")
    (tmp_path / "app.log").write_text("nope")
    (tmp_path / "keep.log").write_text("yes")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.txt").write_text("yes")
    await collect(docker.images.build(tmp_path, t=f"{tags}:ignored"))
    listing = (await run_output(docker, f"{tags}:ignored", "find", "/ctx")).decode().split()
    assert sorted(listing) == [
        "/ctx",
        "/ctx/.dockerignore",
        "/ctx/Dockerfile",
        "/ctx/keep.log",
        "/ctx/src",
        "/ctx/src/main.txt",
    ]


async def test_failing_build_raises_stream_error(docker: Docker, image: str, tags: str) -> None:
    archive = tar_of({"Dockerfile": f"FROM {image}\nRUN echo about to fail; exit 7\n".encode()})
    seen: list[BuildInfo] = []
    with pytest.raises(DockerStreamError) as caught:
        async for message in docker.images.build(archive, t=f"{tags}:broken"):
            seen.append(message)
    # dockerd: "The command '/bin/sh -c ...' returned a non-zero code: 7"; podman (buildah):
    # 'building at STEP "RUN ...": while running runtime: exit status 7'.
    failed = "exit status 7" if ENGINE == "podman" else "returned a non-zero code: 7"
    assert failed in caught.value.message
    assert any("about to fail" in (m.stream or "") for m in seen)
    assert await docker.images.list(filters={"reference": f"{tags}:broken"}) == []


async def test_build_of_a_missing_base_image_fails_clearly(docker: Docker, tags: str) -> None:
    archive = tar_of({"Dockerfile": b"FROM 127.0.0.1:1/none/such:image\n"})
    with pytest.raises(DockerStreamError) as caught:
        await collect(docker.images.build(archive, t=f"{tags}:x", pull=False))
    assert "127.0.0.1:1" in caught.value.message


async def test_leaving_a_build_cancels_it(docker: Docker, image: str, tags: str) -> None:
    archive = tar_of({"Dockerfile": f"FROM {image}\nRUN sleep 2\nRUN true\n".encode()})
    async for message in docker.images.build(archive, t=f"{tags}:cancelled"):
        if "sleep 2" in (message.stream or ""):
            break
    # Had the build gone on, it would have been tagged within ~2 s.
    await asyncio.sleep(4)
    assert await docker.images.list(filters={"reference": f"{tags}:cancelled"}) == []


async def test_tag_delete_and_prune(docker: Docker, image: str, tags: str, label: str) -> None:
    await docker.images.tag(image, repo=tags, tag="alias")
    assert [i.repo_tags for i in await docker.images.list(filters={"reference": f"{tags}:alias"})]
    deleted = await docker.images.delete(f"{tags}:alias")
    assert [d.untagged for d in deleted] == [as_listed(f"{tags}:alias")]
    assert all(d.deleted == "" for d in deleted)  # the image itself is still tagged
    with pytest.raises(NotFound):
        await docker.images.inspect(f"{tags}:alias")

    # A dangling image with our label: built, then its tag taken by a second build.
    first = tar_of({"Dockerfile": f"FROM {image}\nLABEL prune.me={label} n=1\n".encode()})
    image_id = built_id(await collect(docker.images.build(first, t=f"{tags}:dangling")))
    second = tar_of({"Dockerfile": f"FROM {image}\nLABEL n=2\n".encode()})
    await collect(docker.images.build(second, t=f"{tags}:dangling"))
    dangling = await docker.images.list(filters={"dangling": True, "label": f"prune.me={label}"})
    assert [i.id for i in dangling] == [image_id]
    pruned = await docker.images.prune(filters={"label": f"prune.me={label}"})
    # dockerd names the deleted image by its id; podman by the id's hex digits alone.
    deleted_id = image_id.removeprefix("sha256:") if ENGINE == "podman" else image_id
    assert [d.deleted for d in pruned.images_deleted or [] if d.deleted] == [deleted_id]
    # A LABEL adds no layer. The classic store frees nothing then (it counts layers only);
    # containerd's image store counts the content blobs it drops too: the image's own
    # manifest and config, about 1.5 kB, far less than any layer (busybox's is ~2 MB).
    # Podman counts the size of every image it removes, shared layers included.
    if ENGINE == "podman":
        assert pruned.space_reclaimed == dangling[0].size
    elif await containerd_image_store(docker):
        assert pruned.space_reclaimed is not None and 0 < pruned.space_reclaimed < 10_000
    else:
        assert pruned.space_reclaimed == 0
    with pytest.raises(NotFound):
        await docker.images.inspect(image_id)


async def test_unknown_image_is_not_found(docker: Docker) -> None:
    with pytest.raises(NotFound, match="no/such"):
        await docker.images.inspect("no/such:image")


async def test_build_reports_a_missing_context_path(docker: Docker, tmp_path: Path) -> None:
    missing = tmp_path / "not-here"
    with pytest.raises(FileNotFoundError, match="not-here"):
        await collect(docker.images.build(missing))
    shutil.rmtree(tmp_path)


async def test_build_prune(docker: Docker, image: str, label: str) -> None:
    if ENGINE == "podman":  # Podman 4.3 serves no /build/prune: it has no build cache API
        with pytest.raises(NotFound):
            await docker.images.build_prune(all=True)
        return
    old = await docker.images.build_prune(all=True, filters={"until": "1h"})
    assert isinstance(old, models.BuildPruneResponse)
    assert old.space_reclaimed >= 0  # cache older than an hour: none on a test daemon
    everything = await docker.images.build_prune(all=True)
    assert everything.space_reclaimed >= 0  # what earlier tests' builds left, if any
    again = await docker.images.build_prune(keep_storage=0)
    assert again.space_reclaimed == 0 and not again.caches_deleted


async def test_bad_arguments_fail_before_any_request(tmp_path: Path) -> None:
    # Nothing listens on this socket: a request would be a DockerConnectionError.
    async with Docker(f"unix://{tmp_path / 'none.sock'}") as docker:
        with pytest.raises(ValueError, match="give from_image= to pull"):
            docker.images.create()
        with pytest.raises(ValueError, match="not both"):
            docker.images.create(from_image="127.0.0.1:5000/x", input_image=b"")
        with pytest.raises(ValueError, match="give input_image="):
            docker.images.create(from_src="-")
        with pytest.raises(ValueError, match='only with from_src="-"'):
            docker.images.create(from_src="http://127.0.0.1:1/x.tar", input_image=b"x")
        with pytest.raises(TypeError, match="changes must be strings"):
            docker.images.create(from_src="http://127.0.0.1:1/x.tar", changes=[1])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="all_tags=True pulls a whole repository"):
            docker.images.pull("127.0.0.1:5000/x:1", all_tags=True)
        with pytest.raises(ValueError, match="pull needs an image reference"):
            docker.images.pull("")
        with pytest.raises(ValueError, match="at least one image name"):
            docker.images.get_all([])
        with pytest.raises(TypeError, match="unsupported build context type"):
            docker.images.load(12)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="commit needs the container"):
            await docker.images.commit(container="")
        with pytest.raises(ValueError, match="filter 'until'"):
            await docker.images.build_prune(filters={"until": 1.5})
