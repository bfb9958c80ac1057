"""Docker contexts: Docker(context=...), DOCKER_CONTEXT and config.json's currentContext."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from aiodockerapi import Docker
from aiodockerapi.errors import ContextError

from .conftest import DAEMON_API
from .sandbox import Sandbox

pytestmark = pytest.mark.daemon


def write_context(config: Path, name: str, host: str, tls_from: Sandbox | None = None) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": name,
                "Metadata": {"Description": "test"},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
            }
        )
    )
    if tls_from is not None:
        assert tls_from.tls_files is not None
        files = tls_from.tls_files
        tls = config / "contexts" / "tls" / digest / "docker"
        tls.mkdir(parents=True)
        for src, dst in ((files.ca, "ca.pem"), (files.client_cert, "cert.pem")):
            shutil.copy(src, tls / dst)
        shutil.copy(files.client_key, tls / "key.pem")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for var in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(var, raising=False)
    assert sandbox.tcp_url is not None
    write_context(tmp_path, "tls-remote", sandbox.tcp_url, tls_from=sandbox)
    write_context(tmp_path, "local", sandbox.unix_url)
    return tmp_path


async def test_named_context_with_tls_material(config: Path, sandbox: Sandbox) -> None:
    async with Docker(context="tls-remote") as docker:
        assert docker.host == sandbox.tcp_url
        assert (await docker.system.version()).api_version == DAEMON_API


async def test_docker_context_variable(
    config: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "local")
    async with Docker() as docker:
        assert docker.host == sandbox.unix_url
        assert (await docker.system.ping()).api_version == DAEMON_API


async def test_current_context_in_config_json(config: Path, sandbox: Sandbox) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": "tls-remote"}))
    async with Docker() as docker:
        assert docker.host == sandbox.tcp_url
        assert (await docker.system.info()).os_type == "linux"


def test_docker_host_wins_over_current_context(
    config: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": "tls-remote"}))
    monkeypatch.setenv("DOCKER_HOST", sandbox.unix_url)
    assert Docker().host == sandbox.unix_url
    assert Docker(context="default").host == sandbox.unix_url


def test_unknown_context_is_a_clear_error(config: Path) -> None:
    with pytest.raises(ContextError, match="'nope' not found"):
        Docker(context="nope")


def test_host_and_context_together_are_refused(config: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        Docker("unix:///x.sock", context="local")
