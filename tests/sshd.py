"""A private sshd on 127.0.0.1 whose logins run the docker CLI against a given daemon."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SSHServer:
    port: int
    key: Path  # the client's private key
    known_hosts: Path
    log: Path

    def logins(self) -> int:
        """How many times a client logged in so far."""
        return self.log.read_text(errors="replace").count("Accepted publickey")

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    @property
    def options(self) -> list[str]:
        """What a client needs: our key, and the server's host key pinned."""
        return [
            "-i", str(self.key),
            "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
            "-F", "/dev/null",
        ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_sshd(docker_host: str) -> Iterator[SSHServer]:
    """sshd whose root logins (with a fresh key) get DOCKER_HOST=docker_host."""
    sshd = shutil.which("sshd", path="/usr/sbin:/usr/bin:/sbin")
    if sshd is None:
        raise RuntimeError("sshd not found: install Debian's openssh-server")
    root = Path(tempfile.mkdtemp(prefix="adk-sshd-"))
    proc = None
    try:
        port = _free_port()
        for name in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
                check=True,
            )
        public = (root / "client_key.pub").read_text().strip()
        (root / "authorized_keys").write_text(f'environment="DOCKER_HOST={docker_host}" {public}\n')
        host_public = (root / "host_key.pub").read_text().split()
        (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public[0]} {host_public[1]}\n")
        (root / "sshd_config").write_text(
            f"Port {port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {root / 'host_key'}\n"
            f"AuthorizedKeysFile {root / 'authorized_keys'}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitUserEnvironment yes\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "MaxSessions 10\n"
            "LogLevel VERBOSE\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        log = open(root / "sshd.log", "wb")
        with log:
            proc = subprocess.Popen(
                [sshd, "-D", "-e", "-f", str(root / "sshd_config")],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(root / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd did not listen within 20 s") from None
                time.sleep(0.05)
        yield SSHServer(port, root / "client_key", root / "known_hosts", root / "sshd.log")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)
