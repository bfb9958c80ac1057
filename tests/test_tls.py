"""The --tlsverify TCP listener of the test daemon."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from aiodockerapi import Docker, DockerConnectionError, DockerError, StreamType, TLSConfig

from .conftest import DAEMON_API, container_config
from .sandbox import Sandbox

pytestmark = pytest.mark.daemon


def tls_of(sandbox: Sandbox) -> tuple[str, Path, Path, Path]:
    assert sandbox.tcp_url is not None and sandbox.tls_files is not None
    files = sandbox.tls_files
    return sandbox.tcp_url, files.ca, files.client_cert, files.client_key


async def test_mutual_tls(sandbox: Sandbox) -> None:
    url, ca, cert, key = tls_of(sandbox)
    async with Docker(url, tls=TLSConfig(ca_cert=ca, client_cert=(cert, key))) as docker:
        info = await docker.system.info()
        assert info.os_type == "linux"
        assert docker.api_version == DAEMON_API
        assert [c async for c in docker.system.events(since=0, until=1)] == []


async def test_streams_over_tls(sandbox: Sandbox, image: str, label: str) -> None:
    """Logs and events over TLS: read off a TLS socket of their own, not the pool's."""
    url, ca, cert, key = tls_of(sandbox)
    async with Docker(url, tls=TLSConfig(ca_cert=ca, client_cert=(cert, key))) as docker:
        since = time.time() - 1
        script = "for i in $(seq 1 2000); do echo line $i; echo err $i >&2; done"
        created = await docker.containers.create(
            container_config(image, "sh", "-c", script, Labels={"aiodockerapi.test": label})
        )
        assert created.id is not None
        await docker.containers.start(created.id)
        await docker.containers.wait(created.id)
        out, err = bytearray(), bytearray()
        async for frame in docker.containers.logs(created.id, stdout=True, stderr=True):
            (out if frame.stream == StreamType.STDOUT else err).extend(frame.data)
        assert out.decode().splitlines() == [f"line {i}" for i in range(1, 2001)]
        assert err.decode().splitlines() == [f"err {i}" for i in range(1, 2001)]
        actions = [
            e.action
            async for e in docker.system.events(
                since=since, until=time.time(), filters={"container": created.id}
            )
        ]
        assert actions[:2] == ["create", "start"] and "die" in actions
        await docker.containers.delete(created.id)


async def test_stream_without_client_certificate_fails(sandbox: Sandbox) -> None:
    url, ca, _, _ = tls_of(sandbox)
    async with Docker(url, tls=TLSConfig(ca_cert=ca), api_version="1.41") as docker:
        with pytest.raises(DockerConnectionError, match=r"GET /events on .*client certificate"):
            await asyncio.wait_for(anext(docker.system.events()), 10)


async def test_tls_without_client_certificate_fails_fast(sandbox: Sandbox) -> None:
    url, ca, _, _ = tls_of(sandbox)
    async with Docker(url, tls=TLSConfig(ca_cert=ca)) as docker:
        with pytest.raises(DockerConnectionError) as caught:
            await asyncio.wait_for(docker.system.info(), 10)
    message = str(caught.value)
    assert "refused the TLS handshake for want of a valid client certificate" in message
    assert "is the daemon running" not in message


async def test_tls_with_an_untrusted_server_fails_fast(sandbox: Sandbox, tmp_path: Path) -> None:
    url, _, cert, key = tls_of(sandbox)
    # The system CAs don't know the test CA.
    async with Docker(url, tls=TLSConfig(client_cert=(cert, key))) as docker:
        with pytest.raises(DockerError, match="certificate verify failed"):
            await asyncio.wait_for(docker.system.info(), 10)


@pytest.mark.parametrize("path", ["pool", "own socket"])
async def test_plain_http_to_a_tls_port_says_so_in_one_line(sandbox: Sandbox, path: str) -> None:
    """The same line whichever way the request went: a call through the pool, or a stream
    over a socket of its own (pinned, so that no negotiation goes through the pool first)."""
    url, _, _, _ = tls_of(sandbox)
    async with Docker(url, tls=False, api_version="1.41" if path == "own socket" else None) as d:
        with pytest.raises(DockerConnectionError) as caught:
            if path == "pool":
                await asyncio.wait_for(d.system.info(), 10)
            else:
                await asyncio.wait_for(anext(d.system.events()), 10)
    assert str(caught.value) == (
        f"{url} speaks TLS: pass tls=TLSConfig(...) (or tls=True to read DOCKER_CERT_PATH), "
        "or use an https:// URL"
    )


async def test_tls_from_environment(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ca, cert, key = tls_of(sandbox)
    for src, name in ((ca, "ca.pem"), (cert, "cert.pem"), (key, "key.pem")):
        shutil.copy(src, tmp_path / name)
    monkeypatch.setenv("DOCKER_HOST", url)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    async with Docker() as docker:
        assert (await docker.system.version()).api_version == DAEMON_API


def test_missing_certificate_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid TLS configuration"):
        Docker("tcp://127.0.0.1:2376", tls=TLSConfig(ca_cert=tmp_path / "nope.pem"))
