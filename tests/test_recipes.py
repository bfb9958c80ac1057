"""The recipes (aiodockerapi/recipes.py) against the real daemon: containers.run, running,
wait_for_log, wait_healthy and images.ensure, with their cleanup on errors, timeouts and
cancellations."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from aiodockerapi import DockerError, DockerTimeoutError, HealthcheckError, NotFound
from aiodockerapi.client import Docker
from aiodockerapi.models import ContainerCreateBody, Frame, HostConfig, RunResult
from aiodockerapi.resources.container_runs import _BACKGROUND

from .conftest import container_config
from .sandbox import PodmanSandbox, Sandbox

pytestmark = pytest.mark.daemon

MS = 1_000_000  # nanoseconds, the unit of healthcheck durations


@pytest.fixture
async def labels(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's containers; whatever still carries them is removed afterwards."""
    yield {"aiodockerapi.test": label}
    for c in await mine(docker, label):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True)


async def mine(docker: Docker, label: str, **filters: str) -> list[Any]:
    """The test's containers, running or not."""
    return await docker.containers.list(
        all=True, filters={"label": f"aiodockerapi.test={label}", **filters}
    )


async def until_running(docker: Docker, label: str) -> str:
    """The id of the test's one container once it runs."""
    for _ in range(200):
        found = await mine(docker, label, status="running")
        if found:
            assert found[0].id is not None
            return found[0].id
        await asyncio.sleep(0.05)
    pytest.fail("the container never showed as running")


# --- run --------------------------------------------------------------------------------------


async def test_run_collects_output_and_removes(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    config = container_config(
        image, "sh", "-c", "echo out; echo err >&2; echo more; exit 3", Labels=labels
    )
    result = await docker.containers.run(config, name=f"run-{label}")
    assert isinstance(result, RunResult)
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"out\nmore\n", b"err\n")
    assert len(result.id) == 64
    assert await mine(docker, label) == []

    # A typed body, and remove=False keeps the exited container.
    body = ContainerCreateBody(
        image=image,
        cmd=["echo", "kept"],
        labels=labels,
        host_config=HostConfig(network_mode="none"),
    )
    kept = await docker.containers.run(body, remove=False)
    assert (kept.exit_code, kept.stdout, kept.stderr) == (0, b"kept\n", b"")
    info = await docker.containers.inspect(kept.id)
    assert info.state is not None and info.state.status == "exited"


async def test_run_tty_output_is_stdout(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    config = container_config(image, "sh", "-c", "echo out; echo err >&2", Tty=True, Labels=labels)
    result = await docker.containers.run(config)
    assert (result.stdout, result.stderr) == (b"out\r\nerr\r\n", b"")
    assert await mine(docker, label) == []


async def test_run_refuses_auto_remove_and_reports_create_errors(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    with pytest.raises(ValueError, match="AutoRemove"):
        await docker.containers.run(
            container_config(image, "true", Labels=labels, HostConfig={"AutoRemove": True})
        )
    with pytest.raises(NotFound):
        await docker.containers.run(
            container_config("aiodockerapi-test/no-such-image:1", "true", Labels=labels)
        )
    # A command that can't start: the start fails, and the created container goes too.
    with pytest.raises(DockerError, match="no-such-command"):
        await docker.containers.run(container_config(image, "/no-such-command", Labels=labels))
    assert await mine(docker, label) == []


async def test_run_cancelled_midway_kills_and_removes(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    # busybox sleep as PID 1 ignores SIGTERM: only a kill ends it promptly.
    config = container_config(image, "sleep", "600", Labels=labels)
    task = asyncio.create_task(docker.containers.run(config))
    await until_running(docker, label)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5  # killed, not stopped with a grace period
    assert await mine(docker, label) == []


async def test_run_in_a_cancel_scope_is_removed(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    # An anyio scope cancels again at every await, the cleanup's too unless it is shielded.
    with anyio.move_on_after(1) as scope:
        await docker.containers.run(container_config(image, "sleep", "600", Labels=labels))
    assert scope.cancelled_caught
    assert await mine(docker, label) == []


async def test_run_cancelled_during_create_leaves_nothing(
    docker: Docker,
    image: str,
    labels: dict[str, str],
    label: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_flight = 0
    create = docker.containers.create

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight
        in_flight += 1
        try:
            return await create(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(docker.containers, "create", counted)
    for _ in range(5):
        task = asyncio.create_task(
            docker.containers.run(container_config(image, "sleep", "600", Labels=labels))
        )
        await asyncio.sleep(0)  # the create request is on its way
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # The creates go on; what they made is removed in the background once they end.
    for _ in range(200):
        if not in_flight and not _BACKGROUND and not await mine(docker, label):
            break
        await asyncio.sleep(0.05)
    assert (in_flight, _BACKGROUND) == (0, set())
    assert await mine(docker, label) == []


async def test_run_timeout_kills_and_removes(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    config = container_config(image, "sh", "-c", "echo begun; sleep 600", Labels=labels)
    started = time.monotonic()
    with pytest.raises(DockerTimeoutError, match=r"did not finish within 1 s") as caught:
        await docker.containers.run(config, timeout=1)
    assert isinstance(caught.value, TimeoutError)
    assert time.monotonic() - started < 6
    assert await mine(docker, label) == []

    # remove=False: killed, but kept.
    with pytest.raises(TimeoutError):
        await docker.containers.run(config, remove=False, timeout=1)
    kept = await mine(docker, label)
    assert len(kept) == 1 and kept[0].id is not None
    info = await docker.containers.inspect(kept[0].id)
    assert info.state is not None and info.state.status == "exited"


# --- running ----------------------------------------------------------------------------------


async def test_running_stops_and_removes(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    config = container_config(image, "sleep", "600", Labels=labels)
    async with docker.containers.running(config, name=f"svc-{label}", stop_timeout=0) as cid:
        info = await docker.containers.inspect(cid)
        assert info.state is not None and info.state.running
        assert info.name == f"/svc-{label}"
    assert await mine(docker, label) == []

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with docker.containers.running(config, stop_timeout=0) as cid:
            raise Boom
    assert await mine(docker, label) == []

    # Leaving normally, with the container removed meanwhile, is no error.
    async with docker.containers.running(config) as cid:
        await docker.containers.delete(cid, force=True)
    # A container that fails to start is removed.
    with pytest.raises(DockerError, match="no-such-command"):
        async with docker.containers.running(
            container_config(image, "/no-such-command", Labels=labels)
        ):
            pytest.fail("started")
    assert await mine(docker, label) == []


async def test_running_cancelled_kills_and_removes(
    docker: Docker, image: str, labels: dict[str, str], label: str
) -> None:
    entered = asyncio.Event()

    async def hold() -> None:
        # No stop_timeout: a stop would take the default 10 s, a cancellation kills at once.
        async with docker.containers.running(
            container_config(image, "sleep", "600", Labels=labels)
        ):
            entered.set()
            await asyncio.sleep(600)

    task = asyncio.create_task(hold())
    await entered.wait()
    assert len(await mine(docker, label, status="running")) == 1
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5
    assert await mine(docker, label) == []

    with anyio.move_on_after(0.5):
        async with docker.containers.running(
            container_config(image, "sleep", "600", Labels=labels)
        ):
            await asyncio.sleep(600)
    assert await mine(docker, label) == []


# --- wait_for_log -----------------------------------------------------------------------------


async def test_wait_for_log_finds_lines(docker: Docker, image: str, labels: dict[str, str]) -> None:
    script = (
        "echo starting; printf 'half a '; sleep 0.3; echo 'line here'; "
        "echo 'listening on port 8080' >&2; sleep 600"
    )
    config = container_config(image, "sh", "-c", script, Labels=labels)
    async with docker.containers.running(config, stop_timeout=0) as cid:
        found = await docker.containers.wait_for_log(cid, "port 80", timeout=10)
        assert found == "listening on port 8080"
        # From the start of the logs again, each time; a line written in two parts is one.
        assert await docker.containers.wait_for_log(cid, "a line", timeout=10) == "half a line here"
        port = re.compile(r"port (\d+)$")
        line = await docker.containers.wait_for_log(cid, port, timeout=10)
        match = port.search(line)
        assert match is not None and match[1] == "8080"
        assert await docker.containers.wait_for_log(cid, b"start", timeout=10) == b"starting"
        regex = re.compile(rb"^s.*g$")
        assert await docker.containers.wait_for_log(cid, regex, timeout=10) == b"starting"
        # Only stdout: the stderr line never matches.
        with pytest.raises(DockerTimeoutError):
            await docker.containers.wait_for_log(cid, "port", timeout=1, stderr=False)
        with pytest.raises(ValueError):
            await docker.containers.wait_for_log(cid, "x", timeout=1, stdout=False, stderr=False)


async def test_wait_for_log_times_out_and_closes_its_stream(
    docker: Docker, image: str, labels: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[AsyncGenerator[Frame, None]] = []
    logs = docker.containers.logs

    def recording(*args: Any, **kwargs: Any) -> AsyncGenerator[Frame, None]:
        stream = logs(*args, **kwargs)
        opened.append(stream)
        return stream

    monkeypatch.setattr(docker.containers, "logs", recording)
    config = container_config(image, "sh", "-c", "echo not yet; sleep 600", Labels=labels)
    async with docker.containers.running(config, stop_timeout=0) as cid:
        started = time.monotonic()
        with pytest.raises(DockerTimeoutError, match=r"matched 'ready' within 0\.5 s") as caught:
            await docker.containers.wait_for_log(cid, "ready", timeout=0.5)
        assert isinstance(caught.value, TimeoutError)
        assert 0.5 <= time.monotonic() - started < 5
        assert len(opened) == 1 and opened[0].ag_frame is None  # closed
        assert await docker.containers.wait_for_log(cid, "not", timeout=5) == "not yet"
        assert len(opened) == 2 and opened[1].ag_frame is None


async def test_wait_for_log_on_a_container_that_ends(
    docker: Docker, image: str, labels: dict[str, str]
) -> None:
    config = container_config(image, "sh", "-c", "echo one; printf 'last, no newline'")
    config["Labels"] = labels
    created = await docker.containers.create(config)
    assert created.id is not None
    await docker.containers.start(created.id)
    await docker.containers.wait(created.id)
    assert await docker.containers.wait_for_log(created.id, "no newline", timeout=5) == (
        "last, no newline"
    )
    with pytest.raises(DockerError, match="ended with no line matching 'ready'") as caught:
        await docker.containers.wait_for_log(created.id, "ready", timeout=5)
    assert not isinstance(caught.value, TimeoutError)


# --- wait_healthy -----------------------------------------------------------------------------


@asynccontextmanager
async def checks_running(sandbox: Sandbox, cid: str) -> AsyncIterator[None]:
    """Healthchecks that run while the block does. dockerd runs them itself. Podman runs
    them from transient systemd timers (`systemd-run`), which need a running systemd that the
    test machine has not, so its checks never run and the health stays "starting": here
    `podman healthcheck run` (what those timers run) does it every 100 ms instead."""
    if not isinstance(sandbox, PodmanSandbox):
        yield
        return
    podman = shutil.which("podman", path=sandbox._env()["PATH"])
    assert podman is not None
    options = sandbox.dockerd_args()
    options = options[: options.index("system")]  # --root, --runroot... not the service

    async def check_again() -> None:
        while True:
            proc = await asyncio.create_subprocess_exec(
                podman,
                *options,
                "healthcheck",
                "run",
                cid,
                env=sandbox._env(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            await asyncio.sleep(0.1)

    task = asyncio.create_task(check_again())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def checked(image: str, labels: dict[str, str], test: list[str], **health: int) -> dict[str, Any]:
    """A long-running container with a healthcheck every 100 ms."""
    check = {"Test": test, "Interval": 100 * MS, "Timeout": 5000 * MS, "Retries": 1, **health}
    return container_config(image, "sleep", "600", Labels=labels, Healthcheck=check)


async def test_wait_healthy(
    docker: Docker, sandbox: Sandbox, image: str, labels: dict[str, str]
) -> None:
    config = checked(image, labels, ["CMD", "true"])
    async with docker.containers.running(config, stop_timeout=0) as cid:
        async with checks_running(sandbox, cid):
            info = await docker.containers.wait_healthy(cid, timeout=30, interval=0.1)
        assert info.id == cid
        assert info.state is not None and info.state.health is not None
        assert info.state.health.status == "healthy"


async def test_wait_healthy_unhealthy(
    docker: Docker, sandbox: Sandbox, image: str, labels: dict[str, str]
) -> None:
    config = checked(image, labels, ["CMD-SHELL", "echo not ready; exit 1"])
    async with docker.containers.running(config, stop_timeout=0) as cid:
        async with checks_running(sandbox, cid):
            with pytest.raises(HealthcheckError, match="is unhealthy") as caught:
                await docker.containers.wait_healthy(cid, timeout=30, interval=0.1)
    message = str(caught.value)
    assert "last check: exit code 1, output 'not ready'" in message, message
    state = caught.value.state
    assert state is not None and state.health is not None and state.health.log


async def test_wait_healthy_errors(docker: Docker, image: str, labels: dict[str, str]) -> None:
    # No healthcheck at all.
    plain = container_config(image, "sleep", "600", Labels=labels)
    async with docker.containers.running(plain, stop_timeout=0) as cid:
        with pytest.raises(ValueError, match="has no healthcheck"):
            await docker.containers.wait_healthy(cid, timeout=5)

    # Still starting when the time is up: the first check is an hour away.
    slow = checked(image, labels, ["CMD", "true"], Interval=3600 * 1000 * MS)
    async with docker.containers.running(slow, stop_timeout=0) as cid:
        with pytest.raises(DockerTimeoutError, match=r"not healthy within 0\.5 s") as timed_out:
            await docker.containers.wait_healthy(cid, timeout=0.5, interval=0.1)
        assert isinstance(timed_out.value, TimeoutError)

    # Exits while it waits.
    brief = checked(image, labels, ["CMD", "true"], Interval=3600 * 1000 * MS)
    brief["Cmd"] = ["sh", "-c", "sleep 0.5; exit 4"]
    async with docker.containers.running(brief, stop_timeout=0) as cid:
        with pytest.raises(HealthcheckError, match="exited with code 4 before it was healthy"):
            await docker.containers.wait_healthy(cid, timeout=30, interval=0.1)

    with pytest.raises(ValueError, match="interval"):
        await docker.containers.wait_healthy("whatever", timeout=1, interval=0)


# --- images.ensure ----------------------------------------------------------------------------


@pytest.fixture
def pulls(docker: Docker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The refs docker.images.pull is called with, from now on."""
    called: list[str] = []
    pull = docker.images.pull

    def counting(ref: str, **kwargs: Any) -> Any:
        called.append(ref)
        return pull(ref, **kwargs)

    monkeypatch.setattr(docker.images, "pull", counting)
    return called


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty DOCKER_CONFIG: credentials only come from where each test puts them."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))


async def test_ensure_a_local_image_pulls_nothing(
    docker: Docker, image: str, pulls: list[str]
) -> None:
    local = await docker.images.inspect(image)
    found = await docker.images.ensure(image)
    assert found.id == local.id
    assert pulls == []
