"""`aiodockerapi service ...`, run as a subprocess against a single-node swarm of its own."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker

from .conftest import TEST_IMAGE, running_sandbox
from .sandbox import Sandbox
from .swarm_fixtures import eventually, free_port, swarm_daemon
from .test_cli import assert_one_line_error, cli

pytestmark = pytest.mark.daemon


@pytest.fixture(scope="module")
async def swarm(busybox_context: Path) -> AsyncIterator[tuple[Sandbox, str]]:
    """A daemon of its own made a swarm manager, and the test image's id on it."""
    with running_sandbox() as box:
        async with Docker(box.unix_url) as docker:
            async for _ in docker.images.build(busybox_context, t=TEST_IMAGE, pull=False):
                pass
            image = (await docker.images.inspect(TEST_IMAGE)).id
            assert image is not None
            init = {"ListenAddr": f"127.0.0.1:{free_port()}", "AdvertiseAddr": "127.0.0.1"}
            async with swarm_daemon(docker, init):
                yield box, image


async def envs(box: Sandbox, name: str) -> list[list[str]]:
    async with Docker(box.unix_url) as docker:
        tasks = await docker.tasks.list(filters={"service": name, "desired-state": "running"})
    return [
        t.spec.container_spec.env or []
        for t in tasks
        if t.spec and t.spec.container_spec and t.status and t.status.state == "running"
    ]


async def test_service_create_update_fail_rollback_ls_ps_logs(
    swarm: tuple[Sandbox, str], label: str, tmp_path: Path
) -> None:
    box, image = swarm
    host = ("-H", box.unix_url)
    name = f"cli-{label}"
    try:
        done = await cli(
            *host,
            *("service", "create", "--name", name, "--replicas", "2", "-e", "V=1"),
            *("-l", f"aiodockerapi.test={label}", "--stop-grace-period", "0.1"),
            *("--update-monitor", "0.5", "--update-failure-action", "pause", "--timeout", "60"),
            *(image, "sh", "-c", f"echo hello-{label}; exec sleep 600"),
        )
        assert done.status == 0, done
        lines = done.out.splitlines()
        assert re.fullmatch(r"[a-z0-9]{25}", lines[0])
        assert re.search(r"^1/2: running +\[=+\]$", done.out, re.M), done.out
        assert re.search(r"^2/2: running +\[=+\]$", done.out, re.M), done.out
        assert lines[-1] == "verify: Service converged"

        done = await cli(*host, "service", "update", name, "--env-add", "V=2", "--timeout", "60")
        assert done.status == 0 and done.out.endswith("verify: Service converged\n"), done
        assert await envs(box, name) == [["V=2"]] * 2

        done = await cli(*host, "service", "update", name, "--args", "-c 'exit 3'")
        assert_one_line_error(done, 1, "update paused", "non-zero exit (3)")

        done = await cli(*host, "service", "rollback", name, "--timeout", "60")
        assert done.status == 0 and done.out.endswith("verify: Service converged\n"), done
        assert await envs(box, name) == [["V=2"]] * 2  # the spec before the failed update

        done = await cli(*host, "service", "ls")
        assert done.status == 0
        [row] = [line.split() for line in done.out.splitlines() if name in line]
        assert row[1:4] == [name, "replicated", "2/2"]

        done = await cli(*host, "service", "ps", name)
        running = [line for line in done.out.splitlines() if " running " in line]
        assert {line.split()[1] for line in running} == {f"{name}.1", f"{name}.2"}

        async def logged() -> bool:
            done = await cli(*host, "service", "logs", name)
            return done.out.count(f"hello-{label}") >= 2

        await eventually(logged, what="both tasks' output in the service's logs")

        # Several hosts: a swarm's managers; the dead one is skipped.
        dead = f"unix://{tmp_path / 'nobody.sock'}"
        done = await cli("-H", dead, *host, "service", "ps", name)
        assert done.status == 0 and f"{name}.1" in done.out, done
        done = await cli(*host, "service", "create", "-d", "--mode", "global", image, "true")
        assert done.status == 0 and re.fullmatch(r"[a-z0-9]{25}\n", done.out), done
    finally:
        async with Docker(box.unix_url) as docker:
            for service in await docker.services.list():
                assert service.id is not None
                await docker.services.delete(service.id)


async def test_service_bad_flags_are_usage_errors(swarm: tuple[Sandbox, str]) -> None:
    box, image = swarm
    done = await cli(
        "-H", box.unix_url, "service", "create", "--mode", "global", "--replicas", "2", image
    )
    assert_one_line_error(done, 2, "--replicas is for a replicated service")
    done = await asyncio.wait_for(cli("service", "scale"), 60)
    assert done.status == 125 and "invalid choice" in done.err
