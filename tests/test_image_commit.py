"""docker.images.commit against the real daemon: a container's filesystem as an image."""

from __future__ import annotations

import pytest

from aiodockerapi import Docker, NotFound, models
from aiodockerapi.models import ContainerConfig

from .conftest import container_config

pytestmark = pytest.mark.daemon


async def test_commit_with_config_changes_and_metadata(
    docker: Docker, image: str, repo: str, label: str
) -> None:
    created = await docker.containers.create(
        container_config(image, "sh", "-c", f"echo {label} > /made-here")
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        result = await docker.images.commit(
            ContainerConfig(labels={"committed.by": "aiodockerapi"}, env=["FROM_CONFIG=1"]),
            container=created.id,
            repo=repo,
            tag="c1",
            comment="a test commit",
            author="aiodockerapi tests",
            changes=["WORKDIR /tmp", 'CMD ["cat", "/made-here"]'],
        )
    finally:
        await docker.containers.delete(created.id, force=True)
    assert isinstance(result, models.IdResponse)
    assert result.id is not None and result.id.startswith("sha256:")

    info = await docker.images.inspect(f"{repo}:c1")
    assert info.id == result.id
    assert info.comment == "a test commit"
    assert info.author == "aiodockerapi tests"
    assert info.config is not None
    assert info.config.labels == {"committed.by": "aiodockerapi"}
    assert "FROM_CONFIG=1" in (info.config.env or [])
    assert info.config.working_dir == "/tmp"
    assert info.config.cmd == ["cat", "/made-here"]
    # The committed image holds the file; its CMD (from changes) prints it.
    created = await docker.containers.create(
        {"Image": f"{repo}:c1", "HostConfig": {"NetworkMode": "none"}}
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        out = b"".join([f.data async for f in docker.containers.logs(created.id, stdout=True)])
    finally:
        await docker.containers.delete(created.id, force=True)
    assert out == f"{label}\n".encode()


async def test_commit_of_a_missing_container(docker: Docker) -> None:
    with pytest.raises(NotFound, match="No such container"):
        await docker.images.commit(container="aiodockerapi-no-such-container")
