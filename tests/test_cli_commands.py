"""The container and image commands of the aiodockerapi command, against the real daemon."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import Docker, NotFound

from .conftest import container_config
from .sandbox import Sandbox
from .test_cli import LABEL, assert_one_line_error, cli, cli_env

pytestmark = pytest.mark.daemon


@pytest.fixture
def host(sandbox: Sandbox) -> str:
    return sandbox.unix_url


@pytest.fixture
async def labels(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    yield {LABEL: label}
    for c in await docker.containers.list(all=True, filters={"label": f"{LABEL}={label}"}):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True, v=True)


async def state(docker: Docker, name: str) -> str | None:
    inspected = await docker.containers.inspect(name)
    assert inspected.state is not None
    return inspected.state.status


async def test_start_stop_kill_restart_rm(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    names = [f"cli-cmd-{n}-{labels[LABEL]}" for n in (1, 2)]
    for name in names:
        await docker.containers.create(
            container_config(image, "sleep", "600", Labels=labels), name=name
        )
    started = await cli("-H", host, "start", *names)
    assert (started.status, started.out) == (0, "".join(f"{n}\n" for n in names)), started
    assert [await state(docker, n) for n in names] == ["running", "running"]

    killed = await cli("-H", host, "kill", "-s", "SIGKILL", names[0])
    assert killed.out == f"{names[0]}\n", killed
    waited = await asyncio.wait_for(docker.containers.wait(names[0]), 60)
    assert waited.status_code == 137  # killed by SIGKILL
    stopped = await cli("-H", host, "container", "stop", "-t", "0", names[1])
    assert stopped.out == f"{names[1]}\n" and await state(docker, names[1]) == "exited"
    restarted = await cli("-H", host, "restart", "-t", "0", *names)
    assert restarted.status == 0 and [await state(docker, n) for n in names] == ["running"] * 2

    partly = await cli("-H", host, "rm", names[0], "nosuch-container")
    assert partly.status == 1
    assert "No such container: nosuch-container" in partly.err
    assert "or force remove" in partly.err  # the running one: both daemons' words end so
    assert partly.out == ""
    removed = await cli("-H", host, "rm", "-f", "-v", *names)
    assert removed.out == "".join(f"{n}\n" for n in names), removed
    for name in names:
        with pytest.raises(NotFound):
            await docker.containers.inspect(name)


async def test_exec_output_status_and_flags(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    name = f"cli-exec-{labels[LABEL]}"
    created = await docker.containers.create(
        container_config(image, "sleep", "600", Labels=labels), name=name
    )
    assert created.id is not None
    await docker.containers.start(created.id)
    done = await cli("-H", host, "exec", name, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (done.status, done.out, done.err) == (3, "out\n", "err\n")
    flags = await cli("-H", host, "exec", "-e", "A=1", "-w", "/etc", "-u", "5:6", name,
                      "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g)")  # fmt: skip
    assert (flags.status, flags.out) == (0, "1 /etc 5:6\n"), flags
    missing = await cli("-H", host, "exec", name, "no-such-command")
    assert missing.status in (126, 127) and "no-such-command" in missing.out + missing.err
    usage = await cli("-H", host, "exec", name)
    assert_one_line_error(usage, 125, "exec needs a command")


async def test_tag_rmi_and_image_aliases(host: str, docker: Docker, image: str, label: str) -> None:
    target = f"cli-tag-{label}/copy:v1"
    tagged = await cli("-H", host, "tag", image, target)
    assert tagged.status == 0, tagged
    listed = await cli("-H", host, "image", "ls", f"cli-tag-{label}/copy", "--format", "{{.Tag}}")
    assert listed.out == "v1\n", listed
    removed = await cli("-H", host, "image", "rm", target)
    assert (removed.status, removed.out) == (0, f"Untagged: {target}\n"), removed
    again = await cli("-H", host, "rmi", target)
    assert_one_line_error(again, 1, f"No such image: {target}")


async def test_run_flags_reach_the_container(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    name = f"cli-flags-{labels[LABEL]}"
    done = await cli(
        "-H", host, "run", "-d", "--name", name, "--network", "none",
        "-l", f"{LABEL}={labels[LABEL]}",
        "-v", "/anon", "-v", "/tmp:/host:ro", "-p", "127.0.0.1:8080:80", "-p", "53/udp",
        "-m", "64m", "--cpus", "0.5", "--restart", "on-failure:3", "--init", "--read-only",
        "--cap-add", "net_admin", "--cap-drop", "CHOWN", image, "sleep", "600",
    )  # fmt: skip
    assert done.status == 0, done
    got = await cli(
        "-H", host, "inspect", "--format", "{{json .HostConfig}}|{{json .Config}}", name
    )
    host_config, config = (json.loads(part) for part in got.out.split("|"))
    assert host_config["Binds"] == ["/tmp:/host:ro"]
    assert host_config["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }
    assert (host_config["Memory"], host_config["NanoCpus"]) == (64 * 1024**2, 500_000_000)
    assert host_config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host_config["Init"] is True and host_config["ReadonlyRootfs"] is True
    assert (host_config["CapAdd"], host_config["CapDrop"]) == (["CAP_NET_ADMIN"], ["CAP_CHOWN"])
    assert config["Volumes"] == {"/anon": {}}
    assert set(config["ExposedPorts"]) == {"80/tcp", "53/udp"}

    conflict = await cli("-H", host, "run", "--rm", "--restart", "always", image, "true")
    assert_one_line_error(conflict, 125, "--restart and --rm")
    bad = await cli("-H", host, "run", "-p", "80:eighty", image, "true")
    assert_one_line_error(bad, 125, "invalid port 'eighty'")


async def test_version_inspect_on_many_hosts(
    host: str, sandbox: Sandbox, tmp_path: Path, image: str
) -> None:
    link = tmp_path / "again.sock"
    link.symlink_to(sandbox.unix_socket)
    hosts = ["-H", host, "-H", f"unix://{link}"]
    version = await cli(*hosts, "version", "--format", "{{.Host}} {{.Server.Version}}")
    assert version.status == 0, version
    rows = [line.split() for line in version.out.splitlines()]
    assert [r[0] for r in rows] == [host, f"unix://{link}"] and rows[0][1] == rows[1][1]
    inspected = await cli(*hosts, "inspect", "--type", "image", image)
    assert [o["Host"] for o in json.loads(inspected.out)] == [host, f"unix://{link}"]
    text = await cli(*hosts, "version")
    assert text.out.count("Server:") == 2 and text.out.count("Client:") == 1


async def test_format_errors_before_any_request(tmp_path: Path) -> None:
    down = f"unix://{tmp_path}/down.sock"
    for args in (["ps", "--format", "{{.Nope}}"], ["images", "--format", "{{.ID"],
                 ["ps", "--format", "{{.ID}}", "--json"]):  # fmt: skip
        done = await cli("-H", down, *args)
        assert done.status == 125, done
        assert "down.sock" not in done.err


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
async def test_build_from_stdin(
    host: str, docker: Docker, image: str, label: str, builder: str
) -> None:
    """`build -`: a Dockerfile on stdin, built with an empty context."""
    ref = f"cli-stdin-{label}:{builder}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiodockerapi", "-H", host, "build", "-q", "--network", "none",
        "--builder", builder, "-t", ref, "-",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
    )  # fmt: skip
    dockerfile = f"FROM {image}\nRUN echo {label} > /made\n".encode()
    out, err = await asyncio.wait_for(proc.communicate(dockerfile), 120)
    try:
        assert proc.returncode == 0, err
        built = await docker.images.inspect(ref)
        assert built.id is not None and out.decode().strip().endswith(built.id)
        ran = await cli("-H", host, "run", "--rm", "--network", "none", ref, "cat", "/made")
        assert ran.out == f"{label}\n", ran
    finally:
        with contextlib.suppress(NotFound):
            await docker.images.delete(ref, force=True)


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
async def test_build_with_a_dockerfile_outside_the_context(
    host: str, docker: Docker, image: str, label: str, builder: str, tmp_path: Path
) -> None:
    context, elsewhere = tmp_path / "context", tmp_path / "elsewhere"
    context.mkdir()
    elsewhere.mkdir()
    (context / "data.txt").write_text(label)
    dockerfile = elsewhere / "Dockerfile"
    dockerfile.write_text(f"FROM {image}\nCOPY . /ctx/\n")
    ref = f"cli-outside-{label}:{builder}"
    try:
        done = await cli("-H", host, "build", "-q", "--network", "none", "--builder", builder,
                         "-f", str(dockerfile), "-t", ref, str(context))  # fmt: skip
        assert done.status == 0, done
        ran = await cli("-H", host, "run", "--rm", "--network", "none", ref, "ls", "-a", "/ctx")
        listed = ran.out.split()
        assert "data.txt" in listed
        if builder == "classic":  # BuildKit, given a tar, copies the added Dockerfile too
            assert [n for n in listed if n.startswith(".dockerfile.")] == []
    finally:
        with contextlib.suppress(NotFound):
            await docker.images.delete(ref, force=True)
