"""Registry operations against the real daemon and a real private registry (tests/registry.py):
push, pull, distribution inspect, login, credentials from the Docker config, build pulls."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import stat
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import (
    Docker,
    DockerError,
    DockerStreamError,
    NotFound,
    ServerError,
    Unauthorized,
    models,
)
from aiodockerapi.auth import AuthConfig, encode_auth
from aiodockerapi.models import PushImageInfo

from .conftest import container_config
from .registry import Registry, containerd_image_store, registry  # noqa: F401
from .sandbox import ENGINE_VERSION

pytestmark = pytest.mark.daemon


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DOCKER_CONFIG: credentials only come from where each test puts them."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


@pytest.fixture
async def repo(docker: Docker, registry: Registry, label: str) -> AsyncIterator[str]:  # noqa: F811
    """A repository on the registry unique to the test; its local tags are removed after."""
    name = registry.image(f"aiodockerapi/t{label}")
    yield name
    for img in await docker.images.list(all=True):
        refs = [*(img.repo_tags or []), *(img.repo_digests or [])]
        for ref in refs:
            if ref.startswith((name + ":", name + "@")):
                try:
                    await docker.images.delete(ref)
                except NotFound:
                    pass  # went with an earlier reference to the same image


async def run_output(docker: Docker, image: str, *cmd: str) -> bytes:
    created = await docker.containers.create(container_config(image, *cmd))
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        return b"".join([f.data async for f in docker.containers.logs(created.id, stdout=True)])
    finally:
        await docker.containers.delete(created.id, force=True)


async def image_with_marker(docker: Docker, image: str, marker: str) -> str:
    """A new image (a commit) whose /marker holds `marker`; returns its id (untagged)."""
    created = await docker.containers.create(
        container_config(image, "sh", "-c", f"echo {marker} > /marker")
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        assert (await docker.containers.wait(created.id)).status_code == 0
        committed = await docker.images.commit(container=created.id)
    finally:
        await docker.containers.delete(created.id, force=True)
    assert committed.id is not None and committed.id.startswith("sha256:")
    return committed.id


async def push(docker: Docker, name: str, **kwargs: object) -> list[PushImageInfo]:
    return [m async for m in docker.images.push(name, **kwargs)]  # type: ignore[arg-type]


_PUSHED = re.compile(r"(?P<tag>[^:]+): digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)")


def pushed(messages: list[PushImageInfo]) -> tuple[str, int]:
    """The digest and size of the manifest a push reports in its "TAG: digest: sha256:...
    size: N" line, which every daemon sends. The classic store then repeats tag, digest and
    size in a last message's aux; containerd's image store sends no such message."""
    found = [m for m in messages if m.status and _PUSHED.fullmatch(m.status)]
    assert len(found) == 1, messages
    reported = _PUSHED.fullmatch(found[0].status or "")
    assert reported is not None
    digest, size = reported["digest"], int(reported["size"])
    last = messages[-1]
    if last.aux is not None:
        assert (last.aux.digest, last.aux.size) == (digest, size), messages
    return digest, size


def pushed_digest(messages: list[PushImageInfo]) -> str:
    return pushed(messages)[0]


def write_config(directory: Path, content: object) -> None:
    (directory / "config.json").write_text(json.dumps(content))


async def test_push_pull_inspect_run(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
    label: str,
) -> None:
    image_id = await image_with_marker(docker, image, label)
    await docker.images.tag(image_id, repo=repo, tag="v1")
    credentials = registry.credentials
    # The header needs the URL-safe alphabet: with the standard one the daemon would read
    # no credentials and the push below would be refused.
    header = encode_auth(credentials)
    assert "-" in header and "_" in header

    containerd = await containerd_image_store(docker)
    messages = await push(docker, f"{repo}:v1", auth=credentials)
    assert all(isinstance(m, PushImageInfo) for m in messages)
    assert messages[0].status == f"The push refers to repository [{repo}]"
    digest, size = pushed(messages)
    assert digest.startswith("sha256:") and len(digest) == 71 and size > 0
    assert messages[-2 if not containerd else -1].status == f"v1: digest: {digest} size: {size}"
    if containerd:
        # containerd's image store reports each layer once it is up ("Pushed", "Mounted
        # from ..."), with no "Preparing" before nor byte counts while it uploads, and ends
        # on the digest line: no aux message.
        assert "Pushed" in {m.status for m in messages}
        assert all(m.aux is None for m in messages)
    else:
        # The classic store prepares every layer, counts the bytes of each it uploads, and
        # ends with an aux message repeating the tag, digest and size.
        assert {m.status for m in messages} >= {"Preparing", "Pushed"}
        progress = [m.progress_detail for m in messages if m.status == "Pushing"]
        assert progress and all(p is not None and p.total for p in progress)
        last = messages[-1].aux
        assert last is not None and last.tag == "v1"

    # Only the registry has the image now.
    await docker.images.delete(f"{repo}:v1")
    with pytest.raises(NotFound):
        await docker.images.inspect(image_id)

    pulled = [
        m
        async for m in docker.images.create(
            from_image=repo,
            tag="v1",
            auth=AuthConfig(username=registry.username, password=registry.password),
        )
    ]
    assert all(isinstance(m, models.CreateImageInfo) for m in pulled)
    statuses = [m.status for m in pulled]
    assert "Pull complete" in statuses
    assert f"Digest: {digest}" in statuses
    assert statuses[-1] == f"Status: Downloaded newer image for {repo}:v1"

    inspected = await docker.images.inspect(f"{repo}:v1")
    assert inspected.id == image_id
    assert inspected.repo_digests == [f"{repo}@{digest}"]
    assert await run_output(docker, f"{repo}:v1", "cat", "/marker") == f"{label}\n".encode()

    dist = await docker.distribution.inspect(f"{repo}:v1", auth=credentials)
    assert dist.descriptor is not None
    assert dist.descriptor.digest == digest
    assert dist.descriptor.size == size
    if containerd:
        # containerd's image store pushes an OCI manifest. The daemon reads the platform
        # from Docker manifests and manifest lists only: none for an OCI manifest.
        assert dist.descriptor.media_type == "application/vnd.oci.image.manifest.v1+json"
        assert dist.platforms is None
    else:
        # The classic store pushes a Docker manifest; the platform is its config's.
        assert dist.descriptor.media_type == (
            "application/vnd.docker.distribution.manifest.v2+json"
        )
        assert dist.platforms is not None
        assert [(p.os, p.architecture) for p in dist.platforms] == [
            (inspected.os, inspected.architecture)
        ]
    # By digest too.
    by_digest = await docker.distribution.inspect(f"{repo}@{digest}", auth=credentials)
    assert by_digest.descriptor is not None and by_digest.descriptor.digest == digest


async def test_pull_alias_takes_latest_and_tagged_refs(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
) -> None:
    await docker.images.tag(image, repo=repo, tag="latest")
    await docker.images.tag(image, repo=repo, tag="other")
    await push(docker, f"{repo}:latest", auth=registry.credentials)
    await docker.images.delete(f"{repo}:latest")
    await docker.images.delete(f"{repo}:other")

    # No tag: ":latest" only, not every tag of the repository.
    pulled = [m async for m in docker.images.pull(repo, auth=registry.credentials)]
    assert pulled[-1].status == f"Status: Downloaded newer image for {repo}:latest"
    assert (await docker.images.inspect(f"{repo}:latest")).repo_tags is not None
    with pytest.raises(NotFound):
        await docker.images.inspect(f"{repo}:other")
    # The tag "other" was never pushed: the registry has no such manifest. The classic store
    # passes on the registry's "manifest unknown"; containerd's image store says it "failed
    # to resolve reference" REF: REF: not found.
    if await containerd_image_store(docker):
        unknown = f'failed to resolve reference "{repo}:other": {repo}:other: not found'
    else:
        unknown = "manifest unknown"
    with pytest.raises(NotFound, match=re.escape(unknown)):
        async for _ in docker.images.pull(f"{repo}:other", auth=registry.credentials):
            pass


async def test_login(registry: Registry, docker: Docker) -> None:  # noqa: F811
    ok = await docker.system.auth(registry.credentials)
    assert ok.status == "Login Succeeded"
    typed = await docker.system.auth(
        models.SpecAuthConfig(
            username=registry.username, password=registry.password, serveraddress=registry.host
        )
    )
    assert typed.status == "Login Succeeded"

    wrong = "Wrong-?????>>>>>-password"
    with pytest.raises(DockerError, match="401 Unauthorized") as caught:
        await docker.system.auth(
            {"username": registry.username, "password": wrong, "serveraddress": registry.host}
        )
    assert registry.host in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert wrong not in text


async def test_wrong_or_missing_credentials(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
) -> None:
    containerd = await containerd_image_store(docker)
    await docker.images.tag(image, repo=repo, tag="v1")
    wrong = "Wrong-?????>>>>>-password"
    bad = {"username": registry.username, "password": wrong}
    # The registry refuses the wrong password with 401 {"errors": [{"code": "UNAUTHORIZED",
    # "message": "authentication required"}]}: the classic store passes that on,
    # containerd's image store only the status of the request it made.
    refused = "401 Unauthorized" if containerd else "unauthorized: authentication required"
    with pytest.raises(DockerStreamError, match=refused) as err:
        await push(docker, f"{repo}:v1", auth=bad)
    assert err.value.detail is not None
    for text in (str(err.value), repr(err.value), repr(err.value.detail)):
        assert wrong not in text
    # With no credentials at all (none given, none in the Docker config) the push is sent
    # with empty ones, and the daemon says it had none to offer.
    with pytest.raises(DockerStreamError, match="no basic auth credentials"):
        await push(docker, f"{repo}:v1")

    await push(docker, f"{repo}:v1", auth=registry.credentials)
    await docker.images.delete(f"{repo}:v1")
    with pytest.raises(DockerError, match=refused) as caught:
        async for _ in docker.images.pull(f"{repo}:v1", auth=bad):
            pass
    assert wrong not in str(caught.value)
    # dockerd 20.10 and 26.1 answer the refused pull with a 500; 28.5's classic store with
    # the registry's 401 (Unauthorized); containerd's image store with a 500 again.
    if ENGINE_VERSION >= (28, 0) and not containerd:
        assert isinstance(caught.value, Unauthorized) and caught.value.status == 401
    else:
        assert isinstance(caught.value, ServerError) and caught.value.status == 500
    with pytest.raises(ServerError, match="no basic auth credentials"):
        async for _ in docker.images.pull(f"{repo}:v1"):
            pass
    with pytest.raises(ServerError, match="no basic auth credentials"):
        await docker.distribution.inspect(f"{repo}:v1")
    with pytest.raises(NotFound):
        await docker.images.inspect(f"{repo}:v1")


async def test_credentials_from_config_auths(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
    docker_config: Path,
) -> None:
    userpass = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    write_config(docker_config, {"auths": {registry.host: {"auth": userpass}}})
    await docker.images.tag(image, repo=repo, tag="latest")
    messages = await push(docker, repo + ":latest")
    digest = pushed_digest(messages)
    await docker.images.delete(repo + ":latest")
    pulled = [m async for m in docker.images.pull(repo)]
    assert f"Digest: {digest}" in [m.status for m in pulled]
    dist = await docker.distribution.inspect(repo)
    assert dist.descriptor is not None and dist.descriptor.digest == digest


async def test_credentials_from_a_creds_store_helper(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
    docker_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    asked = tmp_path / "asked"
    reply = json.dumps(
        {"ServerURL": registry.host, "Username": registry.username, "Secret": registry.password}
    )
    helper = bin_dir / "docker-credential-test"
    helper.write_text(
        "#!/bin/sh\n"
        f"url=$(cat); printf '%s\\n' \"$url\" >> '{asked}'\n"
        f"[ \"$1\" = get ] && [ \"$url\" = '{registry.host}' ] && printf '%s' '{reply}' && exit 0\n"
        "echo 'credentials not found in native keychain'; exit 1\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_config(docker_config, {"credsStore": "test"})

    await docker.images.tag(image, repo=repo, tag="v2")
    digest = pushed_digest(await push(docker, f"{repo}:v2"))
    await docker.images.delete(f"{repo}:v2")
    pulled = [m async for m in docker.images.create(from_image=f"{repo}:v2")]
    assert f"Digest: {digest}" in [m.status for m in pulled]
    assert asked.read_text().split() == [registry.host, registry.host]
    # An explicit auth= wins: the helper is not asked.
    await docker.images.delete(f"{repo}:v2")
    async for _ in docker.images.pull(f"{repo}:v2", auth=registry.credentials):
        pass
    assert asked.read_text().split() == [registry.host, registry.host]


def dockerfile_context(text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_build_pulls_its_base_with_registry_config(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
    label: str,
) -> None:
    await docker.images.tag(image, repo=repo, tag="base")
    await push(docker, f"{repo}:base", auth=registry.credentials)
    await docker.images.delete(f"{repo}:base")
    context = dockerfile_context(f"FROM {repo}:base\nRUN echo {label} > /built\n")

    # pull=True makes the builder fetch the base from the registry, which needs credentials.
    with pytest.raises(DockerStreamError, match="no basic auth credentials"):
        async for _ in docker.images.build(context, t=f"{repo}:built", pull=True):
            pass
    messages = [
        m
        async for m in docker.images.build(
            context,
            t=f"{repo}:built",
            pull=True,
            auth_configs={
                registry.host: {"username": registry.username, "password": registry.password}
            },
        )
    ]
    text = "".join(m.stream or m.status or "" for m in messages)
    assert f"Pulling from aiodockerapi/t{label}" in text
    assert f"Successfully tagged {repo}:built" in text
    assert await run_output(docker, f"{repo}:built", "cat", "/built") == f"{label}\n".encode()


async def test_search_is_not_offered_by_a_v2_registry(
    docker: Docker,
    registry: Registry,  # noqa: F811
) -> None:
    # The daemon asks the registry's v1 search endpoint (/v1/search), which a v2-only
    # registry does not have; the user gets the daemon's 500 naming the 404.
    with pytest.raises(ServerError, match="Unexpected status code 404") as caught:
        await docker.images.search(f"{registry.host}/aiodockerapi", limit=5)
    assert caught.value.status == 500
