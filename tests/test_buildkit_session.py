"""BuildKit sessions (aiodockerapi.buildkit.session): secrets, ssh forwarding, registry
credentials, and the session's life around a build, against the real daemons."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodockerapi import Docker
from aiodockerapi.buildkit import BuildFailed, run_build
from aiodockerapi.buildkit.session.connection import Session

from .sandbox import ENGINE

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit session"),
]

BUILD_TIMEOUT = 180


@pytest.fixture
def context_dir(tmp_path: Path, image: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    return ctx


def dockerfile(ctx: Path, *lines: str) -> Path:
    (ctx / "Dockerfile").write_text("\n".join([f"FROM {TEST_IMAGE}", *lines]) + "\n")
    return ctx


TEST_IMAGE = "aiodockerapi-test/busybox:latest"


def sessions_open() -> list[Session]:
    """Sessions still open anywhere in the process."""
    return [o for o in gc.get_objects() if isinstance(o, Session) and not o.closed]


async def build(docker: Docker, ctx: Path, **kwargs: object) -> str:
    result = await asyncio.wait_for(
        run_build(
            docker.images.build(ctx, version="2", networkmode="none", nocache=True, **kwargs)  # type: ignore[arg-type]
        ),
        BUILD_TIMEOUT,
    )
    assert result.image_id is not None
    return result.image_id


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


async def test_missing_secret_names_it(docker: Docker, context_dir: Path) -> None:
    dockerfile(context_dir, "RUN --mount=type=secret,id=nope,required=true cat /run/secrets/nope")
    with pytest.raises(BuildFailed) as raised:
        await build(docker, context_dir, secrets={"other": "x"})
    assert "nope" in str(raised.value)
    assert "not found" in str(raised.value)
    assert sessions_open() == []


async def test_secret_file_missing_is_refused_before_the_build(
    docker: Docker, context_dir: Path, tmp_path: Path
) -> None:
    dockerfile(context_dir, "RUN true")
    with pytest.raises(ValueError, match="secret 'tok': .*gone.txt is not a readable file"):
        await build(docker, context_dir, secrets={"tok": tmp_path / "gone.txt"})
    assert sessions_open() == []


# --- ssh forwarding --------------------------------------------------------------------------


def _copy_with_libs(binary: str, root: Path) -> None:
    """`binary` and the shared libraries it loads, at their paths under `root`."""
    done = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    paths = [binary]
    for line in done.stdout.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            paths.append(path)
    for path in paths:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.realpath(path), target)


class Agent:
    """A throwaway ssh-agent holding one generated key with `comment`."""

    def __init__(self, where: Path, comment: str) -> None:
        where.mkdir()
        self.socket = where / "agent.sock"
        self.process = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(self.socket)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("ssh-agent did not start")
            time.sleep(0.02)
        key = where / "key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
            check=True,
        )
        env = {**os.environ, "SSH_AUTH_SOCK": str(self.socket)}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[tuple[Agent, Agent]]:
    one = Agent(tmp_path / "agent-one", "key-one")
    try:
        two = Agent(tmp_path / "agent-two", "key-two")
    except BaseException:
        one.close()
        raise
    try:
        yield one, two
    finally:
        one.close()
        two.close()


async def test_ssh_agents_are_forwarded(
    docker: Docker,
    context_dir: Path,
    agents: tuple[Agent, Agent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two agents by id ("default" from $SSH_AUTH_SOCK, "two" by path): `ssh-add -l` in a step
    lists the key of the agent its mount names, and only that one."""
    one, two = agents
    _copy_with_libs("/usr/bin/ssh-add", context_dir / "root")
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
    with pytest.raises(ValueError, match="ssh 'default': .*nothing.sock is not a unix socket"):
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
