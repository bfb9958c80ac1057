"""A private, throwaway dockerd for the test suite (the "sandbox").

Library use::

    with Sandbox() as sb:
        ...  # talk to sb.unix_url, or sb.tcp_url with sb.tls_files

Command line::

    python tests/sandbox.py run -- CMD ARGS...

runs CMD with DOCKER_HOST pointing at a fresh sandbox, then tears the sandbox down and exits
with CMD's status. `python tests/sandbox.py cleanup ROOT...` removes what is left of sandboxes
whose process died without stopping them (each Sandbox appends its root to the file named by
AIODOCKERAPI_SANDBOX_LEDGER, when that is set).

Needs root and Debian's docker.io (dockerd, containerd, runc). Stdlib only, plus trustme when
TLS is wanted. Every sandbox keeps all of its state under its own root directory and starts its
own managed containerd, so several can run side by side next to a system dockerd.

The daemon is the flavour named by AIODOCKERAPI_DAEMON (default 20.10, see FLAVOURS): Debian
12's dockerd, a newer dockerd unpacked by `bash scripts/dev daemons` into .daemons/VERSION/
(its bin/ goes first on PATH), optionally with DOCKER_MIN_API_VERSION or the containerd image
store, or podman's Docker-compatible `podman system service` (`Sandbox` is then a
`PodmanSandbox`). FLAVOUR, ENGINE, ENGINE_VERSION, API_VERSION and MIN_API_VERSION tell tests
which one runs.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType

__all__ = [
    "API_VERSION",
    "ENGINE",
    "ENGINE_VERSION",
    "FLAVOUR",
    "FLAVOURS",
    "MIN_API_VERSION",
    "PodmanSandbox",
    "Sandbox",
    "SandboxError",
    "TLSFiles",
    "unix_request",
]


@dataclass(frozen=True)
class _Flavour:
    engine: str  # "docker" or "podman"
    version: tuple[int, int]  # the engine's major.minor
    api: str  # the newest API version it speaks (GET /version ApiVersion)
    min_api: str  # the oldest it accepts (MinAPIVersion)
    fetched: str | None = None  # .daemons/<fetched>/bin holds the daemon (None: system-wide)
    env: tuple[tuple[str, str], ...] = ()  # extra daemon environment
    features: tuple[tuple[str, bool], ...] = ()  # daemon.json "features"


FLAVOURS: dict[str, _Flavour] = {
    "20.10": _Flavour("docker", (20, 10), "1.41", "1.12"),
    "26.1": _Flavour("docker", (26, 1), "1.45", "1.24", fetched="26.1"),
    "28.5": _Flavour("docker", (28, 5), "1.51", "1.24", fetched="28.5"),
    "28.5-floor": _Flavour(
        "docker", (28, 5), "1.51", "1.44", fetched="28.5", env=(("DOCKER_MIN_API_VERSION", "1.44"),)
    ),
    "28.5-containerd": _Flavour(
        "docker",
        (28, 5),
        "1.51",
        "1.24",
        fetched="28.5",
        features=(("containerd-snapshotter", True),),
    ),
    "podman": _Flavour("podman", (4, 3), "1.41", "1.24"),
}
#: The daemon flavour of this run: AIODOCKERAPI_DAEMON, default 20.10.
FLAVOUR: str = os.environ.get("AIODOCKERAPI_DAEMON") or "20.10"
if FLAVOUR not in FLAVOURS:
    raise ValueError(f"AIODOCKERAPI_DAEMON={FLAVOUR!r} is none of {', '.join(FLAVOURS)}")
#: "docker" or "podman".
ENGINE: str = FLAVOURS[FLAVOUR].engine
#: The daemon's (major, minor) version: (20, 10), (26, 1), (28, 5), or podman's (4, 3).
ENGINE_VERSION: tuple[int, int] = FLAVOURS[FLAVOUR].version
#: The newest API version the daemon speaks ("1.41", "1.45", "1.51"), and the oldest it takes.
API_VERSION: str = FLAVOURS[FLAVOUR].api
MIN_API_VERSION: str = FLAVOURS[FLAVOUR].min_api

_DAEMONS_DIR = Path(__file__).resolve().parent.parent / ".daemons"

# Longest unix socket path dockerd creates below its root (the managed containerd's).
_LONGEST_SOCKET = "exec/containerd/containerd.sock.ttrpc"
_MAX_SOCKET_PATH = 100
# Only processes whose name starts with one of these are killed as leftovers of a sandbox.
_DAEMON_NAMES = ("dockerd", "containerd", "runc", "docker-", "podman", "conmon", "crun")
_LOG_TAIL_LINES = 40
_LOG_HEAD_LINES = 5
_BUILTIN_NETWORKS = ("bridge", "host", "none", "podman")


class SandboxError(RuntimeError):
    """The sandbox dockerd could not be started; the message ends with the log tail."""


@dataclass
class TLSFiles:
    """PEM files of the sandbox's private CA; the client pair is named like DOCKER_CERT_PATH."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._unix_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def unix_request(
    socket_path: str | os.PathLike[str],
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """Make one HTTP request over a unix socket and return (status, body)."""
    conn = _UnixHTTPConnection(os.fspath(socket_path), timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


class Sandbox:
    """A dockerd with its own data, exec root, containerd, sockets and cgroup parent.

    root (a fresh /tmp/adk-* directory unless given) holds everything and is deleted by stop().
    With AIODOCKERAPI_DAEMON=podman, Sandbox(...) makes a PodmanSandbox instead.
    """

    def __new__(cls, *args: object, **kwargs: object) -> Sandbox:
        flavour = kwargs.get("flavour") or FLAVOUR
        if cls is Sandbox and FLAVOURS[str(flavour)].engine == "podman":
            cls = PodmanSandbox
        return super().__new__(cls)

    def __init__(
        self,
        *,
        tls: bool = True,
        root: Path | None = None,
        extra_args: Sequence[str] = (),
        flavour: str | None = None,
    ) -> None:
        if flavour is not None and flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {flavour!r}: one of {', '.join(FLAVOURS)}")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="adk-", dir="/tmp"))
        else:
            root = Path(root).absolute()
            _check_socket_room(root)
            root.mkdir(parents=True, exist_ok=True)
        self.root: Path = root
        if ledger := os.environ.get("AIODOCKERAPI_SANDBOX_LEDGER"):
            # .ci/run cleans up after a run that was killed (timeout, hang guard) with these
            with open(ledger, "a") as f:
                f.write(f"{root}\n")
        self.unix_socket: Path = root / "docker.sock"
        self.log_path: Path = root / "dockerd.log"
        self.extra_args: tuple[str, ...] = tuple(extra_args)
        self.tcp_port: int | None = None
        self.tls_files: TLSFiles | None = None
        digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        self._cgroup = f"adk-sandbox-{digest}"
        self.flavour: str = flavour or FLAVOUR
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._log_offset = 0  # where the latest launch's output starts in log_path
        if tls:
            try:
                self.tls_files = _write_tls_files(root / "tls")
                self.tcp_port = _free_port()
            except BaseException:
                shutil.rmtree(root, ignore_errors=True)
                raise

    @property
    def unix_url(self) -> str:
        return f"unix://{self.unix_socket}"

    @property
    def tcp_url(self) -> str | None:
        return None if self.tcp_port is None else f"tcp://127.0.0.1:{self.tcp_port}"

    @property
    def pid(self) -> int | None:
        """The dockerd process id, once started."""
        return None if self._proc is None else self._proc.pid

    def __repr__(self) -> str:
        return f"<Sandbox {self.unix_url} tcp={self.tcp_url}>"

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def dockerd_args(self) -> list[str]:
        """The dockerd command line (without the executable)."""
        r = self.root
        args = [
            f"--config-file={r / 'daemon.json'}",
            f"--data-root={r / 'data'}",
            f"--exec-root={r / 'exec'}",
            f"--pidfile={r / 'docker.pid'}",
            f"--host=unix://{self.unix_socket}",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--userland-proxy=false",
            f"--cgroup-parent=/{self._cgroup}",
        ]
        if self.tls_files is not None:
            t = self.tls_files
            args += [
                f"--host={self.tcp_url}",
                "--tlsverify",
                f"--tlscacert={t.ca}",
                f"--tlscert={t.server_cert}",
                f"--tlskey={t.server_key}",
            ]
        return args + list(self.extra_args)

    def start(self, timeout: float = 60) -> None:
        """Start dockerd and wait until GET /_ping answers OK on the unix socket."""
        if self._proc is not None or self._stopped:
            raise SandboxError("a Sandbox can only be started once")
        command = self._command()
        self._write_config()
        (self.root / "tmp").mkdir(exist_ok=True)
        self._launch(command)
        atexit.register(self.stop)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _command(self) -> list[str]:
        return [_dockerd(self.flavour), *self.dockerd_args()]

    def _write_config(self) -> None:
        flavour = FLAVOURS[self.flavour]
        # daemon.json keeps /etc/docker/daemon.json out; the key path keeps dockerd from
        # writing /etc/docker/key.json (a hidden, config-file-only setting in 20.10, gone
        # with the key itself since 23.0: newer daemons refuse the setting).
        config: dict[str, object] = {}
        if flavour.version < (23, 0):
            config["deprecated-key-path"] = str(self.root / "key.json")
        if flavour.features:
            config["features"] = dict(flavour.features)
        (self.root / "daemon.json").write_text(json.dumps(config) + "\n")

    def _env(self) -> dict[str, str]:
        return _daemon_env(self.root / "tmp", self.flavour)

    def restart(self, timeout: float = 60) -> None:
        """Stop dockerd gracefully and start it again on the same data, sockets and port."""
        self.terminate()
        self.relaunch(timeout)

    def terminate(self) -> None:
        """Stop dockerd gracefully, keeping everything for `relaunch`."""
        proc = self._proc
        if proc is None or self._stopped:
            raise SandboxError("only a started sandbox can be stopped and relaunched")
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def relaunch(self, timeout: float = 60, *, flavour: str | None = None) -> None:
        """Start dockerd again after `terminate`; with `flavour`, another release of it on
        the same data (an upgrade, say)."""
        if self._proc is None or self._proc.poll() is None or self._stopped:
            raise SandboxError("relaunch follows terminate")
        if flavour is not None:
            if FLAVOURS[flavour].engine != FLAVOURS[self.flavour].engine:
                raise SandboxError(f"cannot relaunch a {self.flavour} sandbox as {flavour}")
            self.flavour = flavour
            self._write_config()
        self._launch(self._command())
        self._wait_ready(timeout)

    def _launch(self, command: list[str]) -> None:
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self._env(),
                start_new_session=True,
            )

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            status = self._proc.poll()
            if status is not None:
                raise self._error(f"{self._name} exited with status {status} while starting")
            if self.ping(timeout=2):
                return
            if time.monotonic() > deadline:
                raise self._error(f"{self._name} did not answer /_ping within {timeout:g} s")
            time.sleep(0.05)

    @property
    def _name(self) -> str:
        return "dockerd"

    def ping(self, timeout: float = 2.0) -> bool:
        """True if GET /_ping on the unix socket answers 200 OK."""
        try:
            status, body = unix_request(self.unix_socket, "GET", "/_ping", timeout=timeout)
        except (OSError, http.client.HTTPException):
            return False
        return status == 200 and body == b"OK"

    def stop(self) -> None:
        """Stop dockerd and everything it started, unmount and delete root. Never raises."""
        if self._stopped:
            return
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                self._kill_containers()
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
        with contextlib.suppress(Exception):
            self._kill_leftovers()
        with contextlib.suppress(Exception):
            self._unmount_all()
        with contextlib.suppress(Exception):
            self._remove_cgroups()
        shutil.rmtree(self.root, ignore_errors=True)
        self._stopped = True
        atexit.unregister(self.stop)

    def leftovers(self) -> list[str]:
        """Describe whatever of this sandbox still runs, is mounted or exists on disk."""
        found = [f"process {pid}" for pid in sorted(self._leftover_pids())]
        found += [f"mount {mp}" for mp in _mounts_under(self.root)]
        found += [f"cgroup {d}" for d in self._cgroup_dirs()]
        if self.root.exists():
            found.append(f"directory {self.root}")
        return found

    # -- internals ----------------------------------------------------------------------------

    def _error(self, reason: str) -> SandboxError:
        return SandboxError(f"{reason}\n--- last lines of {self.log_path} ---\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                start = max(self._log_offset, size - 64 * 1024)
                f.seek(start)
                data = f.read()
                head = b""
                if start > self._log_offset:
                    f.seek(self._log_offset)
                    head = f.read(4096)
        except OSError as e:
            return f"(log unreadable: {e})"
        lines = data.decode("utf-8", "replace").splitlines()
        # Newer dockerds print a bad flag's error first, then 150 lines of usage: keep the
        # first lines of this launch's output too.
        if head:
            first = head.decode("utf-8", "replace").splitlines()[:_LOG_HEAD_LINES]
        elif len(lines) > _LOG_HEAD_LINES + _LOG_TAIL_LINES:
            first = lines[:_LOG_HEAD_LINES]
        else:
            return "\n".join(lines)
        return "\n".join([*first, "[...]", *lines[-_LOG_TAIL_LINES:]])

    def _kill_containers(self) -> None:
        # dockerd gives each running container its stop timeout (10 s) on shutdown; a throwaway
        # daemon has no reason to wait, so kill them first.
        status, body = unix_request(self.unix_socket, "GET", "/containers/json", timeout=3)
        if status != 200:
            return
        for c in json.loads(body):
            if c.get("State") == "paused":
                unix_request(self.unix_socket, "POST", f"/containers/{c['Id']}/unpause", timeout=5)
            unix_request(self.unix_socket, "POST", f"/containers/{c['Id']}/kill", timeout=5)
        # A bridge network left behind would leave its br-* interface on the host.
        status, body = unix_request(self.unix_socket, "GET", "/networks", timeout=3)
        if status == 200:
            for n in json.loads(body):
                if n.get("Name") not in _BUILTIN_NETWORKS and n.get("Scope") == "local":
                    unix_request(self.unix_socket, "DELETE", f"/networks/{n['Id']}", timeout=5)

    def _leftover_pids(self) -> set[int]:
        needle = (str(self.root) + "/").encode()
        pids: set[int] = set()
        children: dict[int, list[int]] = {}
        for pid, comm, cmdline, ppid in _processes():
            children.setdefault(ppid, []).append(pid)
            if needle in cmdline and comm.startswith(_DAEMON_NAMES):
                pids.add(pid)
        # and whatever they started (podman's containers live outside our cgroup)
        todo = list(pids)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in pids:
                    pids.add(child)
                    todo.append(child)
        for d in self._cgroup_dirs():
            for procs in d.rglob("cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    pids.update(int(x) for x in procs.read_text().split())
        pids.discard(os.getpid())
        return {p for p in pids if _alive(p)}

    def _kill_leftovers(self) -> None:
        deadline = time.monotonic() + 10
        while (pids := self._leftover_pids()) and time.monotonic() < deadline:
            self._thaw_cgroups()  # frozen (paused) processes ignore SIGKILL until thawed
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    def _unmount_all(self) -> None:
        for _ in range(5):
            mounts = _mounts_under(self.root)
            if not mounts:
                return
            for mp in sorted(mounts, key=lambda m: m.count("/"), reverse=True):
                subprocess.run(
                    ["umount", "-l", mp],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )

    def _cgroup_dirs(self) -> list[Path]:
        return [p for p in (Path(m) / self._cgroup for m in _cgroup_mounts()) if p.is_dir()]

    def _thaw_cgroups(self) -> None:
        for d in self._cgroup_dirs():
            for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                for f in d.rglob(name):
                    with contextlib.suppress(OSError):
                        f.write_text(value)

    def _remove_cgroups(self) -> None:
        for d in self._cgroup_dirs():
            for dirpath, _, _ in os.walk(d, topdown=False):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)


class PodmanSandbox(Sandbox):
    """`podman system service` on a private unix socket, serving the Docker-compatible API.

    Storage (--root), run root, tmpdir, lock files, network configs and the events log all
    live under root, with a private containers.conf (CONTAINERS_CONF). No TCP/TLS listener
    (tcp_url and tls_files stay None, whatever tls says). extra_args go before
    `system service`; dockerd's --debug becomes --log-level=info.
    """

    def __init__(
        self,
        *,
        tls: bool = True,
        root: Path | None = None,
        extra_args: Sequence[str] = (),
        flavour: str | None = None,
    ) -> None:
        self._container_ids: set[str] = set()
        super().__init__(tls=False, root=root, extra_args=extra_args, flavour=flavour)
        self.log_path = self.root / "podman.log"

    def __repr__(self) -> str:
        return f"<PodmanSandbox {self.unix_url}>"

    @property
    def _name(self) -> str:
        return "podman system service"

    def dockerd_args(self) -> list[str]:
        """The podman command line (without the executable)."""
        r = self.root
        args = [
            f"--root={r / 'storage'}",
            f"--runroot={r / 'run'}",
            f"--tmpdir={r / 'tmp'}",
            "--cgroup-manager=cgroupfs",
            "--events-backend=file",
        ]
        # Info level already logs each request (an access log line). Debug would also make
        # podman run each container's exit command with --syslog, which fails without
        # /dev/log: the container then never shows as exited and every wait takes 20 s.
        args += ["--log-level=info" if a == "--debug" else a for a in self.extra_args]
        return [*args, "system", "service", "--time=0", self.unix_url]

    def _command(self) -> list[str]:
        podman = shutil.which("podman", path=_search_path())
        if podman is None:
            raise SandboxError("podman not found (apt-get install podman)")
        return [podman, *self.dockerd_args()]

    def _write_config(self) -> None:
        r = self.root
        # Empty default_ulimits: podman's default nofile/nproc limits cannot be set here.
        # File locks, not the host-wide /dev/shm/libpod_lock, so sandboxes stay apart.
        (r / "containers.conf").write_text(
            "[containers]\n"
            "default_ulimits = []\n"
            "\n[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            'lock_type = "file"\n'
            f"events_logfile_path = {json.dumps(str(r / 'events.log'))}\n"
            f"tmp_dir = {json.dumps(str(r / 'tmp'))}\n"
            "\n[network]\n"
            f"network_config_dir = {json.dumps(str(r / 'net'))}\n"
        )
        (r / "net").mkdir(exist_ok=True)

    def _cgroup_dirs(self) -> list[Path]:
        # podman has no daemon-wide cgroup parent: its containers get
        # /libpod_parent/libpod-<id>, left behind when they are killed with the service.
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.root / "storage" / "overlay-containers"):
                if entry.is_dir() and len(entry.name) == 64:
                    self._container_ids.add(entry.name)
        return [
            d
            for m in _cgroup_mounts()
            for d in (Path(m) / "libpod_parent" / f"libpod-{i}" for i in self._container_ids)
            if d.is_dir()
        ]

    def _env(self) -> dict[str, str]:
        env = _daemon_env(self.root / "tmp")
        for k in [k for k in env if k.startswith(("CONTAINERS_", "XDG_"))]:
            del env[k]
        env["CONTAINERS_CONF"] = str(self.root / "containers.conf")
        return env


def _check_socket_room(root: Path) -> None:
    longest = len(str(root / _LONGEST_SOCKET))
    if longest >= _MAX_SOCKET_PATH:
        raise ValueError(
            f"sandbox root {root} is too long: unix socket paths under it would reach "
            f"{longest} characters (limit {_MAX_SOCKET_PATH})"
        )


def _flavour_bin(flavour: str = FLAVOUR) -> Path | None:
    """.daemons/VERSION/bin of a fetched flavour, None for the system-wide ones."""
    fetched = FLAVOURS[flavour].fetched
    return None if fetched is None else _DAEMONS_DIR / fetched / "bin"


def _dockerd(flavour: str = FLAVOUR) -> str:
    bin_dir = _flavour_bin(flavour)
    if bin_dir is not None:
        dockerd = bin_dir / "dockerd"
        if not os.access(dockerd, os.X_OK):
            raise SandboxError(
                f"{dockerd} is missing: run `bash scripts/dev daemons {flavour}` "
                f"(AIODOCKERAPI_DAEMON={flavour})"
            )
        return str(dockerd)
    found = shutil.which("dockerd", path=_search_path(flavour))
    if found is None:
        raise SandboxError("dockerd not found (apt-get install docker.io)")
    return found


def _search_path(flavour: str = FLAVOUR) -> str:
    """PATH plus the sbin directories, where Debian puts dockerd and runc; a fetched flavour's
    bin directory (its dockerd, containerd, shim, and Debian 12's runc and tini) first."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    bin_dir = _flavour_bin(flavour)
    if bin_dir is not None:
        parts.insert(0, str(bin_dir))
    for extra in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if extra not in parts:
            parts.append(extra)
    return os.pathsep.join(p for p in parts if p)


def _daemon_env(tmpdir: Path, flavour: str = FLAVOUR) -> dict[str, str]:
    # dockerd reads DOCKER_TLS_VERIFY / DOCKER_CERT_PATH as flag defaults; keep the caller's
    # client settings out of it.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DOCKER_") and k != "NOTIFY_SOCKET"
    }
    env["PATH"] = _search_path(flavour)
    env.update(FLAVOURS[flavour].env)
    # containerd writes containerd.<pid>.stacks.log to TMPDIR when dockerd kills it (which
    # dockerd 20.10 sometimes does right after starting it); keep those inside root.
    env["TMPDIR"] = str(tmpdir)
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_tls_files(directory: Path) -> TLSFiles:
    import trustme

    directory.mkdir(mode=0o700, exist_ok=True)
    ca = trustme.CA(organization_name="aiodockerapi sandbox")
    server = ca.issue_cert("127.0.0.1", "localhost", common_name="sandbox dockerd")
    client = ca.issue_cert("client.sandbox.invalid", common_name="sandbox client")
    files = TLSFiles(
        ca=directory / "ca.pem",
        server_cert=directory / "server-cert.pem",
        server_key=directory / "server-key.pem",
        client_cert=directory / "cert.pem",
        client_key=directory / "key.pem",
    )
    ca.cert_pem.write_to_path(files.ca)
    server.cert_chain_pems[0].write_to_path(files.server_cert)
    server.private_key_pem.write_to_path(files.server_key)
    client.cert_chain_pems[0].write_to_path(files.client_cert)
    client.private_key_pem.write_to_path(files.client_key)
    files.server_key.chmod(0o600)
    files.client_key.chmod(0o600)
    return files


def _processes() -> Iterator[tuple[int, str, bytes, int]]:
    """(pid, comm, raw cmdline, parent pid) of every process we can see."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            comm = Path(entry.path, "comm").read_text().strip()
            cmdline = Path(entry.path, "cmdline").read_bytes()
            stat = Path(entry.path, "stat").read_text()
            ppid = int(stat.rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        yield int(entry.name), comm, cmdline, ppid


def _alive(pid: int) -> bool:
    """True unless the process is gone or a zombie (init on this VM reaps orphans lazily)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def _unescape_mountinfo(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mountinfo() -> Iterator[tuple[str, str]]:
    """(mount point, filesystem type) for every mount in our namespace."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields = pre.split()
            if len(fields) >= 5 and post:
                yield _unescape_mountinfo(fields[4]), post.split()[0]


def _mounts_under(root: Path) -> list[str]:
    prefixes = {str(root), os.path.realpath(root)}
    return [
        mp for mp, _ in _mountinfo() if any(mp == p or mp.startswith(p + "/") for p in prefixes)
    ]


def _cgroup_mounts() -> list[str]:
    return sorted({mp for mp, fstype in _mountinfo() if fstype in ("cgroup", "cgroup2")})


# -- command line ---------------------------------------------------------------------------------


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _tty_delivers_sigint() -> bool:
    """True if we are the terminal's foreground group, so Ctrl-C also reached our child."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def _run(cmd: Sequence[str], *, grace: float = 10.0) -> int:
    received: list[int] = []
    child: subprocess.Popen[bytes] | None = None
    starting = True

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if starting:
            raise _Interrupted(signum)
        if child is not None and child.poll() is None:
            if signum != signal.SIGINT or not _tty_delivers_sigint():
                child.send_signal(signum)

    sandbox = Sandbox(tls=False)
    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in caught}
    try:
        try:
            sandbox.start()
        except _Interrupted as e:
            return 128 + e.signum
        except SandboxError as e:
            print(f"sandbox: {e}", file=sys.stderr)
            return 125
        env = dict(os.environ)
        for k in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(k, None)
        env["DOCKER_HOST"] = sandbox.unix_url
        try:
            child = subprocess.Popen(list(cmd), env=env)
        except OSError as e:
            print(f"sandbox: cannot run {cmd[0]!r}: {e}", file=sys.stderr)
            return 127
        finally:
            starting = False
        if received:
            child.send_signal(received[0])
        signalled_at: float | None = None
        while True:
            try:
                status = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if received and signalled_at is None:
                    signalled_at = time.monotonic()
                if signalled_at is not None and time.monotonic() - signalled_at > grace:
                    child.kill()
        return 128 - status if status < 0 else status
    finally:
        starting = False
        sandbox.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sandbox.py", description="Private throwaway dockerd for tests and demos."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="start a sandbox, run CMD with DOCKER_HOST set, stop the sandbox",
        usage="sandbox.py run -- CMD [ARGS...]",
    )
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    clean = sub.add_parser(
        "cleanup",
        help="stop and remove whatever is left of the sandboxes at ROOT... (processes, mounts, "
        "cgroups, the directory), e.g. after their test run was killed",
    )
    clean.add_argument("roots", nargs="*", metavar="ROOT")
    args = parser.parse_args(argv)
    if args.command == "cleanup":
        for root in args.roots:
            if Path(root).is_dir():
                Sandbox(tls=False, root=Path(root)).stop()
        return 0
    cmd: list[str] = args.cmd
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        run.error("a command is needed after --")
    return _run(cmd)


if __name__ == "__main__":
    sys.exit(main())
