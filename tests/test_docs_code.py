"""The docs are code: every Python block of README.md and docs/ type-checks with mypy --strict,
and the blocks marked `<!-- runnable -->` run against the sandbox daemon (tests/doccode.py)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker, NotFound

from . import doccode
from .conftest import container_config
from .sandbox import Sandbox

BLOCK_TIMEOUT = 120.0  # seconds; a build or a healthcheck wait is the slowest block
# The image name the guides use, given to the test image (nothing is pulled).
GUIDE_IMAGES = ("busybox:1.36",)

RUNNABLE_PAGES = sorted({b.page for b in doccode.all_blocks() if b.runnable})


def test_every_block_type_checks(tmp_path: Path) -> None:
    found = doccode.all_blocks()
    errors = doccode.signature_errors(found) + doccode.check(found, tmp_path)
    assert not errors, "\n".join(errors)


def test_blocks_are_found_and_classified() -> None:
    readme = doccode.blocks(doccode.ROOT / "README.md")
    assert readme[0].runnable and not readme[0].fragment  # a program: asyncio.run(main())
    assert any(b.fragment for b in readme)
    pages = {b.page for b in doccode.all_blocks()}
    assert {"docs/guide/networks.md", "docs/streams.md", "docs/reference.md"} <= pages
    # ```text, ```sh and ```pycon are not Python
    assert not any(b.source.startswith("$ ") for b in doccode.all_blocks())


def test_a_failing_block_names_its_page_and_line(tmp_path: Path) -> None:
    wrong = doccode.Block(
        "docs/x.md", 40, "n: int = await docker.system.ping()\nprint(cid + 1)\n", False
    )
    later = doccode.Block(
        "docs/x.md", 50, "print(made_later)\nmade_later = await docker.system.ping()\n", False
    )
    broken = doccode.Block("docs/y.md", 7, "import asyncio\ndef f(:\n", False)
    errors = doccode.check([wrong, later, broken], tmp_path)
    assert sorted({e.split(": ")[0] for e in errors}) == [
        "docs/x.md:40",  # a PingResponse is no int
        "docs/x.md:41",  # str + int
        "docs/x.md:50",  # used before the page binds it (mypy, and ruff's F821 for imports)
        "docs/y.md:8",  # a syntax error: the other blocks are still checked
    ], errors


def test_a_block_using_docker_without_awaiting_is_a_fragment() -> None:
    watch = "async def watch() -> None:\n    print(await docker.system.ping())\n"
    assert doccode.Block("docs/x.md", 1, watch, False).fragment
    program = "from aiodockerapi import Docker\n\ndocker = Docker()\n"
    assert not doccode.Block("docs/x.md", 1, program, False).fragment


def test_printed_literals_are_expectations() -> None:
    block = doccode.Block(
        "docs/x.md", 10, "print(a)  # 0 b'x\\n' None\nprint(b)  # 404 No such container\n", True
    )
    assert doccode.expected_prints(block) == {10: (0, b"x\n", None)}


@pytest.fixture(scope="session")
async def guide_images(sandbox: Sandbox, image: str) -> AsyncIterator[None]:
    """The test image with a /tmp, as busybox's own images have, under the names the guides
    use; removed at the end of the session."""
    dockerfile = f"FROM {image}\nRUN mkdir -m 1777 /tmp\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(dockerfile)
        tar.addfile(entry, io.BytesIO(dockerfile))
    async with Docker(sandbox.unix_url) as client:
        async for _ in client.images.build(context.getvalue(), t=list(GUIDE_IMAGES), pull=False):
            pass
    yield
    async with Docker(sandbox.unix_url) as client:
        for name in GUIDE_IMAGES:
            try:
                await client.images.delete(name, force=True)
            except NotFound:
                pass


@pytest.fixture
async def cid(docker: Docker, image: str) -> AsyncIterator[str]:
    """The preamble's `cid`: a running container of the test image."""
    box = await docker.containers.create(container_config(image, "sleep", "600"))
    await docker.containers.start(box.id)
    yield box.id
    await docker.containers.delete(box.id, force=True)


async def _objects(docker: Docker) -> set[str]:
    """Every container, image reference, network and volume of the daemon, named."""
    found = {f"container {c.id[:12]} {c.names}" for c in await docker.containers.list(all=True)}
    for img in await docker.images.list(all=True):
        refs = [t for t in img.repo_tags or [] if t != "<none>:<none>"]
        found |= {f"image {ref}" for ref in refs or [img.id]}
    found |= {f"network {n.name}" for n in await docker.networks.list()}
    volumes = await docker.volumes.list()
    found |= {f"volume {v.name}" for v in volumes.volumes or []}
    return found


async def _run_program(block: doccode.Block, sandbox: Sandbox) -> None:
    env = {**os.environ, "DOCKER_HOST": sandbox.unix_url}
    env.pop("DOCKER_CONTEXT", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        "import sys; from tests import doccode; doccode.run_program(sys.argv[1], int(sys.argv[2]))",
        block.page,
        str(block.line),
        cwd=doccode.ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(BLOCK_TIMEOUT):
            out, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"{block.where} exited with {proc.returncode}:\n{out.decode()}"


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
async def test_runnable_blocks_run(
    page: str, docker: Docker, sandbox: Sandbox, cid: str, guide_images: None
) -> None:
    """The page's runnable blocks, in order, leave the daemon as they found it."""
    before = await _objects(docker)
    printed: dict[int, tuple[object, ...]] = {}
    namespace: dict[str, Any] = {
        "__name__": "docs",
        "docker": docker,
        "cid": cid,
        "print": doccode.recorder(page, printed),
    }
    try:
        for block in doccode.blocks(doccode.ROOT / page):
            if not block.runnable:
                continue
            if not block.fragment:
                await _run_program(block, sandbox)
                continue
            async with asyncio.timeout(BLOCK_TIMEOUT):
                result = eval(block.code(), namespace)
                if asyncio.iscoroutine(result):
                    await result
            for line, values in doccode.expected_prints(block).items():
                got = printed.get(line)
                assert doccode.agrees(got, values), f"{page}:{line} printed {got}, not {values}"
    finally:
        left = await _objects(docker) - before
        await _remove(docker, left)
    assert not left, f"{page} leaves behind: {sorted(left)}"


async def _remove(docker: Docker, left: set[str]) -> None:
    for item in sorted(left):  # containers first, then images, networks, volumes
        kind, name = item.split(" ", 2)[:2]
        try:
            if kind == "container":
                await docker.containers.delete(name, force=True)
            elif kind == "image":
                await docker.images.delete(name, force=True)
            elif kind == "network":
                await docker.networks.delete(name)
            else:
                await docker.volumes.delete(name, force=True)
        except NotFound:
            pass
