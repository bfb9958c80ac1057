"""Helpers of the BuildKit session tests: a context directory, builds bounded in time, ssh
agents made for a test, and a check that no session is left open."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiodockerapi import Docker
from aiodockerapi.buildkit import run_build
from aiodockerapi.buildkit.session.connection import Session

BUILD_TIMEOUT = 180


def new_context_dir(tmp_path: Path) -> Path:
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


async def build(docker: Docker, ctx: Path, **kwargs: object) -> str | None:
    """The image id (None for a build exported to the client)."""
    result = await asyncio.wait_for(
        run_build(
            docker.images.build(ctx, version="2", networkmode="none", nocache=True, **kwargs)  # type: ignore[arg-type]
        ),
        BUILD_TIMEOUT,
    )
    if "output" not in kwargs:
        assert result.image_id is not None
    return result.image_id


def copy_with_libs(binary: str, root: Path) -> None:
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


@contextmanager
def two_agents(tmp_path: Path) -> Iterator[tuple[Agent, Agent]]:
    """Two agents, holding a key with comment "key-one" and one with "key-two"."""
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


EXPORTED_SECRET = (
    f"FROM {TEST_IMAGE} AS build\n"
    "RUN --mount=type=secret,id=tok cat /run/secrets/tok > /out\n"
    "FROM scratch\n"
    "COPY --from=build /out /out\n"
)
