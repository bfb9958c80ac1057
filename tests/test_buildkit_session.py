"""BuildKit sessions (aiodockerapi.buildkit.session): secrets, ssh forwarding, registry
credentials, and the session's life around a build, against the real daemons."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, TLSConfig
from aiodockerapi.auth import AuthConfig
from aiodockerapi.buildkit import BuildFailed
from aiodockerapi.buildkit.session import SessionUnavailable
from aiodockerapi.buildkit.session.authservice import AuthService, credentials_of
from aiodockerapi.buildkit.session.build import SessionOptions
from aiodockerapi.buildkit.session.connection import method_headers
from aiodockerapi.buildkit.session.secrets import Secrets
from aiodockerapi.http import HTTPRequest
from aiodockerapi.testing import MockResponse, MockTransport

from .registry import Registry, registry  # noqa: F401
from .sandbox import ENGINE, Sandbox
from .session_kit import (
    BUILD_TIMEOUT,
    EXPORTED_SECRET,
    TEST_IMAGE,
    Agent,
    build,
    copy_with_libs,
    dockerfile,
    new_context_dir,
    sessions_open,
    two_agents,
)

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit session"),
]


@pytest.fixture
def context_dir(tmp_path: Path, image: str) -> Path:
    """An empty build context; the test image (its FROM) is built first."""
    return new_context_dir(tmp_path)


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[tuple[Agent, Agent]]:
    with two_agents(tmp_path) as pair:
        yield pair


# --- secrets ---------------------------------------------------------------------------------


async def test_secrets_reach_run_steps(docker: Docker, context_dir: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "token.txt"
    secret_file.write_bytes(b"from-a-file\n")
    dockerfile(
        context_dir,
        'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = hunter2',
        "RUN --mount=type=secret,id=raw,target=/raw cmp /raw /run/expected || "
        "(echo raw differs; exit 1)",
        'RUN --mount=type=secret,id=file test "$(cat /run/secrets/file)" = from-a-file',
    )
    # The raw secret's expected bytes go in the image by another route: the context.
    raw = bytes(range(256))
    (context_dir / "expected").write_bytes(raw)
    (context_dir / "Dockerfile").write_text(
        (context_dir / "Dockerfile")
        .read_text()
        .replace(f"FROM {TEST_IMAGE}\n", f"FROM {TEST_IMAGE}\nCOPY expected /run/expected\n")
    )
    await build(
        docker,
        context_dir,
        secrets={"tok": "hunter2", "raw": raw, "file": secret_file},
    )
    assert sessions_open() == []


async def test_wrong_secret_value_fails_the_step(docker: Docker, context_dir: Path) -> None:
    """The check above can fail: a different value makes the step fail."""
    dockerfile(
        context_dir, 'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = hunter2'
    )
    with pytest.raises(BuildFailed, match="exit code: 1"):
        await build(docker, context_dir, secrets={"tok": "not-it"})


async def test_missing_secret_names_it(
    docker: Docker, context_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dockerfile(context_dir, "RUN --mount=type=secret,id=nope,required=true cat /run/secrets/nope")
    with pytest.raises(BuildFailed) as raised:
        await build(docker, context_dir, secrets={"other": "other-value"})
    assert "nope" in str(raised.value)
    assert "other-value" not in caplog.text
    assert "not found" in str(raised.value)
    assert sessions_open() == []


async def test_secret_file_missing_is_refused_before_the_build(
    docker: Docker, context_dir: Path, tmp_path: Path
) -> None:
    dockerfile(context_dir, "RUN true")
    with pytest.raises(ValueError, match=r"secret 'tok': .*gone\.txt is not a readable file"):
        await build(docker, context_dir, secrets={"tok": tmp_path / "gone.txt"})
    assert sessions_open() == []


async def test_ssh_agents_are_forwarded(
    docker: Docker,
    context_dir: Path,
    agents: tuple[Agent, Agent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two agents by id ("default" from $SSH_AUTH_SOCK, "two" by path): `ssh-add -l` in a step
    lists the key of the agent its mount names, and only that one."""
    one, two = agents
    copy_with_libs("/usr/bin/ssh-add", context_dir / "root")
    dockerfile(
        context_dir,
        "COPY root/ /",
        "RUN --mount=type=ssh test -S $SSH_AUTH_SOCK && ssh-add -l > /one.txt",
        "RUN --mount=type=ssh,id=two ssh-add -l > /two.txt",
        "RUN grep -q key-one /one.txt && ! grep -q key-two /one.txt",
        "RUN grep -q key-two /two.txt && ! grep -q key-one /two.txt",
    )
    monkeypatch.setenv("SSH_AUTH_SOCK", str(one.socket))
    await build(docker, context_dir, ssh={"default": None, "two": two.socket})
    assert sessions_open() == []


async def test_ssh_id_not_given_fails_the_step(
    docker: Docker, context_dir: Path, agents: tuple[Agent, Agent]
) -> None:
    dockerfile(context_dir, "RUN --mount=type=ssh,id=absent,required=true true")
    with pytest.raises(BuildFailed, match="absent"):
        await build(docker, context_dir, ssh={"other": agents[0].socket})
    assert sessions_open() == []


async def test_ssh_socket_missing_is_refused_before_the_build(
    docker: Docker, context_dir: Path, tmp_path: Path
) -> None:
    dockerfile(context_dir, "RUN true")
    with pytest.raises(ValueError, match=r"ssh 'default': .*nothing\.sock is not a unix socket"):
        await build(docker, context_dir, ssh={"default": tmp_path / "nothing.sock"})


# --- the session's life ----------------------------------------------------------------------


async def test_cancelled_build_leaves_no_session_and_no_task(
    docker: Docker, context_dir: Path
) -> None:
    dockerfile(context_dir, "RUN --mount=type=secret,id=tok sleep 60")
    before = asyncio.all_tasks()
    started = asyncio.Event()

    async def consume() -> None:
        stream = docker.images.build(
            context_dir, version="2", networkmode="none", nocache=True, secrets={"tok": "x"}
        )
        async for message in stream:
            if message.id == "moby.buildkit.trace" and sessions_open():
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), BUILD_TIMEOUT)
    assert len(sessions_open()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert sessions_open() == []
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


# --- exports and the extra -------------------------------------------------------------------


async def test_secret_comes_back_in_a_local_export(
    docker: Docker, context_dir: Path, tmp_path: Path
) -> None:
    (context_dir / "Dockerfile").write_text(EXPORTED_SECRET)
    dest = tmp_path / "exported"
    await build(
        docker, context_dir, secrets={"tok": b"s3cr\x00t"}, output={"type": "local", "dest": dest}
    )
    assert sorted(p.name for p in dest.iterdir()) == ["out"]
    assert (dest / "out").read_bytes() == b"s3cr\x00t"
    assert sessions_open() == []


async def test_tar_export_to_a_writer(docker: Docker, context_dir: Path) -> None:
    (context_dir / "Dockerfile").write_text(EXPORTED_SECRET)
    sink = io.BytesIO()
    await build(
        docker, context_dir, secrets={"tok": "in-a-tar"}, output={"type": "tar", "dest": sink}
    )
    with tarfile.open(fileobj=io.BytesIO(sink.getvalue())) as tar:
        member = tar.extractfile("out")
        assert member is not None and member.read() == b"in-a-tar"


def test_bad_outputs_are_refused_before_any_request(docker: Docker, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="output type must be one of local, tar, not 'image'"):
        docker.images.build(tmp_path, version="2", output={"type": "image"})
    with pytest.raises(ValueError, match="give output= or outputs=, not both"):
        docker.images.build(
            tmp_path, version="2", output={"type": "tar", "dest": "x"}, outputs="[]"
        )
    with pytest.raises(ValueError, match='need BuildKit: pass version="2"'):
        docker.images.build(tmp_path, secrets={"a": "b"})
    with pytest.raises(TypeError, match="secret 'a': give bytes, a str or a path, not int"):
        docker.images.build(tmp_path, version="2", secrets={"a": 1})  # type: ignore[dict-item]


def test_secrets_never_show_their_values() -> None:
    secrets = Secrets({"tok": "hunter2", "raw": b"\x00pw", "file": Path("/run/pw.txt")})
    shown = repr(secrets) + str(secrets)
    assert "hunter2" not in shown and "pw'" not in shown and "\\x00" not in shown
    assert shown.startswith("Secrets({'tok': <str>, 'raw': <bytes>, 'file': <file /run/pw.txt>})")
    options = SessionOptions(secrets={"tok": "hunter2"})
    assert "hunter2" not in repr(options)


async def test_without_the_extra_a_session_build_says_what_to_install(
    docker: Docker, context_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dockerfile(context_dir, "RUN true")
    monkeypatch.setitem(sys.modules, "grpclib.server", None)
    with pytest.raises(SessionUnavailable, match=r"pip install 'aiodockerapi\[buildkit\]'"):
        docker.images.build(context_dir, version="2", secrets={"tok": "x"})
    # A directory context without any session need still builds (sent as a tar).
    assert await build(docker, context_dir)


# --- registry credentials --------------------------------------------------------------------


async def test_base_image_pulled_with_credentials_from_the_docker_config(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    context_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BuildKit asks the session for the registry's credentials (Auth/Credentials), answered
    from the Docker config: with none the pull is refused, with them the build runs."""
    repo = registry.image(f"aiodockerapi/session{uuid.uuid4().hex[:8]}")
    await docker.images.tag(image, repo=repo, tag="base")
    try:
        async for _ in docker.images.push(f"{repo}:base", auth=registry.credentials):
            pass
    finally:
        await docker.images.delete(f"{repo}:base")
    (context_dir / "Dockerfile").write_text(f"FROM {repo}:base\nRUN true\n")
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    with pytest.raises(BuildFailed, match=r"(?i)unauthorized|authentication required|401"):
        await build(docker, context_dir, pull=True)
    basic = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": basic}}}))
    assert await build(docker, context_dir, pull=True)
    assert sessions_open() == []


async def test_session_over_tls(sandbox: Sandbox, context_dir: Path) -> None:
    """The session's connection is the TLS one the daemon's TCP listener upgrades."""
    assert sandbox.tcp_url is not None and sandbox.tls_files is not None
    files = sandbox.tls_files
    tls = TLSConfig(ca_cert=files.ca, client_cert=(files.client_cert, files.client_key))
    dockerfile(
        context_dir, 'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = over-tls'
    )
    async with Docker(sandbox.tcp_url, tls=tls) as docker:
        assert await build(docker, context_dir, secrets={"tok": "over-tls"})
    assert sessions_open() == []


# --- pieces ----------------------------------------------------------------------------------


def test_one_method_header_line_per_method() -> None:
    methods = [f"/pkg.Service/M{i}" for i in range(20)]
    headers = method_headers(methods)
    assert list(headers.values()) == methods
    assert {name.lower() for name in headers} == {"x-docker-expose-session-grpc-method"}
    assert len(set(headers)) == len(methods)


async def test_auth_service_answers_given_credentials_first(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    basic = base64.b64encode(b"fromfile:pw1").decode()
    config.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": basic},
                    "r.example": {"auth": basic},
                }
            }
        )
    )
    service = AuthService(
        {"https://r.example/v1/": {"username": "given", "password": "pw2"}}, config
    )
    assert credentials_of(await service.lookup("r.example")) == ("given", "pw2")
    assert credentials_of(await service.lookup("docker.io")) == ("fromfile", "pw1")
    assert credentials_of(await service.lookup("other.example")) == ("", "")
    assert credentials_of(AuthConfig(identitytoken="tok")) == ("", "tok")
    assert "pw2" not in repr(service)


async def test_directory_context_falls_back_to_a_tar_where_no_session_opens(
    tmp_path: Path,
) -> None:
    """A transport that cannot upgrade (a mock; Podman refuses /session) still builds a
    directory with version="2" as before, its context a tar body; a build that needs the
    session says why it cannot run."""

    def answer(request: HTTPRequest) -> MockResponse:
        return MockResponse(chunks=[b'{"aux":{"ID":"sha256:abc"}}\n'])

    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    mock = MockTransport(answer)
    async with Docker(transport=mock, api_version="1.45") as docker:
        got = [m async for m in docker.images.build(tmp_path, version="2")]
        assert len(got) == 1
        build_request = mock.requests[-1]
        assert build_request.target.startswith("/v1.45/build?")
        assert "session=" not in build_request.target
        assert build_request.data is not None  # the tar body
        with pytest.raises(NotImplementedError, match="cannot upgrade"):
            async for _ in docker.images.build(tmp_path, version="2", secrets={"a": "b"}):
                pass
    assert sessions_open() == []
