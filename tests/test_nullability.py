"""The fields tools/genmodels.py types plainly although Go could send them as null
(ALWAYS_FILLED) are filled by the daemon under test, in its raw JSON; and its answers decode
into the models.  Run on every flavour of the matrix, Podman included (docs/typing.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker
from aiodockerapi import operations as ops

from .conftest import container_config

GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "genmodels.py"

RawObject = dict[str, Any]


def _generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_genmodels_nullability", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# What test_corrections_hold_on_the_daemon proves, per ALWAYS_FILLED entry.
CHECKED = {
    ("ContainerInspectResponse", "State"),
    ("ContainerInspectResponse", "Config"),
    ("ContainerInspectResponse", "HostConfig"),
    ("ContainerInspectResponse", "NetworkSettings"),
    ("ContainerInspectResponse", "Mounts"),
    ("ContainerSummary", "Names"),
    ("ImageInspect", "RepoTags"),
    ("ImageInspect", "RepoDigests"),
    ("EventActor", "Attributes"),
}


def test_every_correction_is_checked() -> None:
    assert set(_generator().ALWAYS_FILLED) == CHECKED


def _filled(raw: RawObject, *keys: str) -> None:
    for key in keys:
        assert raw.get(key) is not None, (key, raw.get(key, "absent"))


@pytest.mark.daemon
async def test_corrections_hold_on_the_daemon(docker: Docker, image: str, label: str) -> None:
    """Raw answers (decoded as plain JSON, not models) have every corrected field, not null:
    a created container, the same one after it ran, its list entry, an untagged and a tagged
    image, and the container's events."""
    labels = {"aiodockerapi.test": label}
    t = docker.transport
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    created = await docker.containers.create(container_config(image, "true", Labels=labels))
    try:
        for _ in range(2):  # created, then exited
            raw = await t.call(ops.ContainerInspect(created.id), RawObject)
            _filled(raw, "State", "Config", "HostConfig", "NetworkSettings", "Mounts")
            assert isinstance(raw["Mounts"], list)
            if raw["State"].get("Status") == "created":
                await docker.containers.start(created.id)
                await asyncio.wait_for(docker.containers.wait(created.id), 30)
        assert raw["State"]["Status"] == "exited"
        listed = await t.call(
            ops.ContainerList(all=True, filters={"label": f"aiodockerapi.test={label}"}),
            list[RawObject],
        )
        assert [c["Id"] for c in listed] == [created.id]
        for c in listed:
            _filled(c, "Names")
        for name in (image, (await docker.images.inspect(image)).id):
            _filled(await t.call(ops.ImageInspect(name), RawObject), "RepoTags", "RepoDigests")
    finally:
        await docker.containers.delete(created.id, force=True)
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    req = ops.SystemEvents(
        since=f"{since.timestamp():.3f}",
        until=f"{until.timestamp():.3f}",
        filters={"container": [created.id]},
    )

    async def collect() -> list[RawObject]:
        return [e async for e in t.stream_json(req, RawObject)]

    events = await asyncio.wait_for(collect(), 30)
    # (Podman says "remove" where dockerd says "destroy".)
    assert {"create", "start", "die"} <= {e.get("Action") for e in events}
    for event in events:
        _filled(event, "Actor")
        _filled(event["Actor"], "Attributes")


@pytest.mark.daemon
async def test_answers_decode(docker: Docker, image: str, label: str) -> None:
    """What a user inspects decodes into the models, plain fields holding the daemon's values
    (swarm objects: tests/test_swarm.py)."""
    labels = {"aiodockerapi.test": label}
    network = await docker.networks.create({"Name": f"n-{label}", "Labels": labels})
    volume = await docker.volumes.create({"Name": f"v-{label}", "Labels": labels})
    created = await docker.containers.create(
        container_config(image, "sleep", "30", Labels=labels, StopSignal="SIGKILL")
    )
    try:
        await docker.containers.start(created.id)
        info = await docker.containers.inspect(created.id, size=True)
        assert info.state.running and info.state.status == "running" and info.state.pid > 0
        assert info.id == created.id and info.name.startswith("/")
        assert info.config.labels is not None and info.config.labels["aiodockerapi.test"] == label
        assert info.host_config.network_mode and info.mounts == []
        exec_id = (await docker.exec.create(created.id, {"Cmd": ["true"]})).id
        exec_info = await docker.exec.inspect(exec_id)
        assert exec_info.container_id == created.id and not exec_info.running
        img = await docker.images.inspect(image)
        assert img.id.startswith("sha256:") and img.root_fs.layers and img.os == "linux"
        net = await docker.networks.inspect(network.id)
        assert net.name == f"n-{label}" and net.driver and net.scope == "local"
        vol = await docker.volumes.inspect(volume.name)
        assert vol.name == f"v-{label}" and vol.mountpoint and vol.driver == "local"
        system = await docker.system.info()
        assert system.containers_running >= 1 and system.ncpu > 0 and system.server_version
        version = await docker.system.version()
        assert version.api_version and version.os == "linux"
        usage = await docker.system.data_usage()
        assert usage.layers_size is None or usage.layers_size >= 0
    finally:
        await docker.containers.delete(created.id, force=True)
        await docker.volumes.delete(volume.name)
        await docker.networks.delete(network.id)
