"""docker.networks against the real daemon.

The sandbox runs with --bridge=none and --iptables=false: user-defined "bridge" networks
still work (created Internal here, so nothing is routed off the host), while "overlay" needs
a swarm and "null"/"host" exist once only. Containers attached to them send no traffic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aiodockerapi import BadRequest, Conflict, Docker, DockerError, NotFound, ServerError
from aiodockerapi.models import (
    IPAM,
    EndpointSettings,
    IPAMConfig,
    NetworkConnectBody,
    NetworkCreateBody,
    NetworkDisconnectBody,
)

from .conftest import container_config
from .sandbox import ENGINE_VERSION, Sandbox

pytestmark = pytest.mark.daemon

# The daemon's message for a filter it doesn't know: dockerd 20.10 capitalises it ("Invalid
# filter 'colour'"), 26.1 and 28.5 don't ("invalid filter 'colour'"), at any API version.
INVALID_FILTER = "Invalid filter" if ENGINE_VERSION < (26, 1) else "invalid filter"


@pytest.fixture
async def cleanup(docker: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's networks and containers; whatever carries them is removed."""
    labels = {"aiodockerapi.test": label}
    yield labels
    mine = {"label": f"aiodockerapi.test={label}"}
    for c in await docker.containers.list(all=True, filters=mine):
        assert c.id is not None
        await docker.containers.delete(c.id, force=True)
    for n in await docker.networks.list(filters=mine):
        assert n.id is not None
        await docker.networks.delete(n.id)


def internal(name: str, labels: dict[str, str]) -> dict[str, object]:
    return {"Name": name, "Driver": "bridge", "Internal": True, "Labels": labels}


async def attached(docker: Docker, container: str) -> set[str]:
    """Names of the networks a container is attached to, as the container sees it."""
    info = await docker.containers.inspect(container)
    assert info.network_settings is not None
    return set(info.network_settings.networks or {})


async def test_create_inspect_list_delete(
    docker: Docker, cleanup: dict[str, str], label: str
) -> None:
    name = f"net-{label}"
    created = await docker.networks.create(internal(name, cleanup))
    assert created.id is not None and len(created.id) == 64
    assert created.warning in (None, "")

    by_id = await docker.networks.inspect(created.id)
    assert by_id.name == name
    assert by_id.driver == "bridge"
    assert by_id.internal is True
    assert by_id.scope == "local"
    assert by_id.labels == cleanup
    assert by_id.containers == {}
    assert by_id.ipam is not None and by_id.ipam.config and by_id.ipam.config[0].subnet
    assert (await docker.networks.inspect(name)).id == created.id
    assert (await docker.networks.inspect(created.id[:12])).id == created.id

    mine = {"label": f"aiodockerapi.test={label}"}
    assert [n.id for n in await docker.networks.list(filters=mine)] == [created.id]
    assert [n.name for n in await docker.networks.list(filters={"name": name})] == [name]
    custom = await docker.networks.list(filters={"type": "custom", "driver": "bridge"})
    assert created.id in {n.id for n in custom}
    builtin = await docker.networks.list(filters={"type": "builtin"})
    assert {"none", "host"} <= {n.name for n in builtin}
    assert created.id not in {n.id for n in builtin}

    await docker.networks.delete(name)
    with pytest.raises(NotFound, match="not found"):
        await docker.networks.inspect(created.id)
    assert await docker.networks.list(filters=mine) == []


async def test_create_from_struct_with_ipam(
    docker: Docker, cleanup: dict[str, str], label: str
) -> None:
    # 198.18.0.0/15 is reserved for benchmarking: no real route on the host uses it.
    third = random.randrange(256)
    subnet, gateway = f"198.18.{third}.0/24", f"198.18.{third}.1"
    body = NetworkCreateBody(
        name=f"ipam-{label}",
        internal=True,
        check_duplicate=True,
        labels={**cleanup, "role": "typed"},
        options={"com.docker.network.driver.mtu": "1400"},
        ipam=IPAM(driver="default", config=[IPAMConfig(subnet=subnet, gateway=gateway)]),
    )
    created = await docker.networks.create(body)
    assert created.id is not None
    net = await docker.networks.inspect(created.id)
    assert net.driver == "bridge"  # the API's default driver
    assert net.internal is True
    assert net.labels == {**cleanup, "role": "typed"}
    assert net.options == {"com.docker.network.driver.mtu": "1400"}
    assert net.ipam is not None and net.ipam.driver == "default"
    assert [(c.subnet, c.gateway) for c in net.ipam.config or []] == [(subnet, gateway)]


async def test_inspect_verbose_and_scope(
    docker: Docker, sandbox: Sandbox, cleanup: dict[str, str], label: str
) -> None:
    created = await docker.networks.create(internal(f"scope-{label}", cleanup))
    assert created.id is not None
    verbose = await docker.networks.inspect(created.id, verbose=True)
    assert verbose.id == created.id and verbose.internal is True
    # Verbose adds only swarm details, so a local network looks the same: the daemon's debug
    # log shows that the parameter arrived.
    assert f'/networks/{created.id}?verbose=1"' in sandbox.log_path.read_text()
    local = await docker.networks.inspect(created.id, scope="local")
    assert local.id == created.id
    # The network exists, but not in the swarm scope: the daemon says it isn't there.
    with pytest.raises(NotFound):
        await docker.networks.inspect(created.id, scope="swarm")


async def test_duplicate_names(docker: Docker, cleanup: dict[str, str], label: str) -> None:
    name = f"dup-{label}"
    first = await docker.networks.create(internal(name, cleanup))
    assert first.id is not None
    with pytest.raises(Conflict, match="already exists") as caught:
        await docker.networks.create({**internal(name, cleanup), "CheckDuplicate": True})
    assert caught.value.status == 409

    if ENGINE_VERSION < (25, 0):
        # Without CheckDuplicate, dockerd 20.10 creates a second network and only warns.
        second = await docker.networks.create(internal(name, cleanup))
        assert second.id is not None and second.id != first.id
        assert second.warning is not None and first.id in second.warning
        named = await docker.networks.list(filters={"name": name})
        assert {n.id for n in named} == {first.id, second.id}
        with pytest.raises(BadRequest, match="ambiguous"):
            await docker.networks.inspect(name)
    else:
        # Since dockerd 25.0 (moby#46251; here 26.1 and 28.5) names are unique whatever
        # CheckDuplicate says (API 1.44 deprecated the field), at every API version.
        for check in (False, None):
            body = internal(name, cleanup)
            if check is not None:
                body["CheckDuplicate"] = check
            with pytest.raises(Conflict, match="already exists") as caught:
                await docker.networks.create(body)
            assert caught.value.status == 409
        named = await docker.networks.list(filters={"name": name})
        assert [n.id for n in named] == [first.id]
        assert (await docker.networks.inspect(name)).id == first.id


async def test_unknown_network_is_not_found(docker: Docker) -> None:
    with pytest.raises(NotFound) as caught:
        await docker.networks.inspect("no-such-network-xyz")
    assert caught.value.status == 404
    assert "no-such-network-xyz" in caught.value.message
    with pytest.raises(NotFound):
        await docker.networks.delete("no-such-network-xyz")


async def test_predefined_networks_cannot_be_removed(docker: Docker) -> None:
    with pytest.raises(DockerError, match="pre-defined") as caught:
        await docker.networks.delete("none")
    assert caught.value.status == 403
    assert (await docker.networks.inspect("none")).driver == "null"


async def test_connect_and_disconnect_a_stopped_container(
    docker: Docker, image: str, cleanup: dict[str, str], label: str
) -> None:
    home, extra = f"home-{label}", f"extra-{label}"
    await docker.networks.create(internal(home, cleanup))
    await docker.networks.create(internal(extra, cleanup))
    created = await docker.containers.create(
        container_config(image, "true", Labels=cleanup, HostConfig={"NetworkMode": home})
    )
    cid = created.id
    assert cid is not None
    assert await attached(docker, cid) == {home}

    await docker.networks.connect(
        extra, {"Container": cid, "EndpointConfig": {"Aliases": [f"alias-{label}"]}}
    )
    assert await attached(docker, cid) == {home, extra}
    info = await docker.containers.inspect(cid)
    assert info.network_settings is not None and info.network_settings.networks is not None
    assert f"alias-{label}" in (info.network_settings.networks[extra].aliases or [])

    await docker.networks.disconnect(extra, NetworkDisconnectBody(container=cid))
    assert await attached(docker, cid) == {home}
    with pytest.raises(ServerError, match="is not connected"):
        await docker.networks.disconnect(extra, {"Container": cid})

    # A container in network mode none can join no other network.
    isolated = await docker.containers.create(container_config(image, "true", Labels=cleanup))
    assert isolated.id is not None
    with pytest.raises(BadRequest, match="none"):
        await docker.networks.connect(extra, NetworkConnectBody(container=isolated.id))
    with pytest.raises(NotFound, match="No such container"):
        await docker.networks.connect(extra, {"Container": f"no-such-container-{label}"})


async def test_connect_and_disconnect_a_running_container(
    docker: Docker, image: str, cleanup: dict[str, str], label: str
) -> None:
    home, extra = f"home-{label}", f"extra-{label}"
    home_id = (await docker.networks.create(internal(home, cleanup))).id
    extra_id = (await docker.networks.create(internal(extra, cleanup))).id
    assert home_id is not None and extra_id is not None
    created = await docker.containers.create(
        container_config(image, "sleep", "300", Labels=cleanup, HostConfig={"NetworkMode": home}),
        name=f"runner-{label}",
    )
    cid = created.id
    assert cid is not None
    await docker.containers.start(cid)

    on_home = (await docker.networks.inspect(home)).containers or {}
    assert list(on_home) == [cid]
    assert on_home[cid].name == f"runner-{label}"

    body = NetworkConnectBody(container=cid, endpoint_config=EndpointSettings(aliases=["web"]))
    await docker.networks.connect(extra_id, body)
    on_extra = (await docker.networks.inspect(extra)).containers or {}
    assert list(on_extra) == [cid]
    assert on_extra[cid].ipv4_address and on_extra[cid].endpoint_id
    assert await attached(docker, cid) == {home, extra}
    # (A stopped container may be connected to a network that doesn't exist yet; a running
    # one may not.)
    with pytest.raises(NotFound, match="network no-such-network-xyz not found"):
        await docker.networks.connect("no-such-network-xyz", {"Container": cid})

    # Networks in use are neither removed nor pruned.
    with pytest.raises(DockerError, match="active endpoints") as caught:
        await docker.networks.delete(extra_id)
    assert caught.value.status == 403
    pruned = await docker.networks.prune(filters={"label": f"aiodockerapi.test={label}"})
    assert pruned.networks_deleted in (None, [])

    await docker.networks.disconnect(extra_id, {"Container": cid, "Force": True})
    assert (await docker.networks.inspect(extra_id)).containers == {}
    assert await attached(docker, cid) == {home}
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and state.running is True


async def test_prune_by_label_and_until(
    docker: Docker, cleanup: dict[str, str], label: str
) -> None:
    ids = set()
    for i in range(2):
        created = await docker.networks.create(internal(f"prune{i}-{label}", cleanup))
        assert created.id is not None
        ids.add(created.id)
    keeper = await docker.networks.create(
        internal(f"keeper-{label}", {"aiodockerapi.test": f"other-{label}"})
    )
    assert keeper.id is not None
    mine = {"label": f"aiodockerapi.test={label}"}
    try:
        # All of them were created within the last hour: an until of 1h prunes none.
        none = await docker.networks.prune(filters={**mine, "until": "1h"})
        assert none.networks_deleted in (None, [])
        assert {n.id for n in await docker.networks.list(filters=mine)} == ids

        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
        pruned = await docker.networks.prune(filters={**mine, "until": later})
        assert set(pruned.networks_deleted or []) == {f"prune0-{label}", f"prune1-{label}"}
        assert await docker.networks.list(filters=mine) == []
        assert (await docker.networks.inspect(keeper.id)).id == keeper.id
    finally:
        await docker.networks.delete(keeper.id)


async def test_bad_filters(docker: Docker, tmp_path: Path) -> None:
    # No daemon listens there: a request would be a DockerConnectionError, not a ValueError.
    async with Docker(f"unix://{tmp_path}/absent.sock") as offline:
        with pytest.raises(ValueError, match="'label'"):
            await offline.networks.list(filters={"label": 1.5})
        with pytest.raises(ValueError, match="'until'"):
            await offline.networks.prune(filters={"until": [1]})
    with pytest.raises(BadRequest, match=f"{INVALID_FILTER} 'colour'"):
        await docker.networks.list(filters={"colour": "blue"})
