"""One rule for commands: Cmd, Entrypoint, Healthcheck.Test, exec commands and a service's
Command and Args are lists of strings; a string is a TypeError before any request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiodockerapi import Docker
from aiodockerapi.models import (
    ContainerCreateBody,
    ContainerExecBody,
    HealthConfig,
    ServiceSpec,
    TaskSpec,
    TaskSpecContainerSpec,
)
from aiodockerapi.testing import HTTPRequest, MockResponse, MockTransport

from .conftest import container_config

pytestmark = pytest.mark.asyncio

SHELL_HINT = 'write ["echo", "hi"], or ["sh", "-c", "echo hi"] for a shell'


def refuse(request: HTTPRequest) -> MockResponse:
    raise AssertionError(f"a request was sent: {request.method} {request.target}")


@pytest.fixture
async def mocked() -> AsyncIterator[tuple[Docker, MockTransport]]:
    transport = MockTransport(refuse)
    async with Docker(api_version="1.41", transport=transport) as docker:
        yield docker, transport


@pytest.mark.parametrize(
    "config",
    [
        {"Image": "busybox", "Cmd": "echo hi"},
        ContainerCreateBody(image="busybox", cmd="echo hi"),  # type: ignore[arg-type]
    ],
)
async def test_create_with_a_string_cmd(mocked: tuple[Docker, MockTransport], config: Any) -> None:
    docker, transport = mocked
    with pytest.raises(TypeError) as info:
        await docker.containers.create(config)
    assert str(info.value) == f"Cmd must be a list of strings, not a str: {SHELL_HINT}"
    assert transport.requests == []


async def test_create_with_a_string_entrypoint(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    with pytest.raises(TypeError, match=r"^Entrypoint must be a list of strings, not a str"):
        await docker.containers.create({"Image": "busybox", "Entrypoint": "/bin/sh -c"})
    assert transport.requests == []


async def test_create_with_a_string_healthcheck(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    config = ContainerCreateBody(
        image="busybox",
        healthcheck=HealthConfig(test="true"),  # type: ignore[arg-type]
    )
    with pytest.raises(TypeError) as info:
        await docker.containers.create(config)
    assert str(info.value) == (
        "Healthcheck.Test must be a list of strings, not a str: "
        'write ["CMD", "true"], or ["CMD-SHELL", "true"] for a shell'
    )
    assert transport.requests == []


async def test_create_with_a_non_string_argument(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings: item 1 is int 10$"):
        await docker.containers.create({"Image": "busybox", "Cmd": ["sleep", 10]})
    assert transport.requests == []


async def test_run_with_a_string_cmd(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings, not a str"):
        await docker.containers.run({"Image": "busybox", "Cmd": "echo hi"})
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings, not a str"):
        async with docker.containers.running({"Image": "busybox", "Cmd": "echo hi"}):
            pytest.fail("the block ran")
    assert transport.requests == []


async def test_exec_with_a_string_command(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    with pytest.raises(TypeError) as info:
        await docker.exec.run("box", "echo hi")  # type: ignore[arg-type]
    assert str(info.value) == f"cmd must be a list of strings, not a str: {SHELL_HINT}"
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings, not a str"):
        await docker.exec.create("box", {"Cmd": "echo hi"})
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings, not a str"):
        await docker.exec.create("box", ContainerExecBody(cmd="echo hi"))  # type: ignore[arg-type]
    assert transport.requests == []


async def test_service_with_a_string_command(mocked: tuple[Docker, MockTransport]) -> None:
    docker, transport = mocked
    spec = ServiceSpec(
        task_template=TaskSpec(
            container_spec=TaskSpecContainerSpec(image="busybox", args="sleep 60")  # type: ignore[arg-type]
        )
    )
    with pytest.raises(TypeError, match=r"^TaskTemplate.ContainerSpec.Args must be a list"):
        await docker.services.create(spec)
    mapping = {"TaskTemplate": {"ContainerSpec": {"Image": "busybox", "Command": "sleep 60"}}}
    with pytest.raises(TypeError, match=r"^TaskTemplate.ContainerSpec.Command must be a list"):
        await docker.services.update("svc", mapping, version=1)
    assert transport.requests == []


async def test_lists_pass(docker: Docker, image: str) -> None:
    """On the daemon: a list runs; a string is refused before the container exists."""
    before = {c.id for c in await docker.containers.list(all=True)}
    with pytest.raises(TypeError, match=r"^Cmd must be a list of strings, not a str"):
        await docker.containers.run({"Image": image, "Cmd": "echo hi"})
    assert {c.id for c in await docker.containers.list(all=True)} == before
    result = await docker.containers.run(container_config(image, "sh", "-c", "echo hi"))
    assert (result.exit_code, result.stdout) == (0, b"hi\n")
