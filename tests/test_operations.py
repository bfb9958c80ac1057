"""The generated operation table (aiodockerapi/operations.py), and the typed models as user
code sees them: a README-style script type-checked with mypy --strict.

Comparing the table with the specs is `python tools/genops.py --check` (.ci/run calls it
where ../shared exists); these tests need no specs.
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from aiodockerapi import models, operations
from aiodockerapi.operation import BASE_VERSION, Operation, Param

REPO_ROOT = Path(__file__).resolve().parents[1]
OPS = operations.OPERATIONS


def test_one_constant_per_operation() -> None:
    assert len(OPS) == 108
    assert list(OPS) == sorted(OPS)
    for op_id, op in OPS.items():
        assert isinstance(op, Operation)
        assert op.id == op_id and getattr(operations, op_id) is op
    assert set(operations.__all__) == {"OPERATIONS", *OPS}


def test_methods_and_paths() -> None:
    routes = [(op.method, op.path) for op in OPS.values()]
    assert len(set(routes)) == len(routes)
    for op in OPS.values():
        assert op.method in {"GET", "POST", "PUT", "DELETE", "HEAD"}
        assert op.path.startswith("/")
        names = re.findall(r"\{([^{}]+)\}", op.path)
        assert list(op.path_params) == names
        assert "{" not in re.sub(r"\{[^{}]+\}", "", op.path)


def test_versions_within_range() -> None:
    for op in OPS.values():
        assert BASE_VERSION <= op.since <= (1, 55)
        for param in op.query:
            assert op.since <= param.since <= (1, 55), (op.id, param)


def test_query_keywords_are_snake_case() -> None:
    for op in OPS.values():
        names = [p.name for p in op.query]
        assert len(set(names)) == len(names)
        for p in op.query:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", p.name), (op.id, p)
            assert not keyword.iskeyword(p.name)
            assert p.wire and re.sub(r"[^a-z0-9]", "", p.wire.lower()) == p.name.replace("_", "")


def _param(op: Operation, name: str) -> Param:
    return next(p for p in op.query if p.name == name)


def test_known_facts() -> None:
    assert operations.ImageAttestations.since == (1, 55)
    assert operations.VolumeUpdate.since == (1, 42)
    assert operations.ContainerList.since == BASE_VERSION
    assert _param(operations.ContainerStop, "signal").since == (1, 42)
    assert _param(operations.ContainerStop, "t").since == BASE_VERSION
    assert any(p.wire == "manifests" for p in operations.ImageList.query)
    assert _param(operations.ImageList, "shared_size").wire == "shared-size"
    assert _param(operations.ContainerStart, "detach_keys").wire == "detachKeys"
    assert _param(operations.ImageCreate, "from_image").wire == "fromImage"
    assert _param(operations.SystemDataUsage, "type").multi
    assert not _param(operations.ContainerList, "all").multi
    # Errata: BuildKit's version parameter works on 1.41 daemons.
    assert _param(operations.ImageBuild, "version").since == BASE_VERSION
    assert operations.ContainerInspect.path == "/containers/{id}/json"
    assert operations.ContainerList.python == "docker.containers.list"
    assert all(op.python.startswith("docker.") for op in OPS.values())


def test_body_and_result_name_models() -> None:
    assert operations.ContainerList.result == "list[ContainerSummary]"
    assert operations.ContainerCreate.result == "ContainerCreateResponse"
    assert operations.ContainerWait.result == "ContainerWaitResponse"
    assert operations.SystemEvents.result == "EventMessage"
    assert operations.ContainerStart.result is None
    namespace = {name: getattr(models, name) for name in models.__all__}
    for op in OPS.values():
        for text in (op.body, op.result):
            if text is not None:
                msgspec.json.Decoder(eval(text, namespace))  # a type the models define


def test_binding() -> None:
    req = operations.ContainerList(all=True, limit=None, filters={"status": ["exited"]})
    assert (req.method, req.path, req.needs) == ("GET", "/containers/json", None)
    assert req.params == [("all", "1"), ("filters", '{"status":["exited"]}')]
    stop = operations.ContainerStop("abc", signal="SIGTERM", t=3)
    assert stop.path == "/containers/abc/stop"
    assert stop.needs == (1, 42) and stop.needed_by == "the parameter 'signal'"
    assert operations.ContainerStop("abc", t=3).needs is None
    update = operations.VolumeUpdate("v1", version=7)
    assert update.path == "/volumes/v1" and update.needs == (1, 42)
    df = operations.SystemDataUsage(type=["images", "volumes"])
    assert df.params == [("type", "images"), ("type", "volumes")]
    images = operations.ImageList(shared_size=True)
    assert images.params == [("shared-size", "1")]
    # A value equal to the daemon's default is left out; another is sent.
    assert operations.ContainerInspect("abc", size=False).params is None
    assert operations.ContainerInspect("abc", size=True).params == [("size", "1")]
    assert operations.ContainerStats("abc", stream=True).params is None
    assert operations.ContainerLogs("abc", tail="all", stdout=True).params == [("stdout", "1")]
    # ImageLoad's quiet: the spec says false, the daemon reads it absent as true.
    assert operations.ImageLoad(quiet=False).params == [("quiet", "0")]
    assert operations.ImageLoad(quiet=True).params is None
    # A left-out default needs no newer API: manifests came with 1.47.
    assert operations.ImageList(manifests=False).needs is None
    assert operations.ImageList(manifests=True).needs == (1, 47)
    with pytest.raises(TypeError):
        operations.ContainerList(bogus=1)
    with pytest.raises(TypeError):
        operations.ContainerInspect()


USER_SCRIPT = """\
import asyncio

from aiodockerapi import Docker
from aiodockerapi.models import EventMessage


async def main() -> None:
    async with Docker() as docker:
        info = await docker.system.info()
        running: int = info.containers_running + info.containers_paused
        print(info.server_version.upper(), running, info.ncpu * 2)
        version = await docker.system.version()
        print(version.api_version.split("."), version.platform.name)
        for c in await docker.containers.list(all=True, filters={"status": "exited"}):
            first: str = c.names[0]
            print(c.id[:12], first.lstrip("/"), c.state, c.created + 1, c.image_id)
        created = await docker.containers.create({"Image": "busybox", "Cmd": ["true"]})
        short: str = created.id[:12]
        await docker.containers.start(created.id)
        wait = await docker.containers.wait(created.id)
        code: int = wait.status_code
        prune = await docker.containers.prune()
        freed: int = prune.space_reclaimed // 1024
        print(short, code, freed)
        for image in await docker.images.list():
            print(image.id, image.created, image.size + 0)
        async for event in docker.system.events(filters={"type": "container"}):
            message: EventMessage = event
            actor_id: str = message.actor.id
            name: str | None = event.actor.attributes.get("name")
            print(event.type.upper(), event.action, actor_id, name, event.time_nano // 1000)
            break


asyncio.run(main())
"""


def test_user_script_type_checks(tmp_path: Path) -> None:
    """The models' plain fields need no None checks in user code under mypy --strict."""
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    result = _mypy(script, tmp_path)
    assert result.returncode == 0, textwrap.indent(result.stdout + result.stderr, "  ")


def test_mypy_sees_optional_fields(tmp_path: Path) -> None:
    """The check above is not vacuous: a field that can be null is Optional to mypy."""
    script = tmp_path / "bad.py"
    script.write_text(
        "from aiodockerapi.models import ContainerSummary, Volume\n"
        "def f(c: ContainerSummary, v: Volume) -> int:\n"
        "    n = len(c.labels)\n"
        "    return n + len(v.labels)\n"
    )
    result = _mypy(script, tmp_path)
    assert result.returncode == 1
    assert result.stdout.count("[arg-type]") == 2, result.stdout


def _mypy(script: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # --follow-imports=silent: only the script's errors; the library itself is checked by
    # `scripts/dev lint`.
    args = ["--strict", "--follow-imports=silent", "--no-incremental"]
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args, "--cache-dir", str(tmp_path / "cache"), str(script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


SAMPLES: list[object] = [None, True, False, 0, 7, "x", "all", "SIGKILL", ["a", "b"], {"k": ["v"]}]


def test_generated_binding_is_the_generic_one() -> None:
    """Each operation's generated bind function gives the Request the generic binding gives
    (Operation.bind_any, which reads the table), for every parameter and sample value."""
    for op in OPS.values():
        args = ["abc"] * len(op.path_params)
        assert op(*args) == op.bind_any(*args), op
        for param in op.query:
            for value in SAMPLES:
                try:
                    expected = op.bind_any(*args, **{param.name: value})
                except (TypeError, ValueError) as exc:
                    with pytest.raises(type(exc)):
                        op(*args, **{param.name: value})
                    continue
                assert op(*args, **{param.name: value}) == expected, (op, param, value)
        newer = [p for p in op.query if p.since > op.since]
        if len(newer) >= 2:  # the newest given is the one named
            given = {p.name: "x" for p in newer}
            assert op(*args, **given) == op.bind_any(*args, **given), op
