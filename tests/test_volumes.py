"""docker.volumes against the real daemon."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from aiodockerapi import BadRequest, Conflict, Docker, NotFound
from aiodockerapi.models import Volume, VolumeConfig

from .conftest import container_config
from .sandbox import ENGINE_VERSION

pytestmark = pytest.mark.daemon

DATA_SIZE = 100_000
# Since dockerd 23.0 (moby#44216) the daemon labels every volume it names itself with this,
# at any API version: 26.1 and 28.5 do, 20.10 adds no label.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
ANONYMOUS_LABELS = {} if ENGINE_VERSION < (23, 0) else {ANONYMOUS_LABEL: ""}
# The daemon's message for a filter it doesn't know: dockerd 20.10 capitalises it ("Invalid
# filter 'colour'"), 26.1 and 28.5 don't ("invalid filter 'colour'"), at any API version.
INVALID_FILTER = "Invalid filter" if ENGINE_VERSION < (26, 1) else "invalid filter"


@pytest.fixture
async def cleanup(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's volumes and containers; whatever carries them is removed."""
    labels = {"aiodockerapi.test": label}
    yield labels
    mine = {"label": f"aiodockerapi.test={label}"}
    for c in await docker.containers.list(all=True, filters=mine):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True)
    for v in (await docker.volumes.list(filters=mine)).volumes or []:
        assert v.name is not None
        await docker.volumes.delete(v.name)


async def run_with(
    docker: Docker, image: str, labels: dict[str, str], *cmd: str, **extra: object
) -> str:
    """Run a container to completion; return its id (the caller decides when to remove it)."""
    created = await docker.containers.create(container_config(image, *cmd, Labels=labels, **extra))
    assert created.id is not None
    await docker.containers.start(created.id)
    assert (await docker.containers.wait(created.id)).status_code == 0
    return created.id


def names(volumes: Iterable[Volume]) -> set[str | None]:
    return {v.name for v in volumes}


async def spoken(docker: Docker) -> tuple[int, ...]:
    """The API version the client speaks to the daemon, as a tuple of ints."""
    await docker.transport.negotiated_version()
    assert docker.api_version is not None
    return tuple(int(n) for n in docker.api_version.split("."))


async def test_create_inspect_list_delete(
    docker: Docker, cleanup: dict[str, str], label: str
) -> None:
    name = f"vol-{label}"
    options = {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
    created = await docker.volumes.create({"Name": name, "Labels": cleanup, "DriverOpts": options})
    assert created.name == name
    assert created.driver == "local"
    assert created.scope == "local"
    assert created.labels == cleanup
    assert created.options == options
    assert created.mountpoint is not None and created.mountpoint.endswith(f"/{name}/_data")
    assert created.created_at

    assert await docker.volumes.inspect(name) == created

    mine = {"label": f"aiodockerapi.test={label}"}
    listed = await docker.volumes.list(filters=mine)
    assert [v.name for v in listed.volumes or []] == [name]
    assert listed.warnings in (None, [])
    by_name = await docker.volumes.list(filters={"name": name, "driver": "local"})
    assert [v.name for v in by_name.volumes or []] == [name]

    await docker.volumes.delete(name)
    with pytest.raises(NotFound, match="no such volume"):
        await docker.volumes.inspect(name)
    assert (await docker.volumes.list(filters=mine)).volumes in (None, [])


async def test_create_from_struct_anonymous_and_existing(
    docker: Docker, cleanup: dict[str, str], label: str
) -> None:
    anonymous = await docker.volumes.create(VolumeConfig(labels=cleanup))
    assert anonymous.name is not None and re.fullmatch("[0-9a-f]{64}", anonymous.name)
    assert anonymous.labels == {**cleanup, **ANONYMOUS_LABELS}

    name = f"named-{label}"
    first = await docker.volumes.create(VolumeConfig(name=name, driver="local", labels=cleanup))
    assert first.name == name
    # Creating a name that exists returns the existing volume, labels and all, unchanged.
    again = await docker.volumes.create({"Name": name, "Labels": {"other": "labels"}})
    assert again == first
    assert first.labels == cleanup  # a named volume is never labelled anonymous

    listed = await docker.volumes.list(filters={"label": f"aiodockerapi.test={label}"})
    assert names(listed.volumes or []) == {anonymous.name, name}

    unlabelled = await docker.volumes.create()
    assert unlabelled.name is not None and re.fullmatch("[0-9a-f]{64}", unlabelled.name)
    assert (unlabelled.labels or {}) == ANONYMOUS_LABELS
    await docker.volumes.delete(unlabelled.name)


async def test_invalid_create_is_rejected(docker: Docker, label: str) -> None:
    with pytest.raises(BadRequest, match="invalid characters"):
        await docker.volumes.create({"Name": f"bad/{label}"})
    assert (await docker.volumes.list(filters={"name": label})).volumes in (None, [])


async def test_dangling_filter(
    docker: Docker, image: str, cleanup: dict[str, str], label: str
) -> None:
    used, unused = f"used-{label}", f"unused-{label}"
    await docker.volumes.create({"Name": used, "Labels": cleanup})
    await docker.volumes.create({"Name": unused, "Labels": cleanup})
    await docker.containers.create(
        container_config(image, "true", Labels=cleanup, HostConfig={"Binds": [f"{used}:/data"]})
    )
    mine = f"aiodockerapi.test={label}"
    dangling = await docker.volumes.list(filters={"label": mine, "dangling": "true"})
    assert names(dangling.volumes or []) == {unused}
    in_use = await docker.volumes.list(filters={"label": mine, "dangling": False})
    assert names(in_use.volumes or []) == {used}


async def test_delete_in_use_is_conflict_and_force(
    docker: Docker, image: str, cleanup: dict[str, str], label: str
) -> None:
    name = f"busy-{label}"
    await docker.volumes.create({"Name": name, "Labels": cleanup})
    created = await docker.containers.create(
        container_config(image, "true", Labels=cleanup, HostConfig={"Binds": [f"{name}:/data"]})
    )
    assert created.id is not None
    with pytest.raises(Conflict, match="volume is in use") as caught:
        await docker.volumes.delete(name)
    assert caught.value.status == 409
    assert created.id in caught.value.message
    with pytest.raises(Conflict):  # force does not override use
        await docker.volumes.delete(name, force=True)
    assert (await docker.volumes.inspect(name)).name == name

    await docker.containers.delete(created.id)
    await docker.volumes.delete(name)
    with pytest.raises(NotFound, match="no such volume"):
        await docker.volumes.delete(name)
    await docker.volumes.delete(name, force=True)  # force: a missing volume is no error


async def test_prune_removes_unused_named_and_anonymous_volumes(
    docker: Docker, image: str, cleanup: dict[str, str], label: str
) -> None:
    mine = {"label": f"aiodockerapi.test={label}"}
    full, empty, busy = f"full-{label}", f"empty-{label}", f"busy-{label}"
    for name in (full, empty, busy):
        await docker.volumes.create({"Name": name, "Labels": cleanup})
    keeper = await docker.volumes.create(
        {"Name": f"keeper-{label}", "Labels": {"aiodockerapi.test": f"other-{label}"}}
    )
    assert keeper.name is not None
    try:
        writer = await run_with(
            docker,
            image,
            cleanup,
            "sh",
            "-c",
            f"head -c {DATA_SIZE} /dev/zero > /full/data && echo x > /anon/data",
            HostConfig={
                "Binds": [f"{full}:/full"],
                "Mounts": [
                    {"Type": "volume", "Target": "/anon", "VolumeOptions": {"Labels": cleanup}}
                ],
            },
        )
        info = await docker.containers.inspect(writer)
        anon = [m.name for m in info.mounts or [] if m.destination == "/anon"]
        assert len(anon) == 1 and anon[0] is not None
        # Whether the daemon labels the anonymous volume of a HostConfig.Mounts entry as it
        # does one made by POST /volumes/create: 28.5 does; 26.1 doesn't (moby#48748,
        # reported against 27.2); 20.10 labels none.
        anon_labelled = ENGINE_VERSION >= (28, 0)
        assert (await docker.volumes.inspect(anon[0])).labels == (
            {**cleanup, ANONYMOUS_LABEL: ""} if anon_labelled else cleanup
        )
        await docker.containers.delete(writer)
        await docker.containers.create(
            container_config(image, "true", Labels=cleanup, HostConfig={"Binds": [f"{busy}:/b"]})
        )

        # Volumes in use stay. API 1.41 prunes every unused local volume, named ones too
        # (dockerd 20.10 knows no all filter); from API 1.42 a prune removes only volumes
        # labelled anonymous unless the all filter is true.
        if await spoken(docker) < (1, 42):
            pruned = await docker.volumes.prune(filters=mine)
            assert set(pruned.volumes_deleted or []) == {full, empty, anon[0]}
            assert pruned.space_reclaimed is not None and pruned.space_reclaimed >= DATA_SIZE
        else:
            labelled = {anon[0]} if anon_labelled else set()
            anonymous_only = await docker.volumes.prune(filters=mine)
            assert set(anonymous_only.volumes_deleted or []) == labelled
            reclaimed = anonymous_only.space_reclaimed
            assert reclaimed is not None and reclaimed < DATA_SIZE  # "x\n", if anything
            assert (reclaimed > 0) == anon_labelled
            left = names((await docker.volumes.list(filters=mine)).volumes or [])
            assert left == {full, empty, busy, anon[0]} - labelled
            pruned = await docker.volumes.prune(filters={**mine, "all": True})
            assert set(pruned.volumes_deleted or []) == {full, empty, anon[0]} - labelled
            assert pruned.space_reclaimed is not None and pruned.space_reclaimed >= DATA_SIZE
        assert names((await docker.volumes.list(filters=mine)).volumes or []) == {busy}
        assert (await docker.volumes.inspect(keeper.name)).name == keeper.name

        again = await docker.volumes.prune(filters=mine)
        assert again.volumes_deleted in (None, [])
        assert again.space_reclaimed == 0
    finally:
        await docker.volumes.delete(keeper.name)


async def test_prune_filters(docker: Docker, cleanup: dict[str, str], label: str) -> None:
    kept, gone = f"kept-{label}", f"gone-{label}"
    await docker.volumes.create({"Name": kept, "Labels": {**cleanup, "keep": "yes"}})
    await docker.volumes.create({"Name": gone, "Labels": cleanup})
    filters: dict[str, object] = {"label": f"aiodockerapi.test={label}", "label!": "keep=yes"}
    if await spoken(docker) >= (1, 42):
        # From API 1.42 named volumes are pruned only with all=true: without it, neither goes.
        assert (await docker.volumes.prune(filters=filters)).volumes_deleted in (None, [])
        assert (await docker.volumes.inspect(gone)).name == gone
        filters["all"] = True
    pruned = await docker.volumes.prune(filters=filters)
    assert pruned.volumes_deleted == [gone]
    assert (await docker.volumes.inspect(kept)).name == kept
    # Volume prunes take no until filter (API 1.41 to 1.51).
    with pytest.raises(BadRequest, match=f"{INVALID_FILTER} 'until'"):
        await docker.volumes.prune(filters={"label": f"aiodockerapi.test={label}", "until": "1h"})
    assert (await docker.volumes.inspect(kept)).name == kept


async def test_bad_filters(docker: Docker, tmp_path: Path) -> None:
    # No daemon listens there: a request would be a DockerConnectionError, not a ValueError.
    async with Docker(f"unix://{tmp_path}/absent.sock") as offline:
        with pytest.raises(ValueError, match="'dangling'"):
            await offline.volumes.list(filters={"dangling": 1.0})
        with pytest.raises(ValueError, match="'label'"):
            await offline.volumes.prune(filters={"label": [None]})
    with pytest.raises(BadRequest, match=f"{INVALID_FILTER} 'colour'"):
        await docker.volumes.list(filters={"colour": "blue"})
