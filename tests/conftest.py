"""Fixtures: one private dockerd for the session, a client per test, a busybox test image."""

from __future__ import annotations

import asyncio
import faulthandler
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker, NotFound

from .sandbox import API_VERSION, FLAVOUR, Sandbox, SandboxError

# The newest API version this run's daemon speaks, which the client then speaks too.
DAEMON_API = API_VERSION

BUSYBOX = Path("/bin/busybox")
TEST_IMAGE = "aiodockerapi-test/busybox:latest"
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


# How each daemon's debug log names a request it serves, path without the query string:
#   dockerd up to 27:  msg="Calling GET /v1.41/containers/json?all=1"
#   dockerd 28:        msg="handling GET request" method=GET ... request-url="/v1.51/...?all=1"
#   podman (access log): "GET /v1.41/containers/json?all=1 HTTP/1.1" 200
_CALLED = re.compile(
    r'msg="Calling (?P<method>[A-Z]+) (?P<path>[^"?]+)(?:\?[^"]*)?"'
    r'|msg="handling (?P<method28>[A-Z]+) request"[^\n]*? request-url='
    r'(?:"(?P<path28q>[^"?]+)[^"]*"|(?P<path28>[^\s"?]+))'
    r'|\] "(?P<methodp>[A-Z]+) (?P<pathp>[^ "?]+)(?:\?[^ "]*)? HTTP/1\.[01]" \d{3} '
)
_served: list[tuple[str, str]] = []
_running: list[Sandbox] = []


def _calls_in(log: Path) -> list[tuple[str, str]]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return [
        (
            m["method"] or m["method28"] or m["methodp"],
            m["path"] or m["path28q"] or m["path28"] or m["pathp"],
        )
        for m in _CALLED.finditer(text)
    ]


def served_api_calls() -> list[tuple[str, str]]:
    """(method, path) of every API request the test daemons served so far, from their logs."""
    return _served + [call for box in _running for call in _calls_in(box.log_path)]


@contextmanager
def running_sandbox(
    *, tls: bool = False, extra_args: tuple[str, ...] = (), flavour: str | None = None
) -> Iterator[Sandbox]:
    """Start a private dockerd (logging each API call) or fail the test saying why."""
    box = Sandbox(tls=tls, extra_args=("--debug", *extra_args), flavour=flavour)
    try:
        box.start()
    except SandboxError as exc:
        box.stop()
        pytest.fail(f"the test dockerd could not start: {exc}", pytrace=False)
    _running.append(box)
    try:
        yield box
    finally:
        _running.remove(box)
        _served.extend(_calls_in(box.log_path))
        box.stop()


HANG_AFTER = 300.0  # seconds
_REAL_STDERR = pytest.StashKey[int]()


def _real_stderr(config: pytest.Config) -> int:
    """A descriptor for the terminal's stderr, not pytest's capture of fd 2.

    While a test runs, fd 2 (and sys.__stderr__, which writes to it) is pytest's capture
    file, shown only when the test *finishes*; a hang that ends the process loses it. So
    take a dup of fd 2 once, with capturing suspended.
    """
    fd = config.stash.get(_REAL_STDERR, None)
    if fd is None:
        capman = config.pluginmanager.getplugin("capturemanager")
        if capman is None:  # -p no:capture
            fd = os.dup(2)
        else:
            with capman.global_and_fixture_disabled():
                fd = os.dup(2)
        config.stash[_REAL_STDERR] = fd
    return fd


def _report_hang(fd: int, nodeid: str, main: int | None) -> None:
    """Name the stuck test and show its asyncio tasks' stacks (the main thread's own stack,
    which faulthandler prints next, is only the event loop waiting)."""
    with open(os.dup(fd), "w", errors="replace") as out:
        out.write(f"\n=== hang_guard: {nodeid} still running after {HANG_AFTER:.0f} s ===\n")
        frame = sys._current_frames().get(main or 0)
        while frame is not None and not isinstance(
            frame.f_locals.get("self"), asyncio.AbstractEventLoop
        ):
            frame = frame.f_back
        if frame is not None:
            try:
                for task in asyncio.all_tasks(frame.f_locals["self"]):
                    task.print_stack(file=out)
            except Exception as exc:  # a diagnostic: never mask the dump that follows
                out.write(f"(could not list the asyncio tasks: {exc!r})\n")
        out.write("=== every thread's stack, then exit ===\n")


@pytest.fixture(autouse=True)
def hang_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test still running after 5 minutes is stuck: name it, print its asyncio tasks' and
    every thread's stack to the real stderr, and exit, rather than let CI wait out its whole
    budget."""
    fd = _real_stderr(request.config)
    report = threading.Timer(
        HANG_AFTER - 1,
        _report_hang,
        (fd, request.node.nodeid, threading.main_thread().ident),
    )
    report.daemon = True
    report.start()
    # The backstop works even if Python code is wedged holding the GIL.
    faulthandler.dump_traceback_later(HANG_AFTER, exit=True, file=fd)
    yield
    faulthandler.cancel_dump_traceback_later()
    report.cancel()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A private dockerd on a unix socket and a --tlsverify TCP listener; never skipped."""
    with running_sandbox(tls=True) as box:
        yield box


@pytest.fixture
async def docker(sandbox: Sandbox) -> AsyncIterator[Docker]:
    async with Docker(sandbox.unix_url) as client:
        yield client


@pytest.fixture(scope="session")
def busybox_context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory build context that copies the static busybox into a scratch image."""
    if not BUSYBOX.exists():
        pytest.fail("/bin/busybox is missing: install Debian's busybox-static", pytrace=False)
    ctx = tmp_path_factory.mktemp("busybox-context")
    shutil.copy(BUSYBOX, ctx / "busybox")
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


@pytest.fixture(scope="session")
async def image(sandbox: Sandbox, busybox_context: Path) -> str:
    """The test image, built by the library's own images.build."""
    async with Docker(sandbox.unix_url) as client:
        async for _ in client.images.build(busybox_context, t=TEST_IMAGE, pull=False):
            pass
    return TEST_IMAGE


@pytest.fixture
def label() -> str:
    """A label value unique to one test, so filters and prunes touch only its containers."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def repo(docker: Docker, label: str) -> AsyncIterator[str]:
    """A repository name unique to the test; its tags are removed afterwards."""
    name = f"aiodockerapi-test/repo{label}"
    yield name
    for img in await docker.images.list(all=True):
        for tag in img.repo_tags or []:
            if tag.startswith(name + ":"):
                try:
                    await docker.images.delete(tag, force=True)
                except NotFound:
                    pass


def container_config(image: str, *cmd: str, **extra: Any) -> dict[str, Any]:
    """A create body for a container with no network."""
    host_config = {"NetworkMode": "none", **extra.pop("HostConfig", {})}
    return {"Image": image, "Cmd": list(cmd), "HostConfig": host_config, **extra}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the sandbox daemon `daemon`; run tests/test_coverage.py last:
    it checks which API calls the rest of the run made.

    Its tests listed in WHOLE_SUITE_ONLY are deselected unless the run holds tests of every
    tests/test_*.py module: on a partial run they could only list what was left out. With
    AIODOCKERAPI_DAEMON_TESTS_ONLY=1 (CI's passes over the newer daemons) only the daemon
    tests and test_coverage.py run: the others do not depend on the daemon, and ran in the
    first pass. That counts as a whole run for WHOLE_SUITE_ONLY, as the daemon saw every
    call the whole suite makes of it.
    """
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.daemon)
    present = {item.path for item in items}
    # Slow scenarios that test the client more than the daemon run on the flavours they name.
    elsewhere = [
        i
        for i in items
        if (mark := i.get_closest_marker("flavours")) is not None and FLAVOUR not in mark.args
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        gone = set(map(id, elsewhere))
        items[:] = [i for i in items if id(i) not in gone]
    if os.environ.get("AIODOCKERAPI_DAEMON_TESTS_ONLY") == "1":
        rest = [
            i for i in items if i.get_closest_marker("daemon") is None and i.path.name != COVERAGE
        ]
        config.hook.pytest_deselected(items=rest)
        kept = set(map(id, rest))
        items[:] = [i for i in items if id(i) not in kept]
    last = [item for item in items if item.path.name == COVERAGE]
    if not last:
        return
    if not all(path in present for path in Path(__file__).parent.glob("test_*.py")):
        partial = [i for i in last if i.name in getattr(i.module, "WHOLE_SUITE_ONLY", ())]
        config.hook.pytest_deselected(items=partial)
        last = [i for i in last if i not in partial]
    items[:] = [i for i in items if i.path.name != COVERAGE] + last


COVERAGE = "test_coverage.py"
