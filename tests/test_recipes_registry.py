"""docker.images.ensure pulling a missing image from the private registry of
tests/registry.py (plain HTTP on 127.0.0.1, which dockerd, unlike Podman, takes as an
insecure registry: this module is for the dockerd flavours, like tests/test_registry.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker, DockerError, NotFound

from .registry import Registry, registry  # noqa: F401

pytestmark = pytest.mark.daemon


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty DOCKER_CONFIG: credentials only come from where each test puts them."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))


@pytest.fixture
def pulls(docker: Docker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refs docker.images.pull is called with, from now on."""
    called: list[str] = []
    pull = docker.images.pull

    def counting(ref: str, **kwargs: Any) -> Any:
        called.append(ref)
        return pull(ref, **kwargs)

    monkeypatch.setattr(docker.images, "pull", counting)
    return called


async def test_ensure_pulls_a_missing_image(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    label: str,
    pulls: list[str],
) -> None:
    repo = registry.image(f"aiodockerapi/ensure{label}")
    ref = f"{repo}:v1"
    await docker.images.tag(image, repo=repo, tag="v1")
    try:
        async for _ in docker.images.push(ref, auth=registry.credentials):
            pass
        await docker.images.delete(ref)
        with pytest.raises(NotFound):
            await docker.images.inspect(ref)

        pulled = await docker.images.ensure(ref, auth=registry.credentials)
        assert pulls == [ref]
        assert pulled.id == (await docker.images.inspect(image)).id
        assert ref in (pulled.repo_tags or [])
        # Present now: no second pull.
        again = await docker.images.ensure(ref, auth=registry.credentials)
        assert again.id == pulled.id and pulls == [ref]
        # Present for this OS and architecture: no pull. Another architecture is pulled
        # (the registry has none: whether the daemon then refuses it is not the point).
        here = f"{pulled.os}/{pulled.architecture}"
        await docker.images.ensure(ref, auth=registry.credentials, platform=here)
        assert pulls == [ref]
        other = "linux/s390x" if pulled.architecture != "s390x" else "linux/ppc64le"
        with contextlib.suppress(DockerError):
            await docker.images.ensure(ref, auth=registry.credentials, platform=other)
        assert pulls == [ref, ref]
    finally:
        for img in await docker.images.list(filters={"reference": repo}):
            for tag in img.repo_tags or []:
                if tag.startswith(repo + ":"):
                    try:
                        await docker.images.delete(tag)
                    except NotFound:
                        pass
