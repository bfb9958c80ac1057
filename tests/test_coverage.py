"""Every Engine API operation has its method, and the test suite calls each one for real.

The operations come from the generated table, aiodockerapi/operations.py (108, API 1.55).
conftest.py runs this module last. Its served-calls check reads the debug logs of the test
daemons (`served_api_calls()`), so it only means something after the whole suite: on a run
of some modules only, conftest.py deselects it (see WHOLE_SUITE_ONLY).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import re
import typing
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, UnionType
from typing import Any

import pytest

from aiodockerapi import Docker
from aiodockerapi.operations import OPERATIONS
from aiodockerapi.resources.base import Resource

from .conftest import served_api_calls
from .sandbox import Sandbox

REPO_ROOT = Path(__file__).resolve().parents[1]
GENDOCS = REPO_ROOT / "tools" / "gendocs.py"
REFERENCE = REPO_ROOT / "docs" / "reference.md"

WHOLE_SUITE_ONLY = ("test_every_operation_was_called",)

# Operations the suite cannot make this daemon serve, with the reason: {operationId: why}.
# Every operation reaches the daemons here, even those that end in an error (a session
# without an h2c upgrade, a search of a registry without a search API), so none is exempt,
# but for those newer than the API version the daemon speaks: tests/test_api_versions.py
# shows each of those raising DockerVersionError before any request.
NOT_CALLED: dict[str, str] = {}

# Path segments that hold names which may contain '/' (repository paths, plugin references
# such as 127.0.0.1:5000/team/plugin:tag): their {name} matches across slashes.
_SLASHED_NAMES = ("/images/", "/distribution/", "/plugins/")
_VERSION_PREFIX = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")


@dataclass(frozen=True)
class Operation:
    """One row of the operations table."""

    operation_id: str
    method: str
    path: str
    python: str  # docker.<resource>.<name>
    since: tuple[int, int] = (1, 41)

    @property
    def resource(self) -> str:
        return self.python.split(".")[1]

    @property
    def name(self) -> str:
        return self.python.split(".")[2]

    def path_regex(self) -> re.Pattern[str]:
        slashed = self.path.startswith(_SLASHED_NAMES)
        parts = re.split(r"(\{[^}]+\})", self.path)
        regex = "".join(
            (".+" if slashed and part == "{name}" else "[^/]+")
            if part.startswith("{")
            else re.escape(part)
            for part in parts
        )
        return re.compile(regex)

    def served_by(self, method: str, path: str) -> bool:
        """Whether a request the daemon logged as `method path` was this operation."""
        path = _VERSION_PREFIX.sub("", path)
        return method == self.method and self.path_regex().fullmatch(path) is not None

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.path}, {self.python})"


@pytest.fixture(scope="module")
def operations() -> list[Operation]:
    ops = [Operation(op.id, op.method, op.path, op.python, op.since) for op in OPERATIONS.values()]
    bad = [op.python for op in ops if not re.fullmatch(r"docker\.\w+\.\w+", op.python)]
    assert not bad, f"not docker.<resource>.<name>: {bad}"
    return ops


_ITERATORS: tuple[Any, ...] = (AsyncIterator, AsyncIterable, AsyncGenerator)


def call_style(func: Callable[..., Any]) -> str | None:
    """How a method is used: "await", "async for" or "async with"; None if none of them."""
    inner = inspect.unwrap(func)
    if inner is not func and inspect.isasyncgenfunction(inner):
        return "async with"  # an @asynccontextmanager
    if inspect.iscoroutinefunction(func):
        return "await"
    if inspect.isasyncgenfunction(func):
        return "async for"
    try:
        result = typing.get_type_hints(func).get("return")
    except Exception:  # an annotation that does not resolve says nothing either
        return None
    # exec.start gives an Attach (entered with async with), or with detach an awaitable.
    for option in typing.get_args(result) if typing.get_origin(result) is UnionType else [result]:
        origin = typing.get_origin(option) or option
        if origin in _ITERATORS or hasattr(origin, "__aiter__"):
            return "async for"
        if origin is contextlib.AbstractAsyncContextManager or hasattr(origin, "__aenter__"):
            return "async with"
    return None


async def test_every_operation_has_its_method(operations: list[Operation]) -> None:
    assert len(operations) == 108
    problems: list[str] = []
    async with Docker("unix:///nonexistent/docker.sock") as docker:
        for op in operations:
            resource = getattr(docker, op.resource, None)
            func = getattr(resource, op.name, None)
            if resource is None or not callable(func):
                problems.append(f"{op}: no such method")
                continue
            if call_style(func) is None:
                problems.append(
                    f"{op}: neither a coroutine function nor one returning an async iterator "
                    "or async context manager"
                )
            doc = inspect.getdoc(func)
            if not doc:
                problems.append(f"{op}: no docstring")
            elif not doc.startswith(f"{op.method} {op.path}"):
                first = doc.splitlines()[0]
                problems.append(f"{op}: docstring starts {first!r}, not '{op.method} {op.path}'")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


async def test_every_operation_was_called(operations: list[Operation], sandbox: Sandbox) -> None:
    async with Docker(sandbox.unix_url) as docker:
        spoken = tuple(map(int, (await docker.transport.negotiated_version()).split(".")))
    too_new = [op for op in operations if op.since > spoken]
    operations = [op for op in operations if op.since <= spoken]
    known = {op.operation_id for op in operations}
    assert set(NOT_CALLED) <= known, f"unknown operations in NOT_CALLED: {set(NOT_CALLED) - known}"
    served = set(served_api_calls())
    assert served, "the test daemons logged no API call: are they run with --debug?"

    def called(op: Operation) -> bool:
        return any(op.served_by(method, path) for method, path in served)

    missing = [op for op in operations if op.operation_id not in NOT_CALLED and not called(op)]
    stale = [op for op in operations if op.operation_id in NOT_CALLED and called(op)]
    message = ""
    print(f"API {spoken}: not served for being newer:", ", ".join(map(str, too_new)) or "none")
    if missing:
        message += (
            f"{len(missing)} of {len(operations)} operations were never served by a test "
            "daemon during this run:\n" + "\n".join(f"  {op}" for op in missing) + "\n"
        )
    if stale:
        message += "called after all, so no longer exempt in NOT_CALLED:\n" + "\n".join(
            f"  {op}" for op in stale
        )
    assert not message, message


@pytest.mark.parametrize(
    ("operation", "served", "expected"),
    [
        ("GET /images/{name}/json", "GET /v1.41/images/127.0.0.1:5000/a/b:1/json", True),
        ("GET /images/{name}/json", "GET /v1.41/images/json", False),
        ("DELETE /images/{name}", "DELETE /v1.41/images/team/app:latest", True),
        ("GET /images/get", "GET /v1.41/images/app/get", False),
        ("POST /plugins/{name}/enable", "POST /v1.41/plugins/team/p:latest/enable", True),
        ("GET /distribution/{name}/json", "GET /v1.41/distribution/a/b/c/json", True),
        ("GET /containers/{id}/json", "GET /v1.41/containers/json", False),
        ("GET /containers/{id}/json", "GET /v1.41/containers/abc/json", True),
        ("GET /containers/{id}/json", "GET /v1.41/containers/a/b/json", False),
        ("GET /containers/{id}/json", "POST /v1.41/containers/abc/json", False),
        ("GET /volumes/{name}", "GET /v1.41/volumes/v1", True),
        ("GET /volumes/{name}", "GET /v1.41/volumes/a/b", False),
        ("HEAD /_ping", "HEAD /_ping", True),
        ("GET /_ping", "GET /v1.41/_ping/x", False),
    ],
)
def test_served_paths_match_operations(operation: str, served: str, expected: bool) -> None:
    op = Operation("Op", *operation.split(), "docker.x.y")
    assert op.served_by(*served.split()) is expected


def _load_gendocs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_gendocs_under_test", GENDOCS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_docs_are_current() -> None:
    fresh = _load_gendocs().render()
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.is_file() else ""
    assert committed == fresh, f"{REFERENCE} is stale: run `python tools/gendocs.py`"


def test_reference_docs_list_every_operation(operations: list[Operation]) -> None:
    text = _load_gendocs().render()
    assert text == _load_gendocs().render(), "the reference must not change from run to run"
    headings = set(re.findall(r"^### (docker\.\w+\.\w+)$", text, re.MULTILINE))
    assert {op.python for op in operations} <= headings


def test_reference_docs_list_every_public_method() -> None:
    """What a resource gets from its mixins (builds, archives, the recipes) is listed under it."""
    text = _load_gendocs().render()
    headings = set(re.findall(r"^### (docker\.\w+\.\w+)$", text, re.MULTILINE))
    docker = Docker("unix:///nonexistent/docker.sock")
    resources = [(n, getattr(docker, n)) for n in vars(Docker) if not n.startswith("_")]
    expected = {
        f"docker.{name}.{method}"
        for name, resource in resources
        if isinstance(resource, Resource)
        for method in dir(resource)
        if not method.startswith("_") and inspect.isfunction(getattr(type(resource), method))
    }
    assert {"docker.images.build", "docker.containers.run", "docker.images.ensure"} <= expected
    assert expected - headings == set()


def test_gendocs_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gendocs = _load_gendocs()
    target = tmp_path / "reference.md"
    assert gendocs.main(["--check", "--output", str(target)]) == 1
    assert gendocs.main(["--output", str(target)]) == 0
    assert gendocs.main(["--check", "--output", str(target)]) == 0
    target.write_text(target.read_text() + "edited\n")
    assert gendocs.main(["--check", "--output", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err
