"""docker.plugins (and docker.session) against the real daemon.

The test plugin is a volume driver built here, with no image and no network: a rootfs with
the static busybox, whose shell starts the interpreter running this test suite (from the
host's /usr and Python prefix, bind-mounted read-only) to serve the plugin protocol on the
plugin's unix socket. The registry tests push it to, and pull it from, tests/registry.py.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import (
    BadRequest,
    Conflict,
    Docker,
    DockerError,
    DockerStreamError,
    NotFound,
    ServerError,
)
from aiodockerapi import operations as ops
from aiodockerapi.errors import SessionNotSupported
from aiodockerapi.models import Plugin

from .conftest import BUSYBOX
from .registry import Registry, registry  # noqa: F401

pytestmark = pytest.mark.daemon

INTERFACE = "docker.volumedriver/1.0"
SOCKET = "aiodockerapi.sock"
PYTHON = os.path.realpath(sys.executable)
PYTHON_PREFIX = os.path.realpath(sys.base_prefix)

# The plugin's process: a volume driver whose volumes report the plugin's environment and
# arguments in their status, so a test can see what `set` changed reach the process.
SERVER = f"""\
import json, os, signal, socketserver, sys
from http.server import BaseHTTPRequestHandler

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 has no default handler
STATUS = {{"greeting": os.environ.get("GREETING"), "args": sys.argv[1:]}}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = json.loads(raw or b"{{}}")
        if self.path == "/Plugin.Activate":
            answer = {{"Implements": ["VolumeDriver"]}}
        elif self.path == "/VolumeDriver.Get":
            answer = {{"Volume": {{"Name": request["Name"], "Status": {{"plugin": STATUS}}}}}}
        elif self.path == "/VolumeDriver.List":
            answer = {{"Volumes": []}}
        else:
            answer = {{}}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.plugins.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


socketserver.UnixStreamServer("/run/docker/plugins/{SOCKET}", Handler).serve_forever()
"""


def _mounts() -> list[dict[str, Any]]:
    """Read-only binds of /usr (libc, the loader) and of the Python install if elsewhere."""
    sources = ["/usr"]
    if not PYTHON_PREFIX.startswith("/usr/"):
        sources.append(PYTHON_PREFIX)
    return [
        {
            "Name": f"host{i}",
            "Source": s,
            "Destination": s,
            "Type": "bind",
            "Options": ["rbind", "ro"],
        }
        for i, s in enumerate(sources)
    ]


def make_plugin(root: Path, *, description: str = "aiodockerapi test plugin") -> Path:
    """Write a plugin directory (config.json, rootfs/) under root and return it."""
    if not BUSYBOX.exists():
        pytest.fail("/bin/busybox is missing: install Debian's busybox-static", pytrace=False)
    if not (PYTHON.startswith("/usr/") or PYTHON.startswith(PYTHON_PREFIX + "/")):
        pytest.fail(f"the test plugin cannot run {PYTHON}: outside /usr and {PYTHON_PREFIX}")
    rootfs = root / "rootfs"
    for sub in ("bin", "etc", "usr", "run/docker/plugins"):
        (rootfs / sub).mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    (rootfs / "bin" / "sh").symlink_to("busybox")
    (rootfs / "lib").symlink_to("usr/lib")  # the dynamic loader's paths, on merged /usr
    (rootfs / "lib64").symlink_to("usr/lib64")
    (rootfs / "serve.py").write_text(SERVER)
    # Unique content: the daemon refuses a second plugin whose rootfs it already stores.
    (rootfs / "etc" / "plugin-id").write_text(uuid.uuid4().hex)
    config = {
        "Description": description,
        "Documentation": "https://example.invalid/aiodockerapi",
        "Interface": {"Types": [INTERFACE], "Socket": SOCKET},
        "Entrypoint": ["/bin/sh", "-c", 'exec "$0" -I /serve.py "$@"', PYTHON],
        "Network": {"Type": "none"},
        "Mounts": _mounts(),
        "Env": [
            {"Name": "GREETING", "Description": "a word", "Settable": ["value"], "Value": "hello"}
        ],
        "Args": {
            "Name": "args",
            "Description": "arguments",
            "Settable": ["value"],
            "Value": ["one"],
        },
    }
    (root / "config.json").write_text(json.dumps(config))
    return root


def tar_of(directory: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for entry in sorted(directory.iterdir()):
            tar.add(entry, arcname=entry.name)
    return buf.getvalue()


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    return make_plugin(tmp_path / "plugin")


@pytest.fixture
async def plugins(docker: Docker) -> AsyncIterator[list[str]]:
    """Names of the plugins a test installs; whatever of them is left is removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        try:
            await docker.plugins.delete(name, force=True)
        except NotFound:
            pass


@pytest.fixture
def name(label: str, plugins: list[str]) -> str:
    plugin = f"aiodockerapi-test/plugin-{label}:latest"
    plugins.append(plugin)
    return plugin


def names_of(found: list[Plugin]) -> list[str | None]:
    return [p.name for p in found]


async def test_create_set_enable_use_disable_delete(
    docker: Docker, plugin_dir: Path, name: str, label: str
) -> None:
    await docker.plugins.create(plugin_dir, name=name)
    with pytest.raises(Conflict, match="already exists"):
        await docker.plugins.create(plugin_dir, name=name)

    plugin = await docker.plugins.inspect(name)
    assert plugin.name == name
    assert plugin.enabled is False
    assert plugin.id and len(plugin.id) == 64
    assert plugin.config is not None and plugin.config.interface is not None
    assert plugin.config.interface.types == [INTERFACE]
    assert plugin.config.interface.socket == SOCKET
    assert plugin.config.description == "aiodockerapi test plugin"
    assert plugin.settings is not None
    assert plugin.settings.env == ["GREETING=hello"]
    assert plugin.settings.args == ["one"]
    assert await docker.plugins.inspect(plugin.id) == plugin

    assert name in names_of(await docker.plugins.list())
    assert name in names_of(await docker.plugins.list(filters={"capability": "volumedriver"}))
    assert name not in names_of(await docker.plugins.list(filters={"capability": "authz"}))
    assert name not in names_of(await docker.plugins.list(filters={"enabled": "true"}))

    await docker.plugins.set(name, ["GREETING=bonjour", "args=two three"])
    settings = (await docker.plugins.inspect(name)).settings
    assert settings is not None
    assert settings.env == ["GREETING=bonjour"]
    assert settings.args == ["two", "three"]

    await docker.plugins.enable(name, timeout=10)
    assert (await docker.plugins.inspect(name)).enabled is True
    assert name in names_of(await docker.plugins.list(filters={"enabled": "true"}))

    # The daemon uses it: a volume of this driver reports the plugin process's settings.
    volume = f"aiodockerapi-plugin-{label}"
    created = await docker.volumes.create({"Name": volume, "Driver": name})
    try:
        assert created.driver == name
        status = (await docker.volumes.inspect(volume)).status
        assert status == {"plugin": {"greeting": "bonjour", "args": ["two", "three"]}}
    finally:
        await docker.volumes.delete(volume)

    with pytest.raises(ServerError, match="disable plugin before setting"):
        await docker.plugins.set(name, ["GREETING=no"])
    with pytest.raises(Conflict, match="is enabled"):
        await docker.plugins.delete(name)

    await docker.plugins.disable(name)
    assert (await docker.plugins.inspect(name)).enabled is False
    with pytest.raises(Conflict, match="already disabled"):
        await docker.plugins.disable(name)

    await docker.plugins.delete(name)
    with pytest.raises(NotFound):
        await docker.plugins.inspect(name)
    assert name not in names_of(await docker.plugins.list())


async def test_force_delete_of_an_enabled_plugin(
    docker: Docker, plugin_dir: Path, name: str
) -> None:
    await docker.plugins.create(plugin_dir, name=name)
    await docker.plugins.enable(name)
    await docker.plugins.delete(name, force=True)
    with pytest.raises(NotFound):
        await docker.plugins.inspect(name)


async def test_create_from_tar_bytes_file_and_async_iterable(
    docker: Docker, tmp_path: Path, label: str, plugins: list[str]
) -> None:
    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100_000):
            yield data[start : start + 100_000]

    sources: dict[str, Any] = {}
    for kind in ("bytes", "file", "path", "async"):
        data = tar_of(make_plugin(tmp_path / kind, description=f"from {kind}"))
        if kind == "bytes":
            sources[kind] = data
        elif kind == "file":
            sources[kind] = io.BytesIO(data)
        elif kind == "path":
            (tmp_path / "plugin.tar").write_bytes(data)
            sources[kind] = tmp_path / "plugin.tar"
        else:
            sources[kind] = chunks(data)
    for kind, source in sources.items():
        name = f"aiodockerapi-test/{kind}-{label}:latest"
        plugins.append(name)
        await docker.plugins.create(source, name=name)
        config = (await docker.plugins.inspect(name)).config
        assert config is not None and config.description == f"from {kind}"
        await docker.plugins.delete(name)


async def test_create_without_config_is_an_error(docker: Docker, tmp_path: Path, name: str) -> None:
    plugin = make_plugin(tmp_path / "plugin")
    (plugin / "config.json").unlink()
    with pytest.raises(ServerError, match="config not found"):
        await docker.plugins.create(plugin, name=name)
    with pytest.raises(NotFound):
        await docker.plugins.inspect(name)


async def test_unknown_plugin(docker: Docker, label: str) -> None:
    missing = f"aiodockerapi-test/missing-{label}"
    with pytest.raises(NotFound, match="not found"):
        await docker.plugins.inspect(missing)
    with pytest.raises(NotFound):
        await docker.plugins.enable(missing)
    with pytest.raises(NotFound):
        await docker.plugins.set(missing, ["A=b"])


async def test_push_privileges_pull_upgrade(
    docker: Docker,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
    label: str,
    plugins: list[str],
) -> None:
    v1 = registry.image(f"aiodockerapi/plugin-{label}:v1")
    v2 = registry.image(f"aiodockerapi/plugin-{label}:v2")
    local = f"aiodockerapi-test/pulled-{label}:latest"
    plugins.extend([v1, v2, local])
    creds = registry.credentials

    for ref, description in ((v1, "version 1"), (v2, "version 2")):
        await docker.plugins.create(
            make_plugin(tmp_path / ref[-2:], description=description), name=ref
        )
        if ref == v1:
            with pytest.raises(DockerStreamError, match="error pushing plugin"):
                async for _ in docker.plugins.push(ref, auth={}):
                    pass
        pushed = [m async for m in docker.plugins.push(ref, auth=creds)]
        aux = pushed[-1].aux
        assert aux is not None and aux.tag == ref[-2:]
        assert aux.digest is not None and aux.digest.startswith("sha256:")
        await docker.plugins.delete(ref)

    privileges = await docker.plugins.privileges(remote=v1, auth=creds)
    assert [(p.name, p.value) for p in privileges] == [
        ("network", ["none"]),
        *(("mount", [m["Source"]]) for m in _mounts()),
    ]

    with pytest.raises(DockerStreamError, match="incorrect privileges"):
        async for _ in docker.plugins.pull(remote=v1, name=local, auth=creds):
            pass
    with pytest.raises(NotFound):
        await docker.plugins.inspect(local)

    progress = [m async for m in docker.plugins.pull(privileges, remote=v1, name=local, auth=creds)]
    assert any(m.status and m.status.startswith("Digest: sha256:") for m in progress)
    pulled = await docker.plugins.inspect(local)
    assert pulled.name == local
    assert pulled.plugin_reference == v1
    assert pulled.enabled is False
    assert pulled.config is not None and pulled.config.description == "version 1"

    await docker.plugins.set(local, ["GREETING=kept"])
    new_privileges = await docker.plugins.privileges(remote=v2, auth=creds)
    async for _ in docker.plugins.upgrade(local, new_privileges, remote=v2, auth=creds):
        pass
    upgraded = await docker.plugins.inspect(local)
    assert upgraded.id == pulled.id
    assert upgraded.plugin_reference == v2
    assert upgraded.config is not None and upgraded.config.description == "version 2"
    assert upgraded.settings is not None and upgraded.settings.env == ["GREETING=kept"]

    await docker.plugins.enable(local)
    with pytest.raises(Conflict, match="must be disabled before upgrading"):
        async for _ in docker.plugins.upgrade(local, new_privileges, remote=v2, auth=creds):
            pass
    await docker.plugins.disable(local)
    await docker.plugins.delete(local)


async def test_pull_from_an_unreachable_registry(docker: Docker, label: str) -> None:
    remote = f"127.0.0.1:1/aiodockerapi/nothing-{label}"
    with pytest.raises(ServerError, match="connection refused"):
        async for _ in docker.plugins.pull(remote=remote, auth={}):
            pass
    # dockerd 20.10 swallows the error here: no plugin to read means no privileges.
    assert await docker.plugins.privileges(remote=remote, auth={}) == []


async def test_bad_arguments_fail_before_any_request() -> None:
    async with Docker("unix:///nonexistent/docker.sock") as docker:
        with pytest.raises(TypeError, match="list of 'key=value'"):
            await docker.plugins.set("p", "A=b")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'nothing'"):
            await docker.plugins.set("p", ["A=b", "nothing"])
        with pytest.raises(TypeError, match="privileges must be a list"):
            docker.plugins.pull({"Name": "network"}, remote="127.0.0.1:1/p")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="privileges must be a list"):
            docker.plugins.upgrade("p", "network", remote="127.0.0.1:1/p")
        with pytest.raises(ValueError, match="unknown registry credential"):
            docker.plugins.push("127.0.0.1:1/p", auth={"user": "me"})


# -- docker.session ------------------------------------------------------------------------


async def test_session_start_is_not_supported(docker: Docker) -> None:
    with pytest.raises(SessionNotSupported, match=r"docker\.images\.build") as caught:
        await docker.session.start()
    assert isinstance(caught.value, DockerError)
    assert isinstance(caught.value, NotImplementedError)


async def test_session_endpoint_needs_an_h2c_upgrade(docker: Docker) -> None:
    # Why start() sends nothing: a plain POST /session is refused; only an h2c upgrade
    # carrying BuildKit's gRPC services opens a session.
    with pytest.raises(BadRequest, match="no upgrade proto in request"):
        await docker.transport.call(ops.Session())
    with pytest.raises(BadRequest, match="protocol websocket not supported"):
        await docker.transport.call(
            ops.Session(), headers={"Connection": "Upgrade", "Upgrade": "websocket"}
        )
