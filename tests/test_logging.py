"""Log records (docs/logging.md): what a service sees at DEBUG, that plain calls warn about
nothing, and that no secret ever reaches a record."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import stat
import tarfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiodockerapi import CredentialsError, Docker, DockerConnectionError, Fleet, NotFound
from aiodockerapi.auth import AuthConfig, encode_auth, encode_registry_config, resolve_auth
from aiodockerapi.models import EventMessage

from .conftest import DAEMON_API, running_sandbox
from .registry import Registry, registry  # noqa: F401
from .sandbox import Sandbox
from .sshd import SSHServer, running_sshd

pytestmark = pytest.mark.daemon


@pytest.fixture
def debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of the library, from DEBUG up."""
    caplog.set_level(logging.DEBUG, logger="aiodockerapi")
    return caplog


def said(caplog: pytest.LogCaptureFixture, logger: str, level: int = logging.DEBUG) -> list[str]:
    """The messages `logger` recorded at `level`."""
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == level]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The library's records at WARNING and above (asyncio's own are not its)."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("aiodockerapi")
    ]


async def test_negotiation_and_connections_are_recorded(
    sandbox: Sandbox, debug: pytest.LogCaptureFixture
) -> None:
    url = sandbox.unix_url
    async with Docker(url) as docker:
        await docker.system.version()
        assert docker.api_version == DAEMON_API
        now = time.time()
        async for _ in docker.system.events(since=now - 1, until=now):
            pass
    negotiated = said(debug, "aiodockerapi.versions")
    assert len(negotiated) == 1, negotiated
    assert negotiated[0].startswith(f"{url} speaks API {DAEMON_API} ")
    assert f"; speaking {DAEMON_API}, the newest" in negotiated[0]

    http = said(debug, "aiodockerapi.http")
    socket = f"unix socket {sandbox.unix_socket}"
    assert http[0] == f"pool for {url} opened ({socket}, up to 100 connections)"
    # The first connection is opened by the negotiation's ping.
    assert f"pooled connection to {url} opened ({socket}) for HEAD /_ping" in http
    events = f"GET /v{DAEMON_API}/events"  # never the query: it could hold secrets
    assert f"own socket to {url} opened ({socket}) for {events}" in http
    assert f"own socket to {url} closed after {events}" in http
    assert http[-1] == f"pool for {url} closed"
    assert not warnings(debug)


async def test_plain_calls_record_nothing_above_debug_and_nothing_per_request(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, label: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiodockerapi")
    async with Docker(sandbox.unix_url) as docker:
        await docker.system.ping()
        await docker.system.info()
        opened = len(caplog.records)
        for _ in range(5):
            await docker.system.version()
            await docker.containers.list(all=True)
            await docker.images.list()
        created = await docker.volumes.create({"Name": f"logging-{label}"})
        await docker.volumes.delete(created.name)
        with pytest.raises(NotFound):
            await docker.containers.inspect(f"missing-{label}")
        # Plain calls on the pool's open connections: not one record each.
        assert caplog.records[opened:] == []
    assert not warnings(caplog)


@pytest.fixture
def sshd(sandbox: Sandbox) -> Iterator[SSHServer]:
    with running_sshd(sandbox.unix_url) as server:
        yield server


async def test_ssh_tunnel_start_sessions_and_stop_are_recorded(
    sshd: SSHServer, debug: pytest.LogCaptureFixture
) -> None:
    async with Docker(sshd.url, ssh_options=sshd.options) as docker:
        assert (await docker.system.version()).api_version == DAEMON_API
        await docker.system.info()
    ssh = said(debug, "aiodockerapi.ssh")
    assert ssh[0] == f"ssh tunnel to {sshd.url} starting: logging in"
    assert ssh[1].startswith(f"ssh tunnel to {sshd.url} started, listening on /")
    assert f"ssh session to {sshd.url} opened (docker system dial-stdio)" in ssh
    assert any(m.startswith(f"ssh session to {sshd.url} closed (") for m in ssh), ssh
    assert ssh[-1] == f"ssh tunnel to {sshd.url} stopped"
    http = said(debug, "aiodockerapi.http")
    assert http[0].startswith(f"pool for {sshd.url} opened (ssh tunnel (socket /")
    # Sessions end as the client closes: none of that is worth a warning.
    assert not warnings(debug)


def write_helper(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\nurl=$(cat)\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


async def test_credential_helper_runs_are_recorded_without_their_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug: pytest.LogCaptureFixture
) -> None:
    secret = "helper-secret-Zq8"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    reply = json.dumps({"ServerURL": "127.0.0.1:5000", "Username": "carol", "Secret": secret})
    write_helper(bin_dir, "good", f"printf '%s' '{reply}'\n")
    write_helper(bin_dir, "broken", f"echo 'locked, {secret}' >&2; exit 3\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {"127.0.0.1:5000": "good"}}))
    found = await resolve_auth("127.0.0.1:5000", config)
    assert found is not None and found.password == secret
    config.write_text(json.dumps({"credsStore": "broken"}))
    with pytest.raises(CredentialsError):
        await resolve_auth("127.0.0.1:5001", config)

    assert said(debug, "aiodockerapi.auth") == [
        "running credential helper docker-credential-good for 127.0.0.1:5000",
        "credential helper docker-credential-good for 127.0.0.1:5000 exited with status 0",
        "running credential helper docker-credential-broken for 127.0.0.1:5001",
        "credential helper docker-credential-broken for 127.0.0.1:5001 exited with status 3",
    ]
    assert not any(secret in r.getMessage() for r in debug.records)


def b64_forms(text: str) -> set[str]:
    data = text.encode()
    return {base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()}


def dockerfile_context(text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
async def repo(
    docker: Docker,
    registry: Registry,  # noqa: F811
    label: str,
) -> AsyncIterator[str]:
    name = registry.image(f"aiodockerapi/log{label}")
    yield name
    for img in await docker.images.list(all=True):
        for ref in [*(img.repo_tags or []), *(img.repo_digests or [])]:
            if ref.startswith((name + ":", name + "@")):
                try:
                    await docker.images.delete(ref, force=True)
                except NotFound:
                    pass


async def test_no_secret_reaches_a_record(
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    repo: str,
    label: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug: pytest.LogCaptureFixture,
) -> None:
    """A login, a push (X-Registry-Auth), a pull through a credential helper (whose output
    holds the password) and a build (X-Registry-Config), all logged at DEBUG."""
    creds = registry.credentials
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    reply = json.dumps(
        {"ServerURL": registry.host, "Username": registry.username, "Secret": registry.password}
    )
    write_helper(bin_dir, "logtest", f"printf '%s' '{reply}'\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credsStore": "logtest"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))

    async with Docker(docker.host) as client:  # a client of its own: its pool opens here
        assert (await client.system.auth(creds)).status == "Login Succeeded"
        await client.images.tag(image, repo=repo, tag="base")
        async for _ in client.images.push(f"{repo}:base", auth=creds):
            pass
        await client.images.delete(f"{repo}:base")
        async for _ in client.images.pull(f"{repo}:base"):  # the helper's credentials
            pass
        await client.images.delete(f"{repo}:base")
        registry_config = {
            registry.host: {"username": registry.username, "password": creds["password"]}
        }
        context = dockerfile_context(f"FROM {repo}:base\nRUN echo {label}\n")
        async for _ in client.images.build(
            context, t=f"{repo}:built", pull=True, auth_configs=registry_config
        ):
            pass
        assert (await client.images.inspect(f"{repo}:built")).id

    password = registry.password
    secrets = {
        password,
        encode_auth(creds),
        encode_auth(AuthConfig(username=registry.username, password=password)),
        encode_registry_config(registry_config),
        reply,
        *b64_forms(password),
        *b64_forms(f"{registry.username}:{password}"),
    }
    records = debug.records
    assert said(debug, "aiodockerapi.auth")  # the helper's run was recorded
    assert said(debug, "aiodockerapi.http")
    for record in records:
        shown = " ".join([record.getMessage(), str(record.msg), repr(record.args)])
        leaked = [s for s in secrets if s in shown]
        assert not leaked, (record.name, shown)
    assert not warnings(debug)


async def test_resume_reconnects_and_renegotiation_are_recorded(
    debug: pytest.LogCaptureFixture, label: str
) -> None:
    """dockerd 20.10 is replaced by 28.5 with Docker 29's floor (1.44) under a resumed
    events stream: the stream is reopened, and the request at 1.41 refused and sent again."""
    with running_sandbox(flavour="20.10") as box:
        url = box.unix_url
        async with Docker(url) as docker:
            seen: list[EventMessage] = []
            arrived = asyncio.Event()
            stream = docker.system.events(
                since=time.time(), filters={"type": "volume"}, resume=True
            )

            async def watch() -> None:
                async for ev in stream:
                    seen.append(ev)
                    arrived.set()

            watcher = asyncio.create_task(watch())
            try:
                await docker.volumes.create({"Name": f"before-{label}"})
                await asyncio.wait_for(arrived.wait(), 30)
                arrived.clear()
                await asyncio.to_thread(box.terminate)
                await asyncio.to_thread(box.relaunch, flavour="28.5-floor")
                await docker.volumes.create({"Name": f"after-{label}"})
                while f"after-{label}" not in [ev.actor.id for ev in seen if ev.actor]:
                    await asyncio.wait_for(arrived.wait(), 60)
                    arrived.clear()
            finally:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
                await stream.aclose()
            assert docker.api_version == "1.51"
            for name in ("before", "after"):
                await docker.volumes.delete(f"{name}-{label}")

    reopened = said(debug, "aiodockerapi.resources.events")
    assert reopened, "the stream was reopened"
    assert all(m.startswith(f"events of {url}: reopening the stream since ") for m in reopened)
    versions = said(debug, "aiodockerapi.versions")
    refused = [m for m in versions if " refused API 1.41 " in m]
    assert len(refused) == 1, versions
    assert refused[0].startswith(f"{url} refused API 1.41 (client version 1.41 is too old")
    assert refused[0].endswith("): negotiating again")
    assert (
        f"{url} speaks API 1.51 (oldest not asked); speaking 1.51, the newest the daemon speaks"
        in versions
    )
    # The create, or the stream's reopening if it came first, was refused and sent again.
    resent = [m for m in versions if m.endswith(f" to {url} sent again with API 1.51")]
    assert set(resent) <= {
        f"POST /volumes/create to {url} sent again with API 1.51",
        f"GET /events to {url} sent again with API 1.51",
    }
    assert resent, versions
    assert not warnings(debug)


async def test_a_request_resent_on_a_closed_pooled_connection_is_recorded(
    tmp_path: Path, debug: pytest.LogCaptureFixture
) -> None:
    """A daemon closing a kept-alive connection as a request arrives on it (what an idle
    timeout does, at the worst moment) makes aiohttp send the request again on a new one.
    dockerd cannot be made to do that on cue: a server on a unix socket of this test does."""
    path = str(tmp_path / "closing.sock")
    answer = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # the next request on this connection
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_unix_server(serve, path)
    try:
        async with Docker(f"unix://{path}", api_version="1.41") as docker:
            assert (await asyncio.wait_for(docker.system.ping(), 10)).api_version == "1.41"
            assert (await asyncio.wait_for(docker.system.ping(), 10)).api_version == "1.41"
    finally:
        server.close()
        await server.wait_closed()
    http = said(debug, "aiodockerapi.http")
    url = f"unix://{path}"
    assert http.count(f"pooled connection to {url} opened (unix socket {path}) for GET /_ping") == 2
    assert (
        f"GET /_ping to {url} sent again: the pooled connection was closed before it was answered"
        in http
    )
    assert said(debug, "aiodockerapi.versions") == [f"API 1.41 pinned for {url}: not negotiated"]


async def test_a_failing_ssh_session_is_a_warning(
    tmp_path: Path, debug: pytest.LogCaptureFixture
) -> None:
    """Logins whose docker CLI finds no daemon: each session's dial-stdio fails, the client
    only sees its connection drop, and the record says what to look at."""
    with running_sshd(f"unix://{tmp_path}/no-daemon.sock") as server:
        async with Docker(server.url, ssh_options=server.options) as docker:
            with pytest.raises(DockerConnectionError):
                await asyncio.wait_for(docker.system.version(), 60)
    warned = said(debug, "aiodockerapi.ssh", logging.WARNING)
    assert warned
    for message in warned:
        assert message.startswith(
            f"ssh session to {server.url} failed: the remote docker system dial-stdio exited "
            "with status 1 "
        ), message


async def test_a_password_in_a_host_url_is_not_recorded(debug: pytest.LogCaptureFixture) -> None:
    async with Docker("http://user:hunter2@127.0.0.1:9") as docker:  # nothing listens there
        with pytest.raises(DockerConnectionError):
            await asyncio.wait_for(docker.system.version(), 30)
    http = said(debug, "aiodockerapi.http")
    assert http[0] == "pool for http://user:***@127.0.0.1:9 opened (tcp, up to 100 connections)"
    assert not any("hunter2" in " ".join([r.getMessage(), repr(r.args)]) for r in debug.records)


async def test_a_fleet_hosts_stream_failing_and_ending_is_recorded(
    sandbox: Sandbox, tmp_path: Path, debug: pytest.LogCaptureFixture
) -> None:
    missing = f"unix://{tmp_path}/no-daemon.sock"
    async with Fleet([sandbox.unix_url, missing]) as fleet:
        now = time.time()
        async with fleet.events(since=now - 1, until=now) as events:
            items = [item async for item in events]
    assert [item.host for item in items if item.error is not None] == [missing]
    records = said(debug, "aiodockerapi.resources.events")
    failed = [m for m in records if " failed: " in m]
    assert len(failed) == 1, records
    assert failed[0].startswith(
        f"fleet events: the stream of {missing} failed: DockerConnectionError("
    )
    assert sorted(m for m in records if m.endswith(" ended")) == sorted(
        f"fleet events: the stream of {host} ended" for host in (sandbox.unix_url, missing)
    )
