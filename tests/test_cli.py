"""The aiodockerapi command, run as a subprocess against the real daemon."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aiodockerapi import Docker, NotFound
from aiodockerapi.cli.commands import default_builder
from aiodockerapi.cli.formats import event_line, human_duration, human_size, ports
from aiodockerapi.models import (
    EventMessage,
    PingResponse,
    PortSummary,
    SystemVersion,
    SystemVersionComponentsItem,
)
from aiodockerapi.models import SystemEventsResponseActor as EventActor

from .conftest import DAEMON_API, container_config
from .registry import Registry, containerd_image_store, registry  # noqa: F401
from .sandbox import ENGINE, Sandbox
from .test_progress import Tmux

pytestmark = pytest.mark.daemon

ROOT = Path(__file__).resolve().parent.parent
LABEL = "aiodockerapi.test"


@dataclass
class Done:
    status: int | None
    out: str
    err: str


def cli_env(**extra: str) -> dict[str, str]:
    """The test's environment, with the checkout importable and no DOCKER_* leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


async def spawn(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiodockerapi",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env or cli_env(),
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 120) -> Done:
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    return Done(proc.returncode, out.decode(), err.decode())


async def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Done:
    """Run `python -m aiodockerapi ARGS...` to the end."""
    return await finish(await spawn(*args, env=env), timeout)


def assert_one_line_error(done: Done, status: int, *fragments: str) -> None:
    assert done.status == status, done
    assert "Traceback" not in done.err
    lines = done.err.splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith("aiodockerapi: error: "), done.err
    for fragment in fragments:
        assert fragment in lines[0]


async def read_line_with(stream: asyncio.StreamReader, text: str, timeout: float = 120) -> str:
    """Lines of a running command's output, up to the first one containing `text`."""
    seen = []

    async def scan() -> str:
        while line := (await stream.readline()).decode():
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"output ended without {text!r}: {''.join(seen)!r}")

    try:
        return await asyncio.wait_for(scan(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {text!r} within {timeout} s: {''.join(seen)!r}") from None


@pytest.fixture
def host(sandbox: Sandbox) -> str:
    return sandbox.unix_url


@pytest.fixture
async def labels(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's containers; whatever carries them is removed afterwards."""
    yield {LABEL: label}
    for c in await docker.containers.list(all=True, filters={"label": f"{LABEL}={label}"}):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True)


@pytest.fixture
async def tags(docker: Docker) -> AsyncIterator[list[str]]:
    """Image references the test makes; removed afterwards."""
    made: list[str] = []
    yield made
    for ref in made:
        try:
            await docker.images.delete(ref, force=True)
        except NotFound:
            pass


# -- connecting and failing cleanly ------------------------------------------------------


async def test_info(host: str, docker: Docker) -> None:
    done = await cli("--host", host, "info")
    assert done.status == 0, done
    version = await docker.system.version()
    assert f"Server Version: {version.version}\n" in done.out
    assert f"API Version: {DAEMON_API}\n" in done.out
    assert f"Host: {host}\n" in done.out

    as_json = await cli("-H", host, "info", "--json")
    assert as_json.status == 0, as_json
    info = json.loads(as_json.out)
    assert info["ServerVersion"] == version.version
    assert info["DockerRootDir"] == (await docker.system.info()).docker_root_dir


async def test_daemon_down_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.sock"
    done = await cli("--host", f"unix://{missing}", "ps")
    assert_one_line_error(done, 1, "cannot connect to the Docker daemon", str(missing))
    assert done.out == ""


async def test_docker_host_from_the_environment(host: str) -> None:
    done = await cli("ps", "-q", env=cli_env(DOCKER_HOST=host))
    assert done.status == 0, done
    down = await cli("ps", env=cli_env(DOCKER_HOST="unix:///nonexistent/docker.sock"))
    assert_one_line_error(down, 1, "unix:///nonexistent/docker.sock")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ps", "--bogus"], "unrecognized arguments: --bogus"),
        (["ps", "-f", "status"], "expected KEY=VALUE, got 'status'"),
        (["ps", "-n", "many"], "expected a whole number"),
        (["run"], "the following arguments are required: IMAGE"),
        ([], "the following arguments are required: COMMAND"),
        (["--tlscert", "c.pem", "ps"], "--tlscert and --tlskey go together"),
    ],
)
async def test_usage_errors_are_one_line_with_status_125(
    host: str, args: list[str], fragment: str
) -> None:
    done = await cli("--host", host, *args)
    assert_one_line_error(done, 125, fragment)


async def test_unknown_command_is_status_1_as_docker(host: str) -> None:
    done = await cli("--host", host, "frobnicate")
    assert_one_line_error(done, 1, "invalid choice: 'frobnicate'")


async def test_bad_host_is_one_line() -> None:
    done = await cli("--host", "ftp://example.invalid", "info")
    assert_one_line_error(done, 1, "unsupported Docker host 'ftp://example.invalid'")


def write_context(config: Path, name: str, host: str) -> None:
    """A Docker context in a Docker config directory, laid out as `docker context create` does."""
    meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    endpoint = {"Host": host, "SkipTLSVerify": False}
    (meta / "meta.json").write_text(
        json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )


async def test_context_flag(host: str, tmp_path: Path) -> None:
    config = tmp_path / "docker-config"
    write_context(config, "sandbox", host)
    env = cli_env(DOCKER_CONFIG=str(config))
    done = await cli("--context", "sandbox", "info", env=env)
    assert done.status == 0, done
    assert f"Host: {host}\n" in done.out
    by_env = await cli("info", env={**env, "DOCKER_CONTEXT": "sandbox"})
    assert f"Host: {host}\n" in by_env.out

    missing = await cli("--context", "no-such-context", "ps", env=env)
    assert_one_line_error(missing, 1, "Docker context 'no-such-context' not found")
    both = await cli("--host", host, "--context", "sandbox", "ps", env=env)
    assert_one_line_error(both, 125, "give --host or --context, not both")


async def test_tls_flags(sandbox: Sandbox) -> None:
    assert sandbox.tcp_url is not None and sandbox.tls_files is not None
    t = sandbox.tls_files
    done = await cli(
        "--host",
        sandbox.tcp_url,
        "--tlsverify",
        "--tlscacert",
        str(t.ca),
        "--tlscert",
        str(t.client_cert),
        "--tlskey",
        str(t.client_key),
        "info",
    )
    assert done.status == 0, done
    assert f"Host: {sandbox.tcp_url}\n" in done.out

    # The same certificates found through DOCKER_CERT_PATH, named as the docker CLI names them.
    certs = t.client_cert.parent
    assert (t.ca.parent, t.ca.name, t.client_key.name) == (certs, "ca.pem", "key.pem")
    env = cli_env(DOCKER_CERT_PATH=str(certs), DOCKER_TLS_VERIFY="1")
    by_env = await cli("--host", sandbox.tcp_url, "ps", "-q", env=env)
    assert by_env.status == 0, by_env

    # Without a client certificate the daemon (--tlsverify) hangs up: one line, status 1.
    bare = await cli(
        "--host", sandbox.tcp_url, "--tlsverify", "--tlscacert", str(t.ca), "info",
        env=cli_env(DOCKER_CERT_PATH=str(t.ca.parent / "nothing")),
    )  # fmt: skip
    assert_one_line_error(bare, 1, sandbox.tcp_url)
    # The daemon answered: the advice is in flags, not the Python API, and not "is it down?".
    assert "TLSConfig" not in bare.err and "is the daemon running" not in bare.err

    plain = await cli("--host", sandbox.tcp_url, "info")
    assert_one_line_error(plain, 1, "speaks TLS", "--tlsverify --tlscacert")
    assert "TLSConfig" not in plain.err and "is the daemon running" not in plain.err


# -- ps, images, events, logs ------------------------------------------------------------


async def test_ps_with_filters(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    label = labels[LABEL]
    exited = await docker.containers.create(
        container_config(image, "true", Labels=labels), name=f"cli-exited-{label}"
    )
    running = await docker.containers.create(
        container_config(image, "sleep", "600", Labels=labels), name=f"cli-running-{label}"
    )
    assert exited.id and running.id
    await docker.containers.start(exited.id)
    await docker.containers.wait(exited.id)
    await docker.containers.start(running.id)

    everything = await cli("-H", host, "ps", "-a", "--filter", f"label={LABEL}={label}")
    assert everything.status == 0, everything
    header, *rows = everything.out.splitlines()
    assert header.split() == [
        "CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"
    ]  # fmt: skip
    assert sorted(row.split()[-1] for row in rows) == [
        f"cli-exited-{label}",
        f"cli-running-{label}",
    ]
    assert all(row.split()[1] == image for row in rows)
    by_name = {row.split()[-1]: row for row in rows}
    assert "Exited (0)" in by_name[f"cli-exited-{label}"]
    assert " Up " in by_name[f"cli-running-{label}"]
    assert by_name[f"cli-exited-{label}"].startswith(exited.id[:12] + " ")

    only_running = await cli("-H", host, "ps", "-q", "-f", f"label={LABEL}={label}")
    assert only_running.out.split() == [running.id[:12]]
    only_exited = await cli(
        "-H", host, "ps", "-a", "-q", "--no-trunc", "-f", f"label={LABEL}={label}",
        "-f", "status=exited",
    )  # fmt: skip
    assert only_exited.out.split() == [exited.id]

    as_json = await cli("-H", host, "ps", "-a", "--json", "-f", f"label={LABEL}={label}")
    objects = [json.loads(line) for line in as_json.out.splitlines()]
    assert sorted(o["Id"] for o in objects) == sorted([exited.id, running.id])
    assert {o["Labels"][LABEL] for o in objects} == {label}


async def test_images(host: str, docker: Docker, image: str) -> None:
    inspected = await docker.images.inspect(image)
    assert inspected.id is not None
    repo, _, tag = image.rpartition(":")
    done = await cli("-H", host, "images", image)
    assert done.status == 0, done
    header, *rows = done.out.splitlines()
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert [row.split()[:3] for row in rows] == [[repo, tag, inspected.id[7:19]]]
    assert rows[0].split()[-1].endswith("MB")  # the static busybox: about 2 MB

    quiet = await cli("-H", host, "images", "-q", "--no-trunc", "-f", f"reference={image}")
    assert quiet.out.split() == [inspected.id.removeprefix("sha256:")]
    as_json = await cli("-H", host, "images", "--json", image)
    assert [json.loads(line)["Id"] for line in as_json.out.splitlines()] == [inspected.id]


async def test_events_follow_json_until_ctrl_c(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    since = (await docker.system.info()).system_time
    assert since is not None
    proc = await spawn(
        "-H", host, "events", "--json", "--since", since, "-f", f"label={LABEL}={labels[LABEL]}"
    )
    try:
        created = await docker.containers.create(container_config(image, "true", Labels=labels))
        assert created.id is not None
        assert proc.stdout is not None
        line = await read_line_with(proc.stdout, created.id)
        event = json.loads(line)
        assert (event["Type"], event["Action"]) == ("container", "create")
        assert event["Actor"]["Attributes"][LABEL] == labels[LABEL]
        proc.send_signal(signal.SIGINT)
        done = await finish(proc, 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert done.status == 130
    assert "Traceback" not in done.err and "KeyboardInterrupt" not in done.err


async def test_a_closed_pipe_ends_quietly(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    """`aiodockerapi events | head -1`: the next write fails; no traceback, status 1."""
    since = (await docker.system.info()).system_time
    assert since is not None
    first = await docker.containers.create(container_config(image, "true", Labels=labels))
    assert first.id is not None
    proc = await spawn(
        "-H", host, "events", "--since", since, "-f", f"label={LABEL}={labels[LABEL]}"
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        await read_line_with(proc.stdout, first.id)
        transport = proc._transport  # type: ignore[attr-defined]
        transport.get_pipe_transport(1).close()  # what `head -1` does after its line
        await docker.containers.create(container_config(image, "true", Labels=labels))
        status = await asyncio.wait_for(proc.wait(), 120)
        err = (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert status == 1
    assert err == ""


async def test_events_since_until_ends(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    start = (await docker.system.info()).system_time
    assert start is not None
    created = await docker.containers.create(container_config(image, "true", Labels=labels))
    assert created.id is not None
    end = (await docker.system.info()).system_time
    assert end is not None
    done = await cli(
        "-H", host, "events", "--since", start, "--until", end,
        "--filter", f"label={LABEL}={labels[LABEL]}",
    )  # fmt: skip
    assert done.status == 0, done
    [line] = done.out.splitlines()
    assert f" container create {created.id} (" in line
    assert f"{LABEL}={labels[LABEL]}" in line and f"image={image}" in line


async def test_logs_follow_until_the_container_ends(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    script = "echo one; echo two >&2; until [ -e /go ]; do sleep 0.1; done; echo three"
    created = await docker.containers.create(
        container_config(image, "sh", "-c", script, Labels=labels)
    )
    assert created.id is not None
    await docker.containers.start(created.id)
    proc = await spawn("-H", host, "logs", "-f", created.id)
    try:
        assert proc.stdout is not None
        await read_line_with(proc.stdout, "one")
        # Still following: "three" comes only after this.
        result = await docker.exec.run(created.id, ["touch", "/go"])
        assert result.exit_code == 0
        assert (await read_line_with(proc.stdout, "three")) == "three\n"
        done = await finish(proc, 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert done.status == 0
    assert done.err == "two\n"

    tail = await cli("-H", host, "logs", "--tail", "1", "-t", created.id)
    [line] = tail.out.splitlines()
    assert line.endswith(" three") and line[:4].isdigit()
    missing = await cli("-H", host, "logs", f"no-such-container-{uuid.uuid4().hex}")
    assert_one_line_error(missing, 1, "No such container")


# -- run ---------------------------------------------------------------------------------


async def test_run_streams_output_and_exits_with_its_code(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    label = f"{LABEL}={labels[LABEL]}"
    done = await cli(
        "-H", host, "run", "--rm", "--network", "none", "-l", label, "-e", "WHO=world",
        image, "sh", "-c", 'echo "hello $WHO"; echo oops >&2; exit 3',
    )  # fmt: skip
    assert done.status == 3, done
    assert done.out == "hello world\n"
    assert done.err == "oops\n"
    assert await docker.containers.list(all=True, filters={"label": label}) == []

    kept = await cli(
        "-H", host, "run", "--network", "none", "--name", f"cli-kept-{labels[LABEL]}",
        "-l", label, "-w", "/tmp", image, "pwd",
    )  # fmt: skip
    assert (kept.status, kept.out) == (0, "/tmp\n")
    [summary] = await docker.containers.list(all=True, filters={"label": label})
    assert summary.names == [f"/cli-kept-{labels[LABEL]}"]
    assert summary.host_config is not None and summary.host_config.network_mode == "none"


async def test_run_detached(host: str, docker: Docker, image: str, labels: dict[str, str]) -> None:
    done = await cli(
        "-H", host, "run", "-d", "--network", "none", "-l", f"{LABEL}={labels[LABEL]}",
        image, "sh", "-c", "echo in the background",
    )  # fmt: skip
    assert done.status == 0, done
    cid = done.out.strip()
    assert len(cid) == 64
    waited = await docker.containers.wait(cid)
    assert waited.status_code == 0
    logs = await cli("-H", host, "logs", cid)
    assert logs.out == "in the background\n"


async def test_run_ctrl_c_removes_the_container(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    label = f"{LABEL}={labels[LABEL]}"
    proc = await spawn(
        "-H", host, "run", "--rm", "--sig-proxy=false", "--network", "none", "-l", label,
        image, "sh", "-c", "echo started; exec sleep 600",
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        await read_line_with(proc.stdout, "started")
        proc.send_signal(signal.SIGINT)
        done = await finish(proc, 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert done.status == 130
    assert "Traceback" not in done.err
    assert await docker.containers.list(all=True, filters={"label": label}) == []


@pytest.mark.parametrize("rm", [True, False])
async def test_run_passes_signals_to_the_container(
    host: str, docker: Docker, image: str, labels: dict[str, str], rm: bool
) -> None:
    """SIGINT goes to the container (--sig-proxy, on by default); one that traps it and
    exits 9 makes run exit 9, and is left behind only without --rm."""
    label = f"{LABEL}={labels[LABEL]}"
    script = "trap 'exit 9' INT; echo started; while :; do sleep 0.1; done"
    proc = await spawn("-H", host, "run", *(["--rm"] if rm else []), "--network", "none",
                       "-l", label, image, "sh", "-c", script)  # fmt: skip
    try:
        assert proc.stdout is not None
        await read_line_with(proc.stdout, "started")
        proc.send_signal(signal.SIGINT)
        done = await finish(proc, 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert done.status == 9, done
    left = await docker.containers.list(all=True, filters={"label": label})
    assert [c.state for c in left] == ([] if rm else ["exited"])


async def test_run_exits_like_docker_run(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    """125 when the daemon refuses, 126 when the command cannot be invoked, 127 when it is
    not found; else the container's own status (test_run_streams_output_... has 3)."""
    label = f"{LABEL}={labels[LABEL]}"
    missing = f"127.0.0.1:1/aiodockerapi/none-{labels[LABEL]}:1"
    never = await cli("-H", host, "run", "--pull", "never", "--network", "none", missing)
    assert_one_line_error(never, 125, "No such image", missing)
    unpullable = await cli("-H", host, "run", "-q", "--network", "none", missing)
    assert_one_line_error(unpullable, 125, "127.0.0.1:1")
    refused = await cli(
        "-H", host, "run", "--rm", "--network", "no-such-network", "-l", label, image, "true"
    )  # fmt: skip
    # (after the daemon's warning that networking will not work, on a daemon without a bridge)
    assert refused.status == 125, refused
    assert refused.err.splitlines()[-1].startswith("aiodockerapi: error: "), refused
    assert "no-such-network" in refused.err.splitlines()[-1]

    not_found = await cli(
        "-H", host, "run", "--rm", "--network", "none", "-l", label, image, "/no/such/program",
    )  # fmt: skip
    assert_one_line_error(not_found, 127, "/no/such/program")
    not_on_path = await cli("-H", host, "run", "--network", "none", "-l", label, image, "nope")
    assert_one_line_error(not_on_path, 127, "nope")
    a_directory = await cli(
        "-H", host, "run", "--rm", "--network", "none", "-l", label, image, "/bin"
    )
    assert_one_line_error(a_directory, 126, "/bin")
    # --rm removed what it created, also when it could not start.
    left = await docker.containers.list(all=True, filters={"label": label})
    assert len(left) == 1 and left[0].command == "nope"

    for code in (0, 1, 42):
        own = await cli(
            "-H", host, "run", "--rm", "--network", "none", "-l", label,
            image, "sh", "-c", f"exit {code}",
        )  # fmt: skip
        assert (own.status, own.err) == (code, ""), own


# -- build, push, pull -------------------------------------------------------------------


def build_context(path: Path, dockerfile: str, **files: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


async def test_build_shows_the_steps_as_plain_lines(
    host: str, docker: Docker, image: str, tags: list[str], tmp_path: Path
) -> None:
    tag = f"aiodockerapi-test/cli-build:{uuid.uuid4().hex[:8]}"
    tags.append(tag)
    ctx = build_context(
        tmp_path / "ctx",
        f'FROM {image}\nARG GREETING\nRUN echo "step says $GREETING" && echo warned >&2\n',
    )
    args = ["--network", "none", "-t", tag, "--build-arg", "GREETING=hi", "--label", "made.by=cli"]
    args = ["--builder", "classic", *args]
    done = await cli("-H", host, "build", *args, str(ctx))
    assert done.status == 0, done
    lines = done.out.splitlines()
    assert lines[0] == f"Step 1/4 : FROM {image}"  # the daemon adds a step for --label
    assert "step says hi" in lines
    assert "warned" in lines  # the daemon colours stderr; plain output has no escapes
    assert "\x1b" not in done.out
    assert lines[-2] == f"Successfully tagged {tag}"
    inspected = await docker.images.inspect(tag)
    assert lines[-1] == inspected.id  # the image id comes last
    assert inspected.config is not None and inspected.config.labels == {"made.by": "cli"}

    quiet = await cli("-H", host, "build", "-q", *args, str(ctx))  # all from the cache
    assert quiet.out.strip() == inspected.id


async def test_build_errors(host: str, image: str, tmp_path: Path) -> None:
    failing = build_context(tmp_path / "failing", f"FROM {image}\nRUN exit 3\n")
    done = await cli("-H", host, "build", "--builder", "classic", "--network", "none", str(failing))
    assert done.status == 1
    assert "Step 2/2 : RUN exit 3" in done.out
    assert_one_line_error(done, 1, "returned a non-zero code: 3")

    missing = tmp_path / "other" / "Dockerfile"
    elsewhere = await cli("-H", host, "build", "-f", str(missing), str(failing))
    assert_one_line_error(elsewhere, 1, "No such file or directory", str(missing))
    nowhere = await cli("-H", host, "build", str(tmp_path / "missing"))
    assert_one_line_error(nowhere, 1, "is not a directory")


needs_buildkit = pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit")
STEP = r"\[(stage-0 )?{}\] "  # dockerd 20.10 names the one stage: [stage-0 2/3] RUN ...


@needs_buildkit
async def test_buildkit_build_plain(
    host: str, docker: Docker, image: str, tags: list[str], tmp_path: Path
) -> None:
    """Off a terminal BuildKit's steps are buildx's plain lines; then the image id. The same
    build again is all CACHED; -q prints only the id."""
    marker = uuid.uuid4().hex[:12]
    tag = f"aiodockerapi-test/cli-buildkit:{marker}"
    tags.append(tag)
    ctx = build_context(
        tmp_path / "ctx",
        f'FROM {image}\nARG GREETING\nRUN echo "{marker} says $GREETING" && echo warned >&2\n'
        "COPY data.txt /\n",
        **{"data.txt": marker},
    )
    args = ["build", "--network", "none", "-t", tag, "--build-arg", "GREETING=hi", str(ctx)]
    done = await cli("-H", host, *args)
    assert done.status == 0, done
    assert "\x1b" not in done.out and done.err == ""
    lines = done.out.splitlines()
    inspected = await docker.images.inspect(tag)
    assert lines[-1] == inspected.id
    run = next(
        line for line in lines if re.fullmatch(r"#\d+ " + STEP.format("2/3") + "RUN .*", line)
    )
    number = run.split()[0]
    mine = [line.removeprefix(number + " ") for line in lines if line.startswith(number + " ")]
    assert mine[0] == run.removeprefix(number + " ")
    outputs = [line.split(" ", 1) for line in mine if re.match(r"\d+\.\d{3} ", line)]
    assert sorted(text for _, text in outputs) == [f"{marker} says hi", "warned"]
    assert re.fullmatch(r"DONE \d+\.\ds", mine[-1])
    # The classic image store says "writing image sha256:...", the containerd store
    # "exporting manifest sha256:..." (then the config, naming and unpacking).
    assert any(
        re.fullmatch(
            r"#\d+ (writing image|exporting manifest) sha256:[0-9a-f]{64}( \d+\.\ds)? done", line
        )
        for line in lines
    )

    again = await cli("-H", host, *args)
    assert again.status == 0, again
    cached = again.out.splitlines()
    run = next(
        line for line in cached if re.fullmatch(r"#\d+ " + STEP.format("2/3") + "RUN .*", line)
    )
    assert cached[cached.index(run) + 1] == run.split()[0] + " CACHED"
    assert cached[-1] == inspected.id

    quiet = await cli("-H", host, "build", "-q", *args[1:])
    assert (quiet.status, quiet.out, quiet.err) == (0, inspected.id + "\n", "")


@needs_buildkit
async def test_buildkit_build_on_a_terminal(
    docker: Docker, image: str, tags: list[str], tmp_path: Path
) -> None:
    """In tmux: the steps redrawn in place with their clocks, the running one's output under
    it; the last frame FINISHED, then the image id. Built again: CACHED."""
    marker = uuid.uuid4().hex[:12]
    tag = f"aiodockerapi-test/cli-buildkit-tty:{marker}"
    tags.append(tag)
    ctx = build_context(
        tmp_path / "ctx",
        f"FROM {image}\nRUN echo started-{marker} && sleep 2 && echo finished-{marker}\n"
        "COPY data.txt /\n",
        **{"data.txt": marker},
    )
    command = [sys.executable, "-m", "aiodockerapi", "-H", docker.host, "build"]
    command += ["--network", "none", "-t", tag, str(ctx)]
    run = STEP.format("2/3") + f"RUN echo started-{marker}"
    for attempt in ("first", "again"):
        directory = tmp_path / attempt
        directory.mkdir()
        tmux = Tmux(directory)
        try:
            tmux.start(*command)
            if attempt == "first":
                screen = await tmux.wait_for(f"# started-{marker}")
                assert re.fullmatch(r"\[\+\] Building \d+\.\ds \(\d+/\d+\)", screen[0]), screen
                [running] = [i for i, line in enumerate(screen) if re.match(" => " + run, line)]
                assert re.search(r" \d+\.\ds$", screen[running])
                assert screen[running + 1] == f" => => # started-{marker}"
            assert await tmux.wait_exit() == 0, "\n".join(tmux.screen())
            screen = tmux.screen()
        finally:
            tmux.close()
        inspected = await docker.images.inspect(tag)
        assert screen[-1] == inspected.id
        # dockerd 20.10's "Successfully tagged ..." is printed above the steps.
        head = next(i for i, line in enumerate(screen) if line.startswith("[+] Building"))
        assert screen[:head] in ([], [f"Successfully tagged {tag}"]), screen
        assert re.fullmatch(r"\[\+\] Building \d+\.\ds \((\d+)/\1\) FINISHED", screen[head])
        frame = screen[head + 1 : -1]
        assert all(re.fullmatch(r" => .* \d+\.\ds", line) for line in frame), frame
        [step] = [line for line in frame if re.search(run, line)]
        if attempt == "first":
            assert re.match(" => " + run, step) and float(step.split()[-1][:-1]) >= 2
            assert not any(
                f"started-{marker}" in line for line in frame if line.startswith(" => => #")
            )
        else:
            assert re.match(" => CACHED " + run, step), screen


@needs_buildkit
async def test_buildkit_build_failure(host: str, image: str, tmp_path: Path) -> None:
    """A failed step: one error line naming it, then its last lines of output; status 1."""
    ctx = build_context(
        tmp_path / "ctx", f"FROM {image}\nRUN echo before\nRUN sh -c 'echo boom >&2; exit 3'\n"
    )
    done = await cli("-H", host, "build", "--network", "none", str(ctx))
    assert done.status == 1, done
    assert "Traceback" not in done.err
    first, *rest = done.err.splitlines()
    assert re.match(
        "aiodockerapi: error: "
        + STEP.format("3/3")
        + re.escape("RUN sh -c 'echo boom >&2; exit 3': "),
        first,
    ), first
    assert first.endswith("exit code: 3")
    assert rest == ["  | boom"]
    # The plain lines said it too.
    assert re.search(r"^#\d+ \d+\.\d{3} boom$", done.out, re.MULTILINE)
    assert re.search(r"^#\d+ ERROR: .*exit code: 3$", done.out, re.MULTILINE)
    quiet = await cli("-H", host, "build", "-q", "--network", "none", str(ctx))
    assert (quiet.status, quiet.out) == (1, "")
    assert quiet.err.splitlines()[1:] == ["  | boom"]


async def test_builder_choice(host: str, docker: Docker, image: str, tmp_path: Path) -> None:
    """Without --builder: BuildKit on dockerd, the classic builder on Podman."""
    ctx = build_context(tmp_path / "ctx", f"FROM {image}\nCOPY data.txt /\n", **{"data.txt": "x"})
    done = await cli("-H", host, "build", str(ctx))
    assert done.status == 0, done
    if ENGINE == "podman":
        assert not done.out.startswith("#1 ")
    else:
        assert done.out.startswith("#1 ")
    classic = await cli("-H", host, "build", "--builder", "classic", str(ctx))
    assert classic.status == 0, classic
    assert not classic.out.startswith("#1 ")
    bad = await cli("-H", host, "build", "--builder", "kaniko", str(ctx))
    assert_one_line_error(bad, 125, "invalid choice: 'kaniko'")


def test_default_builder() -> None:
    def version(*names: str, os: str = "linux") -> SystemVersion:
        return SystemVersion(os=os, components=[SystemVersionComponentsItem(name=n) for n in names])

    engine = version("Engine", "containerd", "runc")
    assert default_builder(PingResponse(builder_version="2", os_type="linux")) == "buildkit"
    assert default_builder(PingResponse(builder_version="1", os_type="linux")) == "classic"
    # dockerd 20.10 sends no Builder-Version; Podman sends it empty.
    assert default_builder(PingResponse(os_type="linux"), engine) == "buildkit"
    podman = version("Podman Engine", "Conmon", "OCI Runtime (runc)")
    assert default_builder(PingResponse(builder_version=""), podman) == "classic"
    assert default_builder(PingResponse(os_type="windows"), version("Engine")) == "classic"
    assert default_builder(PingResponse(builder_version="2"), decodes=False) == "classic"


@pytest.fixture
def docker_config(tmp_path: Path, registry: Registry) -> dict[str, str]:  # noqa: F811
    """An environment whose Docker config holds the test registry's credentials."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": token}}}))
    return cli_env(DOCKER_CONFIG=str(directory))


async def test_push_pull_and_run_from_a_registry(
    host: str,
    docker: Docker,
    image: str,
    tags: list[str],
    labels: dict[str, str],
    registry: Registry,  # noqa: F811
    docker_config: dict[str, str],
    tmp_path: Path,
) -> None:
    unique = uuid.uuid4().hex
    ref = registry.image(f"aiodockerapi/cli-{unique[:8]}:v1")
    tags.append(ref)
    ctx = build_context(
        tmp_path / "ctx", f"FROM {image}\nCOPY unique.txt /\n", **{"unique.txt": unique}
    )
    # The classic builder: BuildKit's build cache would keep the COPY layer after the image
    # is deleted, and the pull below would find it there ("Already exists").
    built = await cli("-H", host, "build", "--builder", "classic", "-q", "-t", ref, str(ctx))
    assert built.status == 0, built

    no_auth = await cli("-H", host, "push", ref, env=cli_env(DOCKER_CONFIG=str(tmp_path)))
    assert_one_line_error(no_auth, 1, "no basic auth credentials")

    pushed = await cli("-H", host, "push", ref, env=docker_config)
    assert pushed.status == 0, pushed
    lines = pushed.out.splitlines()
    assert lines[0] == f"The push refers to repository [{ref.rpartition(':')[0]}]"
    assert any(line.endswith(": Pushed") for line in lines)
    assert lines[-1].startswith("v1: digest: sha256:")
    # One line per change of a layer's status, never one per progress message.
    assert len(lines) == len(set(lines))

    await docker.images.delete(ref)
    pulled = await cli("-H", host, "pull", ref, env=docker_config)
    assert pulled.status == 0, pulled
    lines = pulled.out.splitlines()
    assert lines[0] == "v1: Pulling from " + ref.partition("/")[2].rpartition(":")[0]
    assert any(line.endswith(": Pull complete") for line in lines)  # the COPY layer
    # busybox's layers: "Already exists" from the classic store; containerd's image store
    # does not mention the layers it has.
    already = [line for line in lines if line.endswith(": Already exists")]
    assert len(already) == (0 if await containerd_image_store(docker) else 2)
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2] == f"Status: Downloaded newer image for {ref}"
    assert lines[-1] == ref

    # run pulls what is missing: the progress goes to stderr, the output to stdout.
    await docker.images.delete(ref)
    ran = await cli(
        "-H", host, "run", "--rm", "--network", "none", "-l", f"{LABEL}={labels[LABEL]}",
        ref, "cat", "/unique.txt", env=docker_config,
    )  # fmt: skip
    assert ran.status == 0, ran
    assert ran.out == unique
    assert f"Unable to find image '{ref}' locally" in ran.err
    assert f"Status: Downloaded newer image for {ref}" in ran.err


# -- prune -------------------------------------------------------------------------------


async def test_prune(host: str, docker: Docker, image: str, labels: dict[str, str]) -> None:
    label = f"{LABEL}={labels[LABEL]}"
    stopped = []
    for _ in range(2):
        c = await docker.containers.create(container_config(image, "true", Labels=labels))
        assert c.id is not None
        stopped.append(c.id)
    running = await docker.containers.create(container_config(image, "sleep", "600", Labels=labels))
    assert running.id is not None
    await docker.containers.start(running.id)
    other = await docker.containers.create(container_config(image, "true", Labels={LABEL: "x"}))
    assert other.id is not None
    try:
        refused = await cli("-H", host, "prune", "--filter", f"label={label}")
        assert_one_line_error(refused, 1, "--force")
        assert len(await docker.containers.list(all=True, filters={"label": label})) == 3

        done = await cli("-H", host, "prune", "--force", "--filter", f"label={label}")
        assert done.status == 0, done
        lines = done.out.splitlines()
        assert lines[0] == "Deleted Containers:"
        assert sorted(lines[1:3]) == sorted(stopped)
        assert lines[-1].startswith("Total reclaimed space: ")
        left = await docker.containers.list(all=True, filters={"label": label})
        assert [c.id for c in left] == [running.id]
        assert (await docker.containers.inspect(other.id)).id == other.id
    finally:
        await docker.containers.delete(other.id, force=True)


# -- formatting --------------------------------------------------------------------------


def test_human_size_and_duration() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 1_234_567, 5_600_000_000)] == [
        "0B",
        "999B",
        "1kB",
        "1.23MB",
        "5.6GB",
    ]
    assert human_duration(0.5) == "Less than a second"
    assert human_duration(45) == "45 seconds"
    assert human_duration(90) == "About a minute"
    assert human_duration(3 * 3600) == "3 hours"
    assert human_duration(3 * 86400) == "3 days"


def test_event_line() -> None:
    event = EventMessage(
        type="container",
        action="start",
        actor=EventActor(id="abc", attributes={"name": "web", "image": "app:1"}),
        time=1700000000,
        time_nano=1700000000123456789,
    )
    assert event_line(event) == (
        "2023-11-14T22:13:20.123456789Z container start abc (image=app:1, name=web)"
    )
    assert event_line(EventMessage(type="network", action="prune", time=1700000000)) == (
        "2023-11-14T22:13:20.000000000Z network prune"
    )


# -- PORTS, --format, --json -------------------------------------------------------------


def test_ports() -> None:
    published = [
        PortSummary(ip="::", private_port=80, public_port=8080, type="tcp"),
        PortSummary(ip="0.0.0.0", private_port=80, public_port=8080, type="tcp"),
        PortSummary(private_port=53, type="udp"),
    ]
    assert ports(published) == "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 53/udp"
    assert ports(None) == ""


async def test_ps_ports_format_and_json(
    host: str, docker: Docker, image: str, labels: dict[str, str]
) -> None:
    label = labels[LABEL]
    name = f"cli-ports-{label}"
    created = await docker.containers.create(
        container_config(image, "sleep", "600", Labels=labels, ExposedPorts={"80/tcp": {}}),
        name=name,
    )
    assert created.id is not None
    await docker.containers.start(created.id)
    [listed] = await docker.containers.list(filters={"label": f"{LABEL}={label}"})
    shown_ports = ports(listed.ports)

    table = await cli("-H", host, "ps", "-f", f"label={LABEL}={label}")
    assert table.status == 0, table
    header, row = table.out.splitlines()
    assert header.index("PORTS") < header.index("NAMES")
    assert row[header.index("PORTS") :].split() == [*shown_ports.split(), name]

    fmt = r"{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.Status}}\t{{.Ports}}|{{.State}}"
    done = await cli("-H", host, "ps", "-f", f"label={LABEL}={label}", "--format", fmt)
    assert done.status == 0, done
    [line] = done.out.splitlines()
    cid, names, shown_image, status, rest = line.split("\t")
    assert (cid, names, shown_image) == (created.id[:12], name, image)
    assert status.startswith("Up ") and rest == f"{shown_ports}|running"
    full = await cli("-H", host, "ps", "--no-trunc", "-f", f"label={LABEL}={label}",
                     "--format", "{{.ID}}")  # fmt: skip
    assert full.out == created.id + "\n"

    bad = await cli("-H", host, "ps", "--format", "{{.Nope}}")
    assert_one_line_error(bad, 125, "can't evaluate field Nope")

    inspected = await docker.images.inspect(image)
    assert inspected.id is not None
    images = await cli(
        "-H", host, "images", image, "--format", r"{{.Repository}}:{{.Tag}}\t{{.ID}}"
    )
    assert images.out == f"{image}\t{inspected.id[7:19]}\n", images
    bad_image = await cli("-H", host, "images", "--format", "{{.Names}}")
    assert_one_line_error(bad_image, 125, "can't evaluate field Names")

    as_json = await cli("-H", host, "ps", "--json", "-f", f"label={LABEL}={label}")
    [obj] = [json.loads(line) for line in as_json.out.splitlines()]
    assert obj["Id"] == created.id and "host" not in obj


async def test_filter_help_fits_the_command(host: str) -> None:
    for command, fits, unfit in [
        ("images", "dangling=true", "status=exited"),
        ("events", "event=die", "status=exited"),
        ("ps", "status=exited", "dangling=true"),
    ]:
        done = await cli(command, "--help")
        text = " ".join(done.out.split())
        assert fits in text and unfit not in text, (command, text)
    run_help = " ".join((await cli("run", "--help")).out.split())
    assert "-l KEY[=VALUE], --label KEY[=VALUE] label the container" in run_help


# -- many hosts at once ------------------------------------------------------------------


async def test_many_hosts_at_once_with_one_down(
    sandbox: Sandbox, docker: Docker, image: str, labels: dict[str, str], tmp_path: Path
) -> None:
    """Two names for the sandbox (its socket, and a link to it) and one socket nothing
    listens on: the two print with a HOST column, the third is one line on stderr, exit 1."""
    label = labels[LABEL]
    link = tmp_path / "again.sock"
    link.symlink_to(sandbox.unix_socket)
    up = [sandbox.unix_url, f"unix://{link}"]
    down = f"unix://{tmp_path}/down.sock"
    hosts = ["-H", up[0], "-H", down, "-H", up[1]]
    start = (await docker.system.info()).system_time
    created = await docker.containers.create(
        container_config(image, "true", Labels=labels), name=f"cli-many-{label}"
    )
    assert created.id is not None and start is not None
    end = (await docker.system.info()).system_time
    assert end is not None

    def one_line_for_the_down_host(done: Done) -> None:
        assert done.status == 1, done
        assert "Traceback" not in done.err
        # info adds the daemons' warnings (IPv4 forwarding...), each after its host.
        [line] = [e for e in done.err.splitlines() if not e.startswith(tuple(up))]
        assert line.startswith(f"aiodockerapi: error: {down}: ") and "down.sock" in line

    ps = await cli(*hosts, "ps", "-a", "-f", f"label={LABEL}={label}")
    one_line_for_the_down_host(ps)
    header, *rows = ps.out.splitlines()
    assert header.split()[:3] == ["HOST", "CONTAINER", "ID"]
    assert [row.split()[:2] for row in rows] == [[h, created.id[:12]] for h in up]

    as_json = await cli(*hosts, "ps", "-a", "--json", "-f", f"label={LABEL}={label}")
    one_line_for_the_down_host(as_json)
    objects = [json.loads(line) for line in as_json.out.splitlines()]
    assert [(o["host"], o["Id"]) for o in objects] == [(h, created.id) for h in up]

    formatted = await cli(*hosts, "ps", "-a", "-f", f"label={LABEL}={label}",
                          "--format", "{{.Host}} {{.Names}}")  # fmt: skip
    assert formatted.out.splitlines() == [f"{h} cli-many-{label}" for h in up]

    images = await cli(*hosts, "images", image)
    one_line_for_the_down_host(images)
    assert [row.split()[:2] for row in images.out.splitlines()[1:]] == [
        [h, image.rpartition(":")[0]] for h in up
    ]

    info = await cli(*hosts, "info")
    one_line_for_the_down_host(info)
    assert [line for line in info.out.splitlines() if line.startswith(" Host: ")] == [
        f" Host: {h}" for h in up
    ]
    info_json = await cli(*hosts, "info", "--json")
    assert [json.loads(line)["host"] for line in info_json.out.splitlines()] == up

    events = await cli(*hosts, "events", "--since", start, "--until", end,
                       "-f", f"label={LABEL}={label}")  # fmt: skip
    one_line_for_the_down_host(events)
    lines = events.out.splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(up)
    assert all(f" container create {created.id} (" in line for line in lines)

    everyone_up = await cli("-H", up[0], "-H", up[1], "ps", "-q", "-a",
                            "-f", f"label={LABEL}={label}")  # fmt: skip
    assert (everyone_up.status, everyone_up.err) == (0, "")
    assert everyone_up.out.split() == [created.id[:12]] * 2

    one_only = await cli("-H", up[0], "-H", up[1], "logs", created.id)
    assert_one_line_error(one_only, 125, "logs works on one host")


# -- the demo ----------------------------------------------------------------------------


def test_demo_says_which_daemon_and_cleans_up(sandbox: Sandbox) -> None:
    """`bash scripts/dev demo` with a daemon that answers: it says so first, shows the
    container's output in order, and removes what it made."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev"), "demo"],
        env=cli_env(DOCKER_HOST=sandbox.unix_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"using the daemon at {sandbox.unix_url}: it answers"
    output = [line.strip() for line in lines if line.startswith("  std")]
    assert output == [
        "stdout: hello from stdout",
        "stderr: and from stderr",
        "stdout: back on stdout",
    ]
    assert "pruned 1 container(s)" in done.stdout
    assert "removed aiodockerapi-tour/busybox:latest" in done.stdout


def test_demo_without_a_daemon_starts_a_sandbox(tmp_path: Path) -> None:
    down = f"unix://{tmp_path}/down.sock"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "dev"), "demo"],
        env=cli_env(DOCKER_HOST=down),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"no daemon at {down}: starting a private sandbox daemon"
    assert lines[1].startswith("using the private sandbox daemon")
