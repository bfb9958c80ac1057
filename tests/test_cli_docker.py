"""The aiodockerapi command side by side with the docker CLI, on the same sandbox daemon:
the same command must print the same thing (ids and times masked) and exit the same way."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker

from .conftest import container_config
from .sandbox import ENGINE, Sandbox
from .test_cli import LABEL, ROOT, Done, cli, cli_env, finish

pytestmark = pytest.mark.daemon

AGO = re.compile(
    r"(Less than a second|About an? \w+|\d+ \w+) ago|Up (Less than a second|About an? \w+|\d+ \w+)"
)


@pytest.fixture
def host(sandbox: Sandbox) -> str:
    return sandbox.unix_url


@pytest.fixture
async def labels(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's containers; whatever carries them is removed afterwards."""
    yield {LABEL: label}
    for c in await docker.containers.list(all=True, filters={"label": f"{LABEL}={label}"}):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True, v=True)


@pytest.fixture(scope="module")
def docker_cli() -> str:
    """The docker client (Debian's docker.io, which the sandbox needs anyway)."""
    found = shutil.which("docker")
    if found is None:
        pytest.fail("the docker client is not installed (apt-get install docker.io)")
    return found


async def side_by_side(docker_cli: str, host: str, tmp_path: Path, *args: str) -> tuple[Done, Done]:
    """`docker -H host ARGS` and `aiodockerapi -H host ARGS`, both to the end."""
    env = cli_env(DOCKER_CONFIG=str(tmp_path / "docker-config"))
    proc = await asyncio.create_subprocess_exec(
        docker_cli, "-H", host, *args,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT, env=env,
    )  # fmt: skip
    theirs = await finish(proc)
    ours = await cli("-H", host, *args, env=env)
    return theirs, ours


def masked(text: str) -> str:
    """Times replaced, and a table's column gaps made one width (a time's width varies).
    An image's container count too: dockerd 28 counts them at API 1.51 (ours), not at 1.50
    (the docker client's)."""
    text = re.sub(r'"Containers":"(N/A|\d+)"', '"Containers":"?"', text)
    return re.sub(r" {2,}", "  ", AGO.sub("<time>", text))


async def assert_same(docker_cli: str, host: str, tmp_path: Path, *args: str) -> str:
    theirs, ours = await side_by_side(docker_cli, host, tmp_path, *args)
    assert theirs.status == 0, theirs
    assert (ours.status, masked(ours.out)) == (0, masked(theirs.out)), (args, ours.err)
    return ours.out


@pytest.fixture
async def two(docker: Docker, image: str, labels: dict[str, str]) -> AsyncIterator[list[str]]:
    """A running container (labels, an anonymous volume) and a created one; their names."""
    label = labels[LABEL]
    running = await docker.containers.create(
        container_config(
            image, "sleep", "600", Labels={**labels, "app": "web"}, Volumes={"/data": {}}
        ),
        name=f"cli-web-{label}",
    )
    assert running.id is not None
    await docker.containers.start(running.id)
    await docker.containers.create(
        container_config(image, "sh", "-c", "echo a long command line here", Labels=labels),
        name=f"cli-new-{label}",
    )
    yield [f"cli-web-{label}", f"cli-new-{label}"]


@pytest.mark.parametrize(
    "fmt",
    [
        "json",
        "table",
        "table {{.ID}}\t{{.Names}}",
        '{{.Names}}|{{.Label "app"}}|{{.Mounts}}|{{.LocalVolumes}}|{{.State}}|{{.Networks}}',
        "{{.Command}} {{.Image}} {{.Ports}} {{.Size}} {{.CreatedAt}}",
        '{{json .Labels}} {{.Names | upper}} {{join (split .Labels ",") ";"}} {{json .}}',
        "table {{.Names}}\t{{.Status}}\t{{.Label `app`}}",
    ],
)
async def test_ps_format_as_docker(
    docker_cli: str, host: str, tmp_path: Path, two: list[str], labels: dict[str, str], fmt: str
) -> None:
    wanted = f"label={LABEL}={labels[LABEL]}"
    out = await assert_same(docker_cli, host, tmp_path, "ps", "-a", "-f", wanted, "--format", fmt)
    assert len(out.splitlines()) == (3 if fmt.startswith("table") else 2)


async def test_ps_columns_as_docker(
    docker_cli: str, host: str, tmp_path: Path, two: list[str], labels: dict[str, str]
) -> None:
    wanted = f"label={LABEL}={labels[LABEL]}"
    await assert_same(docker_cli, host, tmp_path, "ps", "-a", "-f", wanted)
    await assert_same(docker_cli, host, tmp_path, "ps", "-s", "-f", wanted)
    await assert_same(docker_cli, host, tmp_path, "ps", "-a", "--no-trunc", "-f", wanted)
    await assert_same(docker_cli, host, tmp_path, "container", "ls", "-aq", "-f", wanted)


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json"],
        [],
        ["--digests"],
        ["--no-trunc"],
        ["--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.Digest}}"],
        ["--format", "table {{.Repository}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.VirtualSize}}"],
    ],
)
async def test_images_as_docker(
    docker_cli: str, host: str, tmp_path: Path, image: str, args: list[str]
) -> None:
    out = await assert_same(docker_cli, host, tmp_path, "images", image, *args)
    assert image.partition(":")[0] in out


async def test_version_and_info_as_docker(docker_cli: str, host: str, tmp_path: Path) -> None:
    for fmt in ("{{.Server.APIVersion}}", "{{.Server.Version}} {{.Server.Os}}/{{.Server.Arch}}"):
        await assert_same(docker_cli, host, tmp_path, "version", "--format", fmt)
    fields = "{{.ServerVersion}} {{.NCPU}} {{.MemTotal}} {{.Driver}} {{json .Plugins}} {{.ID}}"
    await assert_same(docker_cli, host, tmp_path, "info", "--format", fields)

    theirs, ours = await side_by_side(docker_cli, host, tmp_path, "info", "--format", "{{json .}}")
    assert set(json.loads(theirs.out)) <= set(json.loads(ours.out))

    theirs, ours = await side_by_side(docker_cli, host, tmp_path, "info")
    same = ("Total Memory:", "Debug Mode:", "Storage Driver:", "Kernel Version:", "CPUs:",
            "Cgroup Driver:", "Server Version:", "Live Restore Enabled:", "Containers:",
            "Images:", "Default Runtime:")  # fmt: skip
    server = theirs.out.split("\nServer:\n", 1)[1].splitlines()
    for start in same:
        [line] = [line for line in server if line.startswith(f" {start}")]
        assert line in ours.out.splitlines(), (start, ours.out)


async def test_inspect_as_docker(
    docker_cli: str, host: str, tmp_path: Path, two: list[str], image: str
) -> None:
    for fmt in (
        "{{.State.Status}} {{.Name}} {{.Id}}",
        "{{json .Config.Labels}} {{.Config.Image}} {{range .Mounts}}{{.Destination}}{{end}}",
        "{{.State.Health}} {{.HostConfig.NetworkMode}} {{json .State.Running}}",
    ):
        await assert_same(docker_cli, host, tmp_path, "inspect", "--format", fmt, *two)
    await assert_same(
        docker_cli, host, tmp_path, "inspect", "-f", "{{.Id}}", "--type", "image", image
    )
    await assert_same(docker_cli, host, tmp_path, "inspect", "-f", "{{.Name}} {{.Driver}}", "none")

    theirs, ours = await side_by_side(docker_cli, host, tmp_path, "inspect", two[0], image)
    for mine, docker_said in zip(json.loads(ours.out), json.loads(theirs.out), strict=True):
        assert mine["Id"] == docker_said["Id"]
        state = {k: v for k, v in (mine.get("State") or {}).items() if v is not None}
        assert state == (docker_said.get("State") or {})
        assert mine.get("RepoTags") == docker_said.get("RepoTags")

    theirs, ours = await side_by_side(docker_cli, host, tmp_path, "inspect", "nosuch-thing", two[0])
    assert (theirs.status, ours.status) == (1, 1)
    assert "No such object: nosuch-thing" in ours.err
    assert [o["Name"] for o in json.loads(ours.out)] == [f"/{two[0]}"]


async def test_events_as_docker(
    docker_cli: str, host: str, tmp_path: Path, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    start = (await docker.system.info()).system_time
    created = await docker.containers.create(container_config(image, "true", Labels=labels))
    assert created.id is not None
    await docker.containers.start(created.id)
    await docker.containers.wait(created.id)
    end = (await docker.system.info()).system_time
    assert start is not None and end is not None
    window = ["--since", start, "--until", end, "-f", f"label={LABEL}={labels[LABEL]}"]
    fmt = "{{.Type}} {{.Action}} {{.Actor.Attributes.image}} {{.Actor.Attributes.nope}} {{.ID}}"
    out = await assert_same(docker_cli, host, tmp_path, "events", *window, "--format", fmt)
    assert f"container start {image} <no value> {created.id}" in out
    await assert_same(docker_cli, host, tmp_path, "events", *window, "--format", "json")
    await assert_same(docker_cli, host, tmp_path, "events", *window, "--format", "{{json .}}")


@pytest.mark.parametrize(
    "args",
    [
        ["ps", "--bogus"],
        ["frobnicate"],
        ["rm", "nosuch-container"],
        ["inspect", "nosuch-thing"],
        ["exec", "RUNNING", "sh", "-c", "exit 3"],
        ["exec", "CREATED", "true"],
        ["stop", "nosuch-container"],
        ["run", "--rm", "--network", "none", "IMAGE", "sh", "-c", "exit 9"],
        ["run", "--rm", "--network", "none", "IMAGE", "no-such-command"],
        ["run", "--network", "none", "--restart", "bogus", "IMAGE", "true"],
        ["rmi", "nosuch-image:1"],
    ],
)
async def test_exit_status_as_docker(
    docker_cli: str, host: str, tmp_path: Path, two: list[str], image: str, args: list[str]
) -> None:
    names = {"RUNNING": two[0], "CREATED": two[1], "IMAGE": image}
    args = [names.get(a, a) for a in args]
    theirs, ours = await side_by_side(docker_cli, host, tmp_path, *args)
    assert ours.status == theirs.status, (theirs, ours)
    assert "Traceback" not in ours.err


def test_engine_is_dockerd(sandbox: Sandbox) -> None:
    # The docker client talks to dockerd; the comparisons above are meaningless elsewhere.
    assert ENGINE == "docker", sandbox
