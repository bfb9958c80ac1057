"""BuildKit sessions (aiodockerapi.buildkit.session): secrets, ssh forwarding, registry
credentials, and the session's life around a build, against the real daemons."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aiodockerapi import Docker
from aiodockerapi.buildkit import run_build

from .sandbox import ENGINE

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit session"),
]


@pytest.fixture
def context_dir(tmp_path: Path, image: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    return ctx


def dockerfile(ctx: Path, *lines: str) -> Path:
    (ctx / "Dockerfile").write_text(
        "\n".join(["FROM aiodockerapi-test/busybox:latest", *lines]) + "\n"
    )
    return ctx


async def test_secret_reaches_run_step(docker: Docker, context_dir: Path) -> None:
    dockerfile(
        context_dir,
        'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = hunter2',
    )
    result = await asyncio.wait_for(
        run_build(
            docker.images.build(
                context_dir,
                version="2",
                networkmode="none",
                nocache=True,
                secrets={"tok": "hunter2"},
            )
        ),
        120,
    )
    assert result.image_id is not None
