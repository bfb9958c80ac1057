"""What API 1.42 to 1.55 added to images, volumes, plugins and the system, on any daemon.

Each test asks the daemon which version is spoken: where that version has the parameter (or
operation), the test checks what it does; where it does not, that the client refuses it with
a DockerVersionError before sending anything. The suite runs against daemons on both sides
(20.10 and Podman speak 1.41, 26.1 speaks 1.45, 28.5 speaks 1.51), so both branches run.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from aiodockerapi import (
    BadRequest,
    Docker,
    DockerConnectionError,
    DockerError,
    DockerVersionError,
    NotFound,
    models,
)
from aiodockerapi import operations as ops

from .registry import Registry, registry  # noqa: F401
from .sandbox import Sandbox

pytestmark = pytest.mark.daemon

T = TypeVar("T")
Version = tuple[int, ...]


async def spoken(docker: Docker) -> Version:
    """The API version the client speaks to the daemon, as a tuple of ints."""
    await docker.transport.negotiated_version()
    assert docker.api_version is not None
    return tuple(int(n) for n in docker.api_version.split("."))


async def refused(docker: Docker, call: Awaitable[Any], needs: str, by: str) -> None:
    """`call` raises the DockerVersionError that names `by`, the version it needs and the one
    spoken. (That no request went out is what test_refused_before_any_request shows.)"""
    with pytest.raises(DockerVersionError) as caught:
        await call
    message = str(caught.value)
    assert by in message, message
    assert f"needs API {needs};" in message, message
    assert message.endswith(f"speaks {docker.api_version}"), message


async def drain(stream: AsyncIterator[T]) -> list[T]:
    return [item async for item in stream]


async def image_platform(docker: Docker, image: str) -> dict[str, str]:
    """The test image's own platform, and one it does not provide."""
    info = await docker.images.inspect(image)
    assert info.os and info.architecture
    return {"os": info.os, "architecture": info.architecture}


def other_platform(platform: dict[str, str]) -> dict[str, str]:
    arch = "s390x" if platform["architecture"] != "s390x" else "riscv64"
    return {**platform, "architecture": arch}


async def keeps_image_indexes(docker: Docker) -> bool:
    """Whether the daemon's image store is containerd's (the one that keeps image indexes,
    hence Manifests); the classic one (graph drivers) has none."""
    info = await docker.system.info()
    return any("io.containerd.snapshotter" in str(row) for row in info.driver_status or [])


async def build_labelled(docker: Docker, image: str, tag: str, label: str) -> None:
    """Build `tag`: the test image with a label of its own."""
    dockerfile = f"FROM {image}\nLABEL aiodockerapi.test={label}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        member = tarfile.TarInfo("Dockerfile")
        member.size = len(dockerfile)
        tar.addfile(member, io.BytesIO(dockerfile))
    await drain(docker.images.build(context.getvalue(), t=tag, pull=False))


async def remove_repository(docker: Docker, repo: str) -> None:
    for img in await docker.images.list(filters={"reference": f"{repo}:*"}):
        for tag in img.repo_tags or []:
            await docker.images.delete(tag, force=True)


def tar_names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return set(tar.getnames())


# -- the error itself, without a daemon ------------------------------------------------------


async def test_refused_before_any_request(tmp_path: Path) -> None:
    # Nothing listens on this socket: a request would be a DockerConnectionError.
    async with Docker(f"unix://{tmp_path / 'none.sock'}", api_version="1.41") as docker:
        with pytest.raises(DockerVersionError) as caught:
            await docker.images.list(shared_size=True)
        assert str(caught.value) == (
            f"the parameter 'shared_size' needs API 1.42; {docker.host} speaks 1.41"
        )
        with pytest.raises(DockerVersionError) as caught:
            await docker.images.attestations("busybox")
        assert str(caught.value) == (
            f"docker.images.attestations needs API 1.55; {docker.host} speaks 1.41"
        )
        # The newest need names the error.
        with pytest.raises(DockerVersionError, match=r"'identity' needs API 1\.54;.* 1\.41$"):
            await docker.images.list(shared_size=True, manifests=True, identity=True)
        with pytest.raises(DockerVersionError, match=r"docker\.volumes\.update needs API 1\.42"):
            await docker.volumes.update("v", {"Spec": {}}, version=1)
        with pytest.raises(DockerVersionError, match=r"'platforms' needs API 1\.50"):
            await docker.images.delete("busybox", platforms=["linux/amd64"])
        with pytest.raises(DockerVersionError, match=r"'platform' needs API 1\.48"):
            await drain(docker.images.get("busybox", platform="linux/amd64"))
        # Left out (None), a new parameter needs nothing: the request goes out.
        with pytest.raises(DockerConnectionError):
            await docker.images.list()


async def test_a_newer_pinned_version_lets_the_parameter_through(tmp_path: Path) -> None:
    async with Docker(f"unix://{tmp_path / 'none.sock'}", api_version="1.47") as docker:
        with pytest.raises(DockerConnectionError):
            await docker.images.list(shared_size=True, manifests=True)
        with pytest.raises(DockerVersionError) as caught:
            await docker.images.inspect("busybox", platform="linux/amd64")
        assert str(caught.value) == (
            f"the parameter 'platform' needs API 1.49; {docker.host} speaks 1.47"
        )


async def test_refused_by_the_real_daemon_pinned_to_its_oldest(
    sandbox: Sandbox, image: str
) -> None:
    """Pinned to 1.41 (or the daemon's floor, where that is higher: 1.44 on Docker 29)."""
    async with Docker(sandbox.unix_url) as probe:
        floor = (await probe.system.version()).min_api_version or "1.41"
    pin = max(floor, "1.41", key=lambda v: tuple(map(int, v.split("."))))
    async with Docker(sandbox.unix_url, api_version=pin) as docker:
        assert [i.id for i in await docker.images.list(filters={"reference": image})]
        with pytest.raises(DockerVersionError) as caught:
            await docker.images.history(image, platform={"os": "linux"})
        assert str(caught.value) == (
            f"the parameter 'platform' needs API 1.48; {sandbox.unix_url} speaks {pin}"
        )


def test_a_new_parameter_left_out_needs_nothing() -> None:
    assert ops.ImageList(all=False, shared_size=None, manifests=None).needs is None
    assert ops.ImageList(shared_size=True).needs == (1, 42)


# -- images --------------------------------------------------------------------------------


async def test_images_list_shared_size(docker: Docker, image: str) -> None:
    def call(**kw: Any) -> Awaitable[list[models.ImageSummary]]:
        return docker.images.list(filters={"reference": image}, **kw)

    if await spoken(docker) < (1, 42):
        await refused(docker, call(shared_size=True), "1.42", "'shared_size'")
        return
    (plain,) = await call()
    (shared,) = await call(shared_size=True)
    assert plain.shared_size == -1  # not computed
    assert shared.shared_size is not None and shared.shared_size >= 0


async def test_images_list_manifests_and_identity(docker: Docker, image: str) -> None:
    version = await spoken(docker)

    def call(**kw: Any) -> Awaitable[list[models.ImageSummary]]:
        return docker.images.list(filters={"reference": image}, **kw)

    if version < (1, 47):
        await refused(docker, call(manifests=True), "1.47", "'manifests'")
    else:
        (summary,) = await call(manifests=True)
        manifests = getattr(summary, "manifests", None)
        if await keeps_image_indexes(docker):
            assert manifests, summary
        else:
            assert not manifests  # the classic store keeps no image indexes
        (plain,) = await call()
        assert not getattr(plain, "manifests", None)
    if version < (1, 54):
        await refused(docker, call(manifests=True, identity=True), "1.54", "'identity'")
    else:
        (summary,) = await call(manifests=True, identity=True)
        assert summary.id is not None


async def test_images_inspect_manifests(docker: Docker, image: str) -> None:
    if await spoken(docker) < (1, 48):
        call = docker.images.inspect(image, manifests=True)
        await refused(docker, call, "1.48", "'manifests'")
        return
    info = await docker.images.inspect(image, manifests=True)
    manifests = getattr(info, "manifests", None)
    assert bool(manifests) == await keeps_image_indexes(docker), info
    assert not getattr(await docker.images.inspect(image), "manifests", None)


async def test_images_inspect_platform(docker: Docker, image: str) -> None:
    own = await image_platform(docker, image)
    if await spoken(docker) < (1, 49):
        call = docker.images.inspect(image, platform=own)
        await refused(docker, call, "1.49", "'platform'")
        return
    info = await docker.images.inspect(image, platform=own)
    assert info.architecture == own["architecture"]
    with pytest.raises(NotFound):
        await docker.images.inspect(image, platform=other_platform(own))


async def test_images_history_platform(docker: Docker, image: str) -> None:
    own = await image_platform(docker, image)
    if await spoken(docker) < (1, 48):
        call = docker.images.history(image, platform=own)
        await refused(docker, call, "1.48", "'platform'")
        return
    history = await docker.images.history(image, platform=own)
    assert history == await docker.images.history(image)
    with pytest.raises(NotFound):
        await docker.images.history(image, platform=other_platform(own))


async def test_images_get_get_all_and_load_platform(docker: Docker, image: str) -> None:
    own = await image_platform(docker, image)
    if await spoken(docker) < (1, 48):
        await refused(docker, drain(docker.images.get(image, platform=own)), "1.48", "'platform'")
        stream = docker.images.get_all([image], platform=[own])
        await refused(docker, drain(stream), "1.48", "'platform'")
        loading = docker.images.load(b"", platform=own)
        await refused(docker, drain(loading), "1.48", "'platform'")
        return
    one = b"".join(await drain(docker.images.get(image, platform=own)))
    assert "manifest.json" in tar_names(one)
    several = b"".join(await drain(docker.images.get_all([image], platform=[own])))
    assert "manifest.json" in tar_names(several)
    loaded = await drain(docker.images.load(one, platform=own))
    assert any(image in (m.stream or "") for m in loaded), loaded


async def test_images_push_platform(
    docker: Docker,
    image: str,
    label: str,
    registry: Registry,  # noqa: F811
) -> None:
    own = await image_platform(docker, image)
    ref = registry.image(f"aiodockerapi/platform-{label}:1")
    await docker.images.tag(image, repo=ref.rpartition(":")[0], tag="1")
    try:
        push = docker.images.push(ref, platform=own, auth=registry.credentials)
        if await spoken(docker) < (1, 46):
            await refused(docker, drain(push), "1.46", "'platform'")
            return
        messages = await drain(push)
        assert any("digest: sha256:" in (m.status or "") for m in messages), messages
    finally:
        await docker.images.delete(ref)


async def test_images_delete_platforms(docker: Docker, image: str, label: str) -> None:
    own = await image_platform(docker, image)
    repo = f"aiodockerapi-test/platforms-{label}"
    try:
        # An image of its own: containerd's store refuses (without force) to remove a
        # variant that another image (the test image) references.
        await build_labelled(docker, image, f"{repo}:1", label)
        if await spoken(docker) < (1, 50):
            call = docker.images.delete(f"{repo}:1", platforms=[own])
            await refused(docker, call, "1.50", "'platforms'")
            return
        if await keeps_image_indexes(docker):
            # containerd's store removes a variant's content only with force, and then from
            # every image that shares it (the test image too): not done here.
            with pytest.raises(BadRequest, match="force"):
                await docker.images.delete(f"{repo}:1", platforms=[own])
            return
        deleted = await docker.images.delete(f"{repo}:1", platforms=[own])
        assert any(d.untagged == f"{repo}:1" for d in deleted), deleted
    finally:
        await remove_repository(docker, repo)


async def test_images_build_version(docker: Docker, image: str, label: str) -> None:
    # The specs list `version` from API 1.42 on, but the daemon reads it from 1.38: it is
    # sent on any version.
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        dockerfile = f"FROM {image}\nLABEL built-by=classic-{label}\n".encode()
        member = tarfile.TarInfo("Dockerfile")
        member.size = len(dockerfile)
        tar.addfile(member, io.BytesIO(dockerfile))
    tag = f"aiodockerapi-test/version-{label}:1"
    try:
        await drain(docker.images.build(context.getvalue(), t=tag, pull=False, version="1"))
        info = await docker.images.inspect(tag)
        assert info.config is not None and info.config.labels
        assert info.config.labels["built-by"] == f"classic-{label}"
    finally:
        await remove_repository(docker, tag.partition(":")[0])
    # The API knows builders "1" and "2" only; anything else is refused before any request.
    with pytest.raises(ValueError, match=r'version must be "1" .* or "2"'):
        docker.images.build(context.getvalue(), pull=False, version="3")  # type: ignore[arg-type]


async def test_images_build_prune_spaces(docker: Docker) -> None:
    if await spoken(docker) < (1, 48):
        prune = docker.images.build_prune
        await refused(docker, prune(reserved_space=1 << 50), "1.48", "'reserved_space'")
        await refused(docker, prune(max_used_space=1 << 50), "1.48", "'max_used_space'")
        await refused(docker, prune(min_free_space=1 << 50), "1.48", "'min_free_space'")
        return
    # Keeping a petabyte of cache, or capping it at one, frees nothing.
    kept = await docker.images.build_prune(reserved_space=1 << 50, max_used_space=1 << 50)
    assert kept.space_reclaimed == 0
    # Leaving a petabyte free can't be done: everything prunable goes.
    freed = await docker.images.build_prune(min_free_space=1 << 50)
    assert freed.space_reclaimed is not None and freed.space_reclaimed >= 0
    assert (await docker.images.build_prune(keep_storage=1 << 50)).space_reclaimed == 0
    with pytest.raises(ValueError, match="not both"):
        await docker.images.build_prune(keep_storage=1, reserved_space=1)


async def test_images_attestations(docker: Docker, image: str) -> None:
    if await spoken(docker) < (1, 55):
        call = docker.images.attestations(image)
        await refused(docker, call, "1.55", "docker.images.attestations")
        return
    try:
        statements = await docker.images.attestations(image, statement=True)
    except DockerError as exc:
        assert exc.status == 501  # the classic store keeps no attestation manifests
    else:
        assert statements == []  # a built image has none


# -- volumes -------------------------------------------------------------------------------


async def test_volumes_update(docker: Docker, label: str) -> None:
    name = f"vol-update-{label}"
    await docker.volumes.create({"Name": name, "Labels": {"aiodockerapi.test": label}})
    try:
        body = {"Spec": {"Availability": "active"}}
        if await spoken(docker) < (1, 42):
            call = docker.volumes.update(name, body, version=1)
            await refused(docker, call, "1.42", "docker.volumes.update")
            return
        # Only swarm cluster volumes can change: a local one, or a daemon outside a swarm,
        # is refused by the daemon.
        with pytest.raises(DockerError) as caught:
            await docker.volumes.update(name, body, version=1)
        assert caught.value.status is not None and caught.value.status >= 400
    finally:
        await docker.volumes.delete(name)


# -- system (docker.system.data_usage) -------------------------------------------------------


async def test_system_data_usage_type_and_verbose(docker: Docker, image: str) -> None:
    version = await spoken(docker)
    if version < (1, 42):
        call = docker.system.data_usage(type=["image"])
        await refused(docker, call, "1.42", "'type'")
    else:
        usage = await docker.system.data_usage(type=["volume"])
        assert usage.volumes is not None
        assert not usage.images and not usage.containers
    if version < (1, 52):
        call = docker.system.data_usage(verbose=True)
        await refused(docker, call, "1.52", "'verbose'")
    else:
        assert await docker.system.data_usage(verbose=True) is not None
