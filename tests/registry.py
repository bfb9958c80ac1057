"""A private Docker registry (Debian's docker-registry) on 127.0.0.1, with htpasswd auth.

Plain HTTP: the daemon counts 127.0.0.0/8 registries as insecure, so it speaks HTTP to them
(and sends basic auth over it) without any certificate. Everything the registry keeps (its
config, htpasswd file, storage and log) lives in one temp directory, removed afterwards.

Use it in a test module with ``from .registry import registry  # noqa: F401``.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aiodockerapi import Docker

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
USERNAME = "aiodockerapi"

# Runs of '?' and '>' make the base64 of any JSON holding the password contain both '/'
# and '+' in the standard alphabet ('_' and '-' in the URL-safe one), so a push only
# authenticates if the X-Registry-Auth header uses the alphabet the daemon decodes.
PASSWORD_PREFIX = "Pw-?????>>>>>-"

_CONFIG = """\
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: {secret}
auth:
  htpasswd:
    realm: aiodockerapi-test
    path: {htpasswd}
"""


class RegistryError(RuntimeError):
    """The test registry could not be started; the message ends with its log."""


@dataclass(frozen=True)
class Registry:
    """A running registry: its address as an image prefix and its one user's credentials."""

    host: str  # "127.0.0.1:PORT"
    username: str
    password: str
    root: Path

    @property
    def credentials(self) -> dict[str, str]:
        """The credentials as an auth mapping in the API's names."""
        return {"username": self.username, "password": self.password, "serveraddress": self.host}

    def image(self, name: str) -> str:
        """A reference to `name` on this registry."""
        return f"{self.host}/{name}"


async def containerd_image_store(docker: Docker) -> bool:
    """Whether the daemon keeps its images in containerd's image store (the
    containerd-snapshotter feature, the default of new Docker 29 installs) rather than the
    classic graph-driver store. Such a daemon reports the snapshotter as its driver type
    (DriverStatus [["driver-type", "io.containerd.snapshotter.v1"]]); a classic one lists
    its graph driver's details there, podman its own."""
    info = await docker.system.info()
    return any(
        len(pair) == 2
        and pair[0] == "driver-type"
        and pair[1].startswith("io.containerd.snapshotter")
        for pair in info.driver_status or []
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _status(port: int) -> int | None:
    """The status of GET /v2/ (401 once up, since auth is required), or None if no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/v2/")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _htpasswd(username: str, password: str) -> str:
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        raise RegistryError("htpasswd not found (apt-get install apache2-utils)")
    done = subprocess.run(
        [htpasswd, "-Bbn", username, password],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RegistryError(f"htpasswd failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode()


@contextlib.contextmanager
def running_registry(timeout: float = 30) -> Iterator[Registry]:
    """Start a registry on a free port, yield it, then stop it and delete its files."""
    if not REGISTRY_BINARY.exists():
        raise RegistryError(f"{REGISTRY_BINARY} is missing (apt-get install docker-registry)")
    root = Path(tempfile.mkdtemp(prefix="adk-registry-", dir="/tmp"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        password = PASSWORD_PREFIX + uuid.uuid4().hex[:12]
        port = _free_port()
        (root / "htpasswd").write_text(_htpasswd(USERNAME, password))
        (root / "config.yml").write_text(
            _CONFIG.format(
                storage=root / "storage",
                port=port,
                secret=uuid.uuid4().hex,
                htpasswd=root / "htpasswd",
            )
        )
        log_path = root / "registry.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(REGISTRY_BINARY), "serve", str(root / "config.yml")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while (status := _status(port)) != 401:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-4000:]
                why = (
                    f"exited with {proc.returncode}"
                    if proc.returncode is not None
                    else (f"did not answer GET /v2/ with 401 within {timeout:g} s (last: {status})")
                )
                raise RegistryError(f"docker-registry {why}\n--- its log ---\n{tail}")
            time.sleep(0.05)
        yield Registry(f"127.0.0.1:{port}", USERNAME, password, root)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """A private registry on 127.0.0.1 requiring USERNAME / its password (htpasswd)."""
    try:
        with running_registry() as reg:
            yield reg
    except RegistryError as exc:
        pytest.fail(f"the test registry could not start: {exc}", pytrace=False)
