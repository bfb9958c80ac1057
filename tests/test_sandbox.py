"""Tests for the private dockerd sandbox (tests/sandbox.py) itself."""

from __future__ import annotations

import http.client
import io
import json
import ssl
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.sandbox import Sandbox, SandboxError, unix_request

BUSYBOX = Path("/bin/busybox")

pytestmark = pytest.mark.daemon


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Sandbox, Sandbox]]:
    """Two sandboxes running at the same time, one with a TLS listener."""
    a, b = Sandbox(tls=True), Sandbox(tls=False)
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Sandbox.start, (a, b)))
        yield a, b
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Sandbox.stop, (a, b)))


def _tls_ping(sb: Sandbox, ctx: ssl.SSLContext) -> tuple[int, bytes]:
    assert sb.tcp_port is not None
    conn = http.client.HTTPSConnection("127.0.0.1", sb.tcp_port, context=ctx, timeout=5)
    try:
        conn.request("GET", "/_ping")
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _busybox_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
    return buf.getvalue()


def _api(sb: Sandbox, method: str, path: str, payload: object = None) -> object:
    body = None if payload is None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    status, data = unix_request(sb.unix_socket, method, path, body=body, headers=headers)
    assert status < 300, (status, data)
    return json.loads(data) if data.strip() else None


def test_side_by_side_unix_ping(pair: tuple[Sandbox, Sandbox]) -> None:
    a, b = pair
    assert a.root != b.root and a.unix_url != b.unix_url
    assert a.unix_url == f"unix://{a.unix_socket}" and a.unix_url.startswith("unix:///")
    assert b.tcp_url is None and b.tls_files is None
    for sb in pair:
        assert unix_request(sb.unix_socket, "GET", "/_ping") == (200, b"OK")
    infos = [_api(sb, "GET", "/info") for sb in pair]
    ids = {info["ID"] for info in infos if isinstance(info, dict)}
    assert len(ids) == 2


def test_tls_with_client_cert(pair: tuple[Sandbox, Sandbox]) -> None:
    a, _ = pair
    assert a.tls_files is not None and a.tcp_url == f"tcp://127.0.0.1:{a.tcp_port}"
    ctx = ssl.create_default_context(cafile=str(a.tls_files.ca))
    ctx.load_cert_chain(a.tls_files.client_cert, a.tls_files.client_key)
    assert _tls_ping(a, ctx) == (200, b"OK")


def test_tls_without_client_cert_is_refused(pair: tuple[Sandbox, Sandbox]) -> None:
    a, _ = pair
    assert a.tls_files is not None
    ctx = ssl.create_default_context(cafile=str(a.tls_files.ca))
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        _tls_ping(a, ctx)


def test_stop_leaves_nothing_behind(pair: tuple[Sandbox, Sandbox]) -> None:
    if not BUSYBOX.exists():
        pytest.skip("needs busybox-static")
    sb = Sandbox()
    sb.start()
    try:
        status, _ = unix_request(
            sb.unix_socket,
            "POST",
            "/images/create?fromSrc=-&repo=adk-busybox&tag=latest",
            body=_busybox_tar(),
            headers={"Content-Type": "application/x-tar"},
        )
        assert status == 200
        spec = {
            "Image": "adk-busybox:latest",
            "Cmd": ["/bin/busybox", "sleep", "300"],
            "HostConfig": {"NetworkMode": "none"},
        }
        created = _api(sb, "POST", "/containers/create", spec)
        assert isinstance(created, dict)
        _api(sb, "POST", f"/containers/{created['Id']}/start")
        running = _api(sb, "GET", "/containers/json")
        assert isinstance(running, list) and len(running) == 1
        assert sb.leftovers()  # daemon, containerd, shim, container, mounts, cgroup, dir
    finally:
        sb.stop()
    assert sb.leftovers() == []
    assert sb.pid is not None and not Path(f"/proc/{sb.pid}").exists()
    mountinfo = Path("/proc/self/mountinfo").read_text()
    assert str(sb.root) not in mountinfo
    sb.stop()  # idempotent
    # the other sandboxes were not disturbed
    for other in pair:
        assert other.ping()


def test_unstarted_stop_and_failed_start_clean_up() -> None:
    idle = Sandbox()
    assert idle.root.is_dir()
    idle.stop()
    assert not idle.root.exists()

    broken = Sandbox(tls=False, extra_args=["--no-such-flag"])
    with pytest.raises(SandboxError, match="no-such-flag"):
        broken.start()
    assert broken.leftovers() == []
    broken.stop()


def test_root_too_long_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too long"):
        Sandbox(tls=False, root=tmp_path / ("x" * 80))
