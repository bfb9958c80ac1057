"""aiodockerapi.progress: plain lines off a terminal, layers redrawn in place on one (tmux)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aiodockerapi import Docker, DockerStreamError, NotFound, buildkit
from aiodockerapi.buildkit import BuildFailed
from aiodockerapi.models import BuildInfo, CreateImageInfo, ImageID, PushImageInfo
from aiodockerapi.progress import render as render_module
from aiodockerapi.progress.display import ProgressDisplay, show_progress

from .jsonvalues import check_in_band
from .registry import Registry, containerd_image_store, registry  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PAUSE = {"pause": True}
RECORDED = ROOT / "tests" / "data" / "buildkit"  # raw BuildKit builds, see record.py there
FLAVOURS = sorted({p.name.split("-")[0] for p in RECORDED.glob("*.jsonl")})

# A pull as the daemon streams it, cut short: progress of two layers, one waiting, and a
# pause (for the terminal test) while the second is half downloaded.
CANNED_PULL: list[dict[str, Any]] = [
    {"status": "Pulling from team/app", "id": "1.0"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbbbbbbbbbbb"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "cccccccccccc"},
    {"status": "Waiting", "progressDetail": {}, "id": "cccccccccccc"},
    *(
        {
            "status": "Downloading",
            "progressDetail": {"current": step * 20_000, "total": 2_000_000},
            "progress": "[=>   ]",
            "id": "aaaaaaaaaaaa",
        }
        for step in range(0, 101, 10)
    ),
    {"status": "Download complete", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    *(
        {
            "status": "Downloading",
            "progressDetail": {"current": step * 30_000, "total": 3_000_000},
            "id": "bbbbbbbbbbbb",
        }
        for step in range(0, 51, 5)
    ),
    PAUSE,
    *(
        {
            "status": "Downloading",
            "progressDetail": {"current": step * 30_000, "total": 3_000_000},
            "id": "bbbbbbbbbbbb",
        }
        for step in range(55, 101, 5)
    ),
    {"status": "Download complete", "progressDetail": {}, "id": "bbbbbbbbbbbb"},
    {
        "status": "Extracting",
        "progressDetail": {"current": 2_000_000, "total": 2_000_000},
        "id": "aaaaaaaaaaaa",
    },
    {"status": "Pull complete", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
    {"status": "Pull complete", "progressDetail": {}, "id": "bbbbbbbbbbbb"},
    {"status": "Already exists", "progressDetail": {}, "id": "cccccccccccc"},
    {"status": "Digest: sha256:" + "d" * 64},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/team/app:1.0"},
]

PLAIN_PULL = [
    "1.0: Pulling from team/app",
    "aaaaaaaaaaaa: Pulling fs layer",
    "bbbbbbbbbbbb: Pulling fs layer",
    "cccccccccccc: Pulling fs layer",
    "cccccccccccc: Waiting",
    "aaaaaaaaaaaa: Downloading",
    "aaaaaaaaaaaa: Download complete",
    "bbbbbbbbbbbb: Downloading",
    "bbbbbbbbbbbb: Download complete",
    "aaaaaaaaaaaa: Extracting",
    "aaaaaaaaaaaa: Pull complete",
    "bbbbbbbbbbbb: Pull complete",
    "cccccccccccc: Already exists",
    "Digest: sha256:" + "d" * 64,
    "Status: Downloaded newer image for 127.0.0.1:5000/team/app:1.0",
]

# Renders CANNED_PULL (one JSON object a line in argv[1]) through show_progress, after
# writing its pid to argv[2]; with --pause it stops at the pause mark until SIGUSR1.
SCRIPT = """\
import asyncio
import os
import signal
import sys

import msgspec

from aiodockerapi.models import CreateImageInfo
from aiodockerapi.progress import show_progress


async def messages(go):
    with open(sys.argv[1], "rb") as f:
        for line in f:
            if b'"pause"' in line:
                if "--pause" in sys.argv:
                    await go.wait()
                continue
            yield msgspec.json.decode(line, type=CreateImageInfo)


async def main():
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
    go = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go.set)
    summary = await show_progress(messages(go))
    print(f"digest={summary.digest} messages={summary.messages}")


asyncio.run(main())
"""


def decoded(raw: list[dict[str, Any]], kind: type[Any] = CreateImageInfo) -> list[Any]:
    return [msgspec.convert(m, kind) for m in raw if m is not PAUSE]


async def iterate(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


# -- plain lines -------------------------------------------------------------------------


async def test_plain_lines_change_only_with_a_layers_status() -> None:
    out = io.StringIO()
    summary = await show_progress(iterate(decoded(CANNED_PULL)), out)
    assert out.getvalue().splitlines() == PLAIN_PULL
    assert summary.digest == "sha256:" + "d" * 64
    assert summary.messages == len(CANNED_PULL) - 1
    assert summary.image_id is None


async def test_a_push_digest_from_its_last_line_or_aux() -> None:
    digest = "sha256:" + "a" * 64
    # containerd's image store ends a push on this line, with no aux message after it.
    containerd: list[dict[str, Any]] = [
        {"status": "The push refers to repository [127.0.0.1:5000/team/app]"},
        {"status": "Pushed", "progressDetail": {}, "id": "aaaaaaaaaaaa"},
        {"status": f"1.0: digest: {digest} size: 943"},
    ]
    out = io.StringIO()
    summary = await show_progress(iterate(decoded(containerd, PushImageInfo)), out)
    assert summary.digest == digest
    assert out.getvalue().splitlines()[-1] == f"1.0: digest: {digest} size: 943"
    # The classic store repeats it in aux, which wins.
    classic = [*containerd, {"progressDetail": {}, "aux": {"Tag": "1.0", "Digest": digest}}]
    classic[-2] = {"status": "1.0: digest: sha256:" + "b" * 64 + " size: 943"}
    summary = await show_progress(iterate(decoded(classic, PushImageInfo)), io.StringIO())
    assert summary.digest == digest
    # A layer's status never counts as a push's digest line.
    layer: list[dict[str, Any]] = [{"status": f"x: digest: {digest} size: 1", "id": "aaaaaaaaaaaa"}]
    summary = await show_progress(iterate(decoded(layer, PushImageInfo)), io.StringIO())
    assert summary.digest is None


def test_plain_is_the_default_off_a_terminal(tmp_path: Path) -> None:
    with open(tmp_path / "out.txt", "w") as file:
        display = ProgressDisplay(file)
        assert not display.live
        with display:
            for message in decoded(CANNED_PULL[:6]):
                display.update(message)
    assert (tmp_path / "out.txt").read_text().splitlines() == PLAIN_PULL[:6]


async def test_build_output_is_written_by_whole_lines_without_colours() -> None:
    raw: list[dict[str, Any]] = [
        {"stream": "Step 1/2 : FROM scratch\n"},
        {"stream": " ---> Running in 0123456789ab\n"},
        {"stream": "\x1b[91mcomplaint on stderr\n\x1b[0m"},
        {"stream": "half a "},
        {"stream": "line\nand a tail"},
        {"aux": {"ID": "sha256:" + "e" * 64}},
    ]
    out = io.StringIO()
    summary = await show_progress(iterate(decoded(raw, BuildInfo)), out)
    assert out.getvalue() == (
        "Step 1/2 : FROM scratch\n"
        " ---> Running in 0123456789ab\n"
        "complaint on stderr\n"
        "half a line\n"
        "and a tail\n"
    )
    assert summary.image_id == "sha256:" + "e" * 64


async def test_an_error_in_the_stream_is_raised_after_what_came_before() -> None:
    messages = [
        BuildInfo(stream="Step 1/1 : RUN false\n"),
        BuildInfo(error="The command '/bin/sh -c false' returned a non-zero code: 1"),
        BuildInfo(stream="never shown\n"),
    ]
    out = io.StringIO()
    with pytest.raises(DockerStreamError, match="returned a non-zero code: 1"):
        await show_progress(iterate(messages), out)
    assert out.getvalue() == "Step 1/1 : RUN false\n"


async def test_leaving_early_closes_the_stream() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[BuildInfo]:
        try:
            while True:
                yield BuildInfo(stream="more\n")
        finally:
            closed.set()

    def stop(message: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await show_progress(endless(), io.StringIO(), on_message=stop)
    assert closed.is_set()


async def test_without_rich_a_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich.console", None)  # import rich.console fails
    out = io.StringIO()
    display = ProgressDisplay(out, tty=True)
    assert not display.live
    with display:
        for message in decoded(CANNED_PULL):
            display.update(message)
    assert out.getvalue().splitlines() == PLAIN_PULL


def test_a_closed_display_refuses_more() -> None:
    display = ProgressDisplay(io.StringIO())
    display.close()
    with pytest.raises(RuntimeError, match="closed"):
        display.update(BuildInfo(stream="late\n"))


# -- the terminal display, in tmux -------------------------------------------------------


class Tmux:
    """One detached tmux session of a fixed size on a private server socket."""

    def __init__(self, directory: Path, width: int = 100, height: int = 45) -> None:
        self.socket = directory / "tmux.sock"
        self.status_file = directory / "exit-status"
        self.width = width
        self.height = height
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "TMUX"))}
        self.env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            LANG="C.UTF-8",
            LC_ALL="C.UTF-8",
        )
        self.env.pop("COLUMNS", None)
        self.env.pop("LINES", None)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, *command: str, env: dict[str, str] | None = None) -> None:
        """Run `command` in the session's one pane, which stays when it exits.

        The pane's shell writes the command's exit status to a file: tmux reaps its
        children on SIGCHLD, which is not always in time to read the status from tmux.
        """
        self.env.update(env or {})
        self.tmux(
            "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
            "sleep 600",
        )  # fmt: skip
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")
        status = shlex.quote(str(self.status_file))
        self.tmux("respawn-pane", "-k", "-t", "t", f"{shlex.join(command)}; echo $? >{status}")

    def screen(self) -> list[str]:
        """What the terminal shows (and what scrolled off it), trailing blanks dropped."""
        text = self.tmux("capture-pane", "-p", "-t", "t", "-S", "-")
        lines = [line.rstrip() for line in text.splitlines()]
        lines = [line for line in lines if not line.startswith("Pane is dead")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    async def wait_for(self, text: str, timeout: float = 120) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if any(text in line for line in screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen:\n" + "\n".join(screen))
            await asyncio.sleep(0.05)

    async def wait_exit(self, timeout: float = 300) -> int:
        """The exit status of the pane's command, once it has ended."""
        deadline = time.monotonic() + timeout
        while not (self.status_file.exists() and self.status_file.read_text().endswith("\n")):
            if time.monotonic() > deadline:
                raise AssertionError("still running:\n" + "\n".join(self.screen()))
            await asyncio.sleep(0.05)
        return int(self.status_file.read_text())

    def close(self) -> None:
        if self.socket.exists():
            subprocess.run(
                ["tmux", "-S", str(self.socket), "kill-server"],
                capture_output=True,
                env=self.env,
                timeout=30,
                check=False,
            )


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is missing: apt-get install tmux", pytrace=False)
    session = Tmux(tmp_path)
    try:
        yield session
    finally:
        session.close()


def only(screen: list[str], text: str) -> str:
    """The one line of the screen that contains `text`."""
    found = [line for line in screen if text in line]
    assert len(found) == 1, f"{text!r} on {len(found)} lines:\n" + "\n".join(screen)
    return found[0]


async def test_terminal_redraws_layers_in_place(tmux: Tmux, tmp_path: Path) -> None:
    canned = tmp_path / "pull.jsonl"
    canned.write_text("".join(json.dumps(m) + "\n" for m in CANNED_PULL))
    script = tmp_path / "render.py"
    script.write_text(SCRIPT)
    pid_file = tmp_path / "render.pid"
    tmux.start(sys.executable, str(script), str(canned), str(pid_file), "--pause")

    # Paused half way: a bar, the bytes and the percentage of the layer being downloaded.
    screen = await tmux.wait_for("50%")
    downloading = only(screen, "bbbbbbbbbbbb: Downloading")
    assert "1.5 MB/3.0 MB" in downloading and downloading.endswith("50%")
    assert "━" in downloading
    done = only(screen, "aaaaaaaaaaaa: Download complete")
    assert "━" not in done and "%" not in done
    only(screen, "cccccccccccc: Waiting")
    assert screen[0] == "1.0: Pulling from team/app"

    os.kill(int(pid_file.read_text()), signal.SIGUSR1)
    assert await tmux.wait_exit() == 0
    screen = tmux.screen()
    # Each layer kept one line, updated in place; the lines without a layer follow them.
    assert screen == [
        "1.0: Pulling from team/app",
        "aaaaaaaaaaaa: Pull complete",
        "bbbbbbbbbbbb: Pull complete",
        "cccccccccccc: Already exists",
        "Digest: sha256:" + "d" * 64,
        "Status: Downloaded newer image for 127.0.0.1:5000/team/app:1.0",
        f"digest=sha256:{'d' * 64} messages={len(CANNED_PULL) - 1}",
    ]


async def test_terminal_build_pulling_its_base_image(
    tmux: Tmux,
    docker: Docker,
    image: str,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`aiodockerapi build` on a terminal: the base image's layers as redrawn lines (pulled
    from the test registry with the Docker config's credentials), then the RUN output."""
    unique = uuid.uuid4().hex
    base = registry.image(f"aiodockerapi/progress-{unique[:8]}:base")
    tag = f"aiodockerapi-test/progress-{unique[:8]}:built"
    base_ctx = tmp_path / "base"
    base_ctx.mkdir()
    (base_ctx / "Dockerfile").write_text(f"FROM {image}\nCOPY unique.bin /\n")
    (base_ctx / "unique.bin").write_bytes(os.urandom(3_000_000))
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        f"FROM {base}\nRUN echo first-run-step && wc -c /unique.bin\nRUN echo complaint >&2\n"
    )
    config = tmp_path / "docker-config"
    config.mkdir()
    auth = f"{registry.username}:{registry.password}".encode()
    token = base64.b64encode(auth).decode()
    (config / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": token}}}))
    containerd = await containerd_image_store(docker)
    try:
        async for _ in docker.images.build(base_ctx, t=base, networkmode="none"):
            pass
        pushed = await show_progress(
            docker.images.push(base, auth=registry.credentials), io.StringIO()
        )
        assert pushed.digest is not None and pushed.digest.startswith("sha256:")
        await docker.images.delete(base)

        tmux.start(
            sys.executable, "-m", "aiodockerapi", "--host", docker.host,
            "build", "--builder", "classic", "--network", "none", "-t", tag, str(ctx),
            env={"DOCKER_CONFIG": str(config)},
        )  # fmt: skip
        assert await tmux.wait_exit() == 0, "\n".join(tmux.screen())
        screen = tmux.screen()
        assert screen[0] == f"Step 1/3 : FROM {base}"
        assert screen[1] == "base: Pulling from " + base.partition("/")[2].rpartition(":")[0]
        pulled = [line for line in screen[2:] if line.endswith((": Pull complete", "exists"))]
        layers = [line.partition(":")[0] for line in pulled]
        # The classic store lists busybox's two layers ("Already exists") and the COPY's;
        # containerd's image store does not mention the layers it has: the COPY's only.
        assert len(layers) == (1 if containerd else 3)
        assert sum(line.endswith(": Pull complete") for line in pulled) == 1
        for layer in layers:
            only(screen, layer + ":")  # one line each, redrawn in place
        status = screen.index(f"Status: Downloaded newer image for {base}")
        assert screen[status - 1] == f"Digest: {pushed.digest}"
        assert screen[status + 1].startswith(" ---> ")
        assert screen[status + 2] == "Step 2/3 : RUN echo first-run-step && wc -c /unique.bin"
        assert "first-run-step" in screen
        assert "3000000 /unique.bin" in screen
        assert "complaint" in screen
        assert screen[-2] == f"Successfully tagged {tag}"
        assert screen[-1] == (await docker.images.inspect(tag)).id  # then the image id
    finally:
        for ref in (tag, base):
            try:
                await docker.images.delete(ref, force=True)
            except NotFound:
                pass


# -- a real load -------------------------------------------------------------------------


@pytest.fixture
async def saved_image(docker: Docker, image: str, tmp_path: Path) -> AsyncIterator[str]:
    """A tag of an image with a layer of its own; deleted afterwards."""
    tag = f"aiodockerapi-test/progress-load-{uuid.uuid4().hex[:8]}:1"
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\nCOPY unique.bin /\n")
    (tmp_path / "unique.bin").write_bytes(os.urandom(1_000_000))
    async for _ in docker.images.build(tmp_path, t=tag, networkmode="none"):
        pass
    yield tag
    try:
        await docker.images.delete(tag, force=True)
    except NotFound:
        pass


@pytest.mark.daemon
@pytest.mark.parametrize("tty", [False, True])
async def test_load_progress(docker: Docker, saved_image: str, tty: bool) -> None:
    tar = b"".join([chunk async for chunk in docker.images.get(saved_image)])
    await docker.images.delete(saved_image)
    out = io.StringIO()
    summary = await show_progress(docker.images.load(tar), out, tty=tty)
    assert (await docker.images.inspect(saved_image)).id is not None
    text = out.getvalue()
    containerd = await containerd_image_store(docker)
    if containerd:
        # containerd's image store reports no progress of a load, only what it loaded.
        assert text.splitlines() == [f"Loaded image: {saved_image}"]
    elif tty:
        # The layer's line ends full: a whole bar and 100%; then the image's name.
        layer_line = [line for line in text.splitlines() if "Loading layer" in line][-1]
        assert "100%" in layer_line and "━" in layer_line
        assert f"Loaded image: {saved_image}" in text
    else:
        lines = text.splitlines()
        assert len(lines) == 2 and lines[0].endswith(": Loading layer")
        assert lines[1] == f"Loaded image: {saved_image}"
    assert summary.messages == 1 if containerd else summary.messages >= 2


def test_image_id_from_aux() -> None:
    display = ProgressDisplay(io.StringIO())
    display.update(BuildInfo(aux=ImageID(id="sha256:" + "f" * 64)))
    display.close()
    assert display.summary().image_id == "sha256:" + "f" * 64


# -- BuildKit builds, from recordings ----------------------------------------------------

ONE = "[one 1/1] RUN echo hello-from-one && echo one > /one"
FAILED = "[stage-1 2/3] RUN sh -c 'echo boom >&2; exit 3'"


def recorded(flavour: str, name: str) -> list[BuildInfo]:
    """A recorded BuildKit build's messages, as images.build decodes them."""
    body = (RECORDED / f"{flavour}-{name}.jsonl").read_bytes()
    return [msgspec.json.decode(line, type=BuildInfo) for line in body.splitlines() if line]


def blocks(text: str) -> dict[int, list[str]]:
    """Plain BuildKit lines by step number: each step's lines after its `#N `."""
    out: dict[int, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            number, _, rest = line[1:].partition(" ")
            out.setdefault(int(number), []).append(rest)
    return out


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_buildkit_plain_lines(flavour: str) -> None:
    """buildx's --progress=plain: `#N name` starts a step's lines, `#N 0.123 output`, then
    `#N DONE 0.1s`; a blank line between steps; no escapes."""
    messages = recorded(flavour, "ok")
    out = io.StringIO()
    summary = await show_progress(iterate(messages), out)
    text = out.getvalue()
    assert "\x1b" not in text
    want = next(m.aux for m in messages if m.id == buildkit.IMAGE_ID)
    assert isinstance(want, ImageID) and summary.image_id == want.id
    steps = blocks(text)
    names = {lines[0]: n for n, lines in steps.items()}
    assert set(names) >= {ONE, "[base 1/2] COPY busybox /bin/busybox", "exporting to image"}
    assert list(steps) == list(range(1, len(steps) + 1))  # numbered as they start
    for lines in steps.values():
        # Each step: its name (again after another step's lines), output, one end.
        ends = [line for line in lines if line.startswith(("DONE ", "CACHED", "ERROR"))]
        assert len(ends) == 1 and re.fullmatch(r"DONE \d+\.\ds", ends[0]), lines
        assert lines[-1] == ends[0]
    output, done = [line for line in steps[names[ONE]] if line != ONE]
    assert re.fullmatch(r"\d+\.\d{3} hello-from-one", output) and done.startswith("DONE ")
    export = steps[names["exporting to image"]]
    assert export[1] == "exporting layers" or re.fullmatch(
        r"exporting layers \d+\.\ds done", export[1]
    )
    assert re.fullmatch(r"writing image sha256:[0-9a-f]{64}( \d+\.\ds)? done", export[2])
    assert export[3].startswith("naming to docker.io/library/record-ok") and export[3].endswith(
        " done"
    )
    # A new step's header comes after a blank line, never right after another's lines.
    lines = text.splitlines()
    for i, line in enumerate(lines[1:], 1):
        if line.startswith("#") and lines[i - 1].startswith("#"):
            assert line.split()[0] == lines[i - 1].split()[0], lines[i - 1 : i + 1]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("raised", [False, True])
async def test_buildkit_plain_failure(flavour: str, raised: bool) -> None:
    """The failed step ends with `#N ERROR: ...` after its output; the error raised names it
    (whether the daemon's error comes as a message or the stream raises it)."""
    messages: AsyncIterator[BuildInfo] = iterate(recorded(flavour, "fail"))
    if raised:
        messages = check_in_band(messages)
    out = io.StringIO()
    with pytest.raises(BuildFailed) as caught:
        await show_progress(messages, out)
    assert str(caught.value).startswith(FAILED + ": ") and caught.value.log == ["boom"]
    steps = blocks(out.getvalue())
    failed = next(lines for lines in steps.values() if lines[0] == FAILED)
    assert re.fullmatch(r"\d+\.\d{3} boom", failed[1])
    assert failed[-1].startswith("ERROR: ") and failed[-1].endswith("exit code: 3")
    assert not any(lines[0] == "[stage-1 3/3] RUN touch /never" for lines in steps.values())


async def test_buildkit_without_protobuf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_module, "protobuf_available", lambda: False)
    out = io.StringIO()
    display = ProgressDisplay(out)
    with display:
        for message in recorded(FLAVOURS[-1], "ok"):
            display.update(message)
    assert out.getvalue().splitlines() == [
        "(BuildKit build: showing its steps needs protobuf, pip install 'aiodockerapi[buildkit]')"
    ]
    assert display.build is None and display.image_id is not None


def test_buildkit_state_of_the_display() -> None:
    display = ProgressDisplay(io.StringIO())
    for message in recorded(FLAVOURS[0], "ok"):
        display.update(message)
    display.close()
    assert display.build is not None
    assert {s.state for s in display.build.steps} == {"done"}


BUILD_SCRIPT = """\
import asyncio
import os
import signal
import sys

import msgspec

from aiodockerapi.models import BuildInfo
from aiodockerapi.progress import show_progress


async def messages(go):
    with open(sys.argv[1], "rb") as f:
        for line in f:
            if b'"pause"' in line:
                await go.wait()
                continue
            await asyncio.sleep(0.01)
            yield msgspec.json.decode(line, type=BuildInfo)


async def main():
    with open(sys.argv[2], "w") as f:
        f.write(str(os.getpid()))
    go = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go.set)
    summary = await show_progress(messages(go))
    print(f"id={summary.image_id}")


asyncio.run(main())
"""


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_buildkit_terminal_display(tmux: Tmux, tmp_path: Path, flavour: str) -> None:
    """A recorded build replayed on a terminal: paused while a step runs, its output shows
    under it and its clock moves; at the end every started step has its time, FINISHED."""
    raw = (RECORDED / f"{flavour}-ok.jsonl").read_bytes().splitlines()
    at = next(
        i
        for i, line in enumerate(raw)
        if (t := buildkit.trace_of(json.loads(line))) is not None
        and any(log.data == b"hello-from-one\n" for log in t.logs)
    )
    canned = tmp_path / "build.jsonl"
    canned.write_bytes(b"\n".join([*raw[: at + 1], b'{"pause": true}', *raw[at + 1 :]]) + b"\n")
    script = tmp_path / "render.py"
    script.write_text(BUILD_SCRIPT)
    pid_file = tmp_path / "render.pid"
    tmux.start(sys.executable, str(script), str(canned), str(pid_file))

    screen = await tmux.wait_for("# hello-from-one")
    assert re.fullmatch(r"\[\+\] Building \d+\.\ds \(4/\d+\)", screen[0]), screen
    running = only(screen, f" => {ONE}")
    assert re.search(r" \d+\.\ds$", running)
    assert screen[screen.index(running) + 1] == " => => # hello-from-one"
    await asyncio.sleep(0.5)
    later = only(tmux.screen(), f" => {ONE}")
    assert float(later.split()[-1][:-1]) > float(running.split()[-1][:-1])  # the clock runs

    os.kill(int(pid_file.read_text()), signal.SIGUSR1)
    assert await tmux.wait_exit() == 0
    screen = tmux.screen()
    head = next(i for i, line in enumerate(screen) if line.startswith("[+] Building"))
    assert re.fullmatch(r"\[\+\] Building \d+\.\ds \(9/9\) FINISHED", screen[head]), screen
    frame = screen[head + 1 : -1]
    assert all(re.fullmatch(r" => .* \d+\.\ds", line) for line in frame), frame
    assert f" => {ONE}" in [line.rsplit(" ", 1)[0].rstrip() for line in frame]
    assert any(line.startswith(" => => writing image sha256:") for line in frame)
    assert not any("# hello-from-one" in line for line in screen)
    assert screen[-1].startswith("id=sha256:")
    if flavour == "20.10":  # its build says so in a stream message, printed above the steps
        assert screen[head - 1] == "Successfully tagged record-ok:latest"
