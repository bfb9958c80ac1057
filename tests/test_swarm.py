"""docker.swarm, services, tasks, nodes, secrets and configs on a real single-node swarm.

The swarm runs on a daemon of its own (not the session sandbox), so nothing of it leaks into
other tests; tests/swarm_fixtures.py says how a swarm is made to fit a sandbox daemon.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from msgspec.structs import replace

from aiodockerapi import (
    BadRequest,
    Conflict,
    Docker,
    DockerError,
    NotFound,
    ServerError,
    StreamType,
)
from aiodockerapi.models import (
    Frame,
    NodeSpec,
    ObjectVersion,
    ServiceSpec,
    ServiceSpecMode,
    ServiceSpecModeReplicated,
    SwarmInitBody,
    SwarmJoinBody,
    SwarmSpecDispatcher,
    SwarmSpecEncryptionConfig,
    SwarmUnlockBody,
    Task,
    TaskSpec,
    TaskSpecContainerSpec,
    TaskSpecPlacement,
)

from .conftest import TEST_IMAGE, running_sandbox
from .sandbox import Sandbox
from .swarm_fixtures import (
    MANAGER_ONLY,
    STOP_GRACE_NS,
    drop_network,
    eventually,
    free_port,
    prepare_gwbridge,
    swarm_daemon,
)

pytestmark = pytest.mark.daemon

ADDR_POOL = "10.231.0.0/16"


@dataclass(frozen=True)
class Cluster:
    box: Sandbox
    port: int  # the manager's swarm listen port on 127.0.0.1
    image: str  # the busybox test image, by id, so that no node tries to pull it
    node_id: str


@pytest.fixture(scope="module")
async def cluster(busybox_context: Path) -> AsyncIterator[Cluster]:
    """A daemon of its own, with the test image, made the manager of a new swarm."""
    with running_sandbox() as box:
        async with Docker(box.unix_url) as docker:
            async for _ in docker.images.build(busybox_context, t=TEST_IMAGE, pull=False):
                pass
            image = (await docker.images.inspect(TEST_IMAGE)).id
            assert image is not None
            port = free_port()
            init = SwarmInitBody(
                listen_addr=f"127.0.0.1:{port}",
                advertise_addr="127.0.0.1",
                default_addr_pool=[ADDR_POOL],
                subnet_size=26,
            )
            async with swarm_daemon(docker, init) as node_id:

                async def ready() -> bool:
                    node = await docker.nodes.inspect(node_id)
                    return node.status is not None and node.status.state == "ready"

                # The node's own record keeps changing (and its version with it) until then.
                await eventually(ready, what="the manager node to be ready")
                yield Cluster(box, port, image, node_id)


@pytest.fixture
async def sw(cluster: Cluster) -> AsyncIterator[Docker]:
    """A client of the swarm manager."""
    async with Docker(cluster.box.unix_url) as client:
        yield client


@pytest.fixture
async def mine(sw: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    """Labels for the test's services, secrets and configs; those left are removed after."""
    labels = {"aiodockerapi.test": label}
    yield labels
    selector = {"label": f"aiodockerapi.test={label}"}
    services = await sw.services.list(filters=selector)
    for service in services:
        assert service.id is not None
        await sw.services.delete(service.id)
    for secret in await sw.secrets.list(filters=selector):
        assert secret.id is not None
        await sw.secrets.delete(secret.id)
    for config in await sw.configs.list(filters=selector):
        assert config.id is not None
        await sw.configs.delete(config.id)

    async def containers_gone() -> bool:
        for service in services:
            task_label = f"com.docker.swarm.service.id={service.id}"
            if await sw.containers.list(all=True, filters={"label": task_label}):
                return False
        return True

    await eventually(containers_gone, what="the services' containers to be removed")


def service_spec(
    image: str, name: str, labels: dict[str, str], *cmd: str, replicas: int = 1
) -> dict[str, Any]:
    """A replicated service running `cmd` on the manager, with no network."""
    return {
        "Name": name,
        "Labels": labels,
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": image,
                "Command": list(cmd),
                "StopGracePeriod": STOP_GRACE_NS,
            },
            "Placement": MANAGER_ONLY,
        },
        "Mode": {"Replicated": {"Replicas": replicas}},
    }


async def running_tasks(docker: Docker, service_id: str, count: int) -> list[Task]:
    """Wait until exactly `count` tasks of the service are meant to run and do."""

    async def check() -> tuple[list[Task]] | None:
        tasks = await docker.tasks.list(filters={"service": service_id, "desired-state": "running"})
        running = [t for t in tasks if t.status is not None and t.status.state == "running"]
        return (running,) if len(tasks) == len(running) == count else None

    (tasks,) = await eventually(check, what=f"{count} running tasks of service {service_id}")
    return tasks


class _Versioned(Protocol):
    version: ObjectVersion | None


def index_of(obj: _Versioned) -> int:
    """The object's version index, which an update must quote."""
    assert obj.version is not None and obj.version.index is not None
    return obj.version.index


async def create(docker: Docker, spec: ServiceSpec | dict[str, Any]) -> str:
    created = await docker.services.create(spec)
    assert created.id is not None
    return created.id


# -- swarm --------------------------------------------------------------------------------------


async def test_swarm_inspect_shows_what_init_set(sw: Docker, cluster: Cluster) -> None:
    swarm = await sw.swarm.inspect()
    assert swarm.default_addr_pool == [ADDR_POOL]
    assert swarm.subnet_size == 26
    assert swarm.spec is not None and swarm.spec.name == "default"
    assert swarm.spec.raft is not None and swarm.spec.raft.election_tick == 10
    assert swarm.join_tokens is not None
    worker, manager = swarm.join_tokens.worker, swarm.join_tokens.manager
    assert worker and worker.startswith("SWMTKN-1-")
    assert manager and manager.startswith("SWMTKN-1-") and manager != worker

    info = await sw.system.info()
    assert info.swarm is not None
    assert info.swarm.local_node_state == "active"
    assert info.swarm.control_available is True
    assert info.swarm.node_id == cluster.node_id
    assert info.swarm.node_addr == "127.0.0.1"
    assert info.swarm.cluster is not None and info.swarm.cluster.id == swarm.id

    again = {"ListenAddr": f"127.0.0.1:{free_port()}", "AdvertiseAddr": "127.0.0.1"}
    with pytest.raises(ServerError, match="already part of a swarm"):
        await sw.swarm.init(again)


async def test_swarm_update_changes_settings_and_rotates_tokens(sw: Docker, label: str) -> None:
    before = await sw.swarm.inspect()
    assert before.spec is not None
    assert before.spec.orchestration is not None and before.join_tokens is not None
    changed = replace(
        before.spec,
        labels={"aiodockerapi.test": label},
        dispatcher=SwarmSpecDispatcher(heartbeat_period=7_000_000_000),
        orchestration=replace(before.spec.orchestration, task_history_retention_limit=3),
    )
    await sw.swarm.update(changed, version=index_of(before), rotate_worker_token=True)
    try:
        after = await sw.swarm.inspect()
        assert after.spec is not None
        assert after.spec.labels == {"aiodockerapi.test": label}
        assert after.spec.dispatcher == SwarmSpecDispatcher(heartbeat_period=7_000_000_000)
        assert after.spec.orchestration is not None
        assert after.spec.orchestration.task_history_retention_limit == 3
        assert after.spec.raft == before.spec.raft  # sent back unchanged, so kept
        assert index_of(after) > index_of(before)
        assert after.join_tokens is not None
        assert after.join_tokens.worker != before.join_tokens.worker
        assert after.join_tokens.manager == before.join_tokens.manager

        with pytest.raises(ServerError, match="update out of sequence"):
            await sw.swarm.update(changed, version=index_of(before))
    finally:
        current = await sw.swarm.inspect()
        await sw.swarm.update(before.spec, version=index_of(current), rotate_manager_token=True)
    restored = await sw.swarm.inspect()
    assert restored.spec == before.spec
    assert restored.join_tokens is not None and current.join_tokens is not None
    assert restored.join_tokens.manager != current.join_tokens.manager
    assert restored.join_tokens.worker == current.join_tokens.worker


async def set_autolock(docker: Docker, on: bool, *, rotate_key: bool = False) -> None:
    swarm = await docker.swarm.inspect()
    assert swarm.spec is not None
    spec = replace(swarm.spec, encryption_config=SwarmSpecEncryptionConfig(auto_lock_managers=on))
    await docker.swarm.update(spec, version=index_of(swarm), rotate_manager_unlock_key=rotate_key)


async def test_unlockkey_with_autolock_and_its_rotation(sw: Docker) -> None:
    assert (await sw.swarm.unlockkey()).unlock_key == ""
    await set_autolock(sw, True)
    try:
        first = (await sw.swarm.unlockkey()).unlock_key
        assert first and first.startswith("SWMKEY-1-")
        await set_autolock(sw, True, rotate_key=True)
        second = (await sw.swarm.unlockkey()).unlock_key
        assert second and second.startswith("SWMKEY-1-")
        assert second != first
    finally:
        await set_autolock(sw, False)
    assert (await sw.swarm.unlockkey()).unlock_key == ""


async def test_autolocked_manager_restarts_locked_and_unlocks() -> None:
    """A real lock: autolock on, restart the daemon, unlock it; then leave."""
    with running_sandbox() as box:
        async with Docker(box.unix_url) as docker:
            await prepare_gwbridge(docker)
            try:
                await docker.swarm.init(
                    {
                        "ListenAddr": f"127.0.0.1:{free_port()}",
                        "AdvertiseAddr": "127.0.0.1",
                        "Spec": {"EncryptionConfig": {"AutoLockManagers": True}},
                    }
                )
                await docker.networks.delete("ingress")
                key = (await docker.swarm.unlockkey()).unlock_key
            except BaseException:
                await drop_network(docker, "docker_gwbridge")
                raise
        assert key and key.startswith("SWMKEY-1-")

        box.restart()
        async with Docker(box.unix_url) as docker:
            try:
                info = await docker.system.info()
                assert info.swarm is not None and info.swarm.local_node_state == "locked"
                with pytest.raises(ServerError, match="needs to be unlocked"):
                    await docker.swarm.inspect()
                wrong = "SWMKEY-1-" + "A" * (len(key) - len("SWMKEY-1-"))
                with pytest.raises(DockerError, match="invalid key") as refused:
                    await docker.swarm.unlock({"UnlockKey": wrong})
                assert refused.value.status == 401

                await docker.swarm.unlock(SwarmUnlockBody(unlock_key=key))
                swarm = await docker.swarm.inspect()
                assert swarm.spec is not None and swarm.spec.encryption_config is not None
                assert swarm.spec.encryption_config.auto_lock_managers is True
                with pytest.raises(Conflict, match="swarm is not locked"):
                    await docker.swarm.unlock(SwarmUnlockBody(unlock_key=key))

                with pytest.raises(ServerError, match="Use `--force`"):
                    await docker.swarm.leave()
                await docker.swarm.leave(force=True)
                info = await docker.system.info()
                assert info.swarm is not None and info.swarm.local_node_state == "inactive"
                with pytest.raises(ServerError, match="not a swarm manager"):
                    await docker.swarm.inspect()
            finally:
                with contextlib.suppress(DockerError):
                    await docker.swarm.leave(force=True)
                await drop_network(docker, "docker_gwbridge")


async def test_a_second_daemon_joins_as_worker_and_leaves(sw: Docker, cluster: Cluster) -> None:
    swarm = await sw.swarm.inspect()
    assert swarm.join_tokens is not None
    with running_sandbox() as box:
        async with Docker(box.unix_url) as worker:
            port = free_port()
            await worker.swarm.join(
                SwarmJoinBody(
                    listen_addr=f"127.0.0.1:{port}",
                    advertise_addr=f"127.0.0.1:{port}",
                    remote_addrs=[f"127.0.0.1:{cluster.port}"],
                    join_token=swarm.join_tokens.worker,
                )
            )
            worker_id: str | None = None
            try:
                info = await worker.system.info()
                assert info.swarm is not None and info.swarm.local_node_state == "active"
                assert info.swarm.control_available is False
                worker_id = info.swarm.node_id
                assert worker_id

                async def both_ready() -> bool:
                    nodes = await sw.nodes.list()
                    states = {n.id: n.status.state if n.status else None for n in nodes}
                    return states == {cluster.node_id: "ready", worker_id: "ready"}

                await eventually(both_ready, what="the worker to show up as ready")
                workers = await sw.nodes.list(filters={"role": "worker"})
                assert [n.id for n in workers] == [worker_id]
                node = workers[0]
                assert node.spec is not None and node.spec.role == "worker"
                assert node.manager_status is None
                with pytest.raises(ServerError, match="not a swarm manager"):
                    await worker.nodes.list()

                with pytest.raises(BadRequest, match="is not down and can't be removed"):
                    await sw.nodes.delete(worker_id)
                await worker.swarm.leave()
                info = await worker.system.info()
                assert info.swarm is not None and info.swarm.local_node_state == "inactive"
                await sw.nodes.delete(worker_id, force=True)
                with pytest.raises(NotFound):
                    await sw.nodes.inspect(worker_id)
                assert [n.id for n in await sw.nodes.list()] == [cluster.node_id]
            finally:
                with contextlib.suppress(DockerError):
                    await worker.swarm.leave(force=True)
                if worker_id is not None:
                    with contextlib.suppress(DockerError):
                        await sw.nodes.delete(worker_id, force=True)


# -- nodes --------------------------------------------------------------------------------------


async def test_nodes_list_inspect_and_update_labels(
    sw: Docker, cluster: Cluster, label: str
) -> None:
    nodes = await sw.nodes.list()
    assert [n.id for n in nodes] == [cluster.node_id]
    assert [n.id for n in await sw.nodes.list(filters={"role": "manager"})] == [cluster.node_id]
    assert await sw.nodes.list(filters={"role": "worker"}) == []

    node = await sw.nodes.inspect(cluster.node_id)
    assert node.spec == NodeSpec(labels={}, role="manager", availability="active")
    assert node.status is not None and node.status.state == "ready"
    assert node.status.addr == "127.0.0.1"
    assert node.manager_status is not None and node.manager_status.leader is True
    assert node.description is not None and node.description.hostname
    assert (await sw.nodes.inspect(node.description.hostname)).id == node.id

    labelled = replace(node.spec, labels={"aiodockerapi.test": label})
    await sw.nodes.update(node.id or "", labelled, version=index_of(node))
    try:
        updated = await sw.nodes.inspect(cluster.node_id)
        assert updated.spec is not None
        assert updated.spec.labels == {"aiodockerapi.test": label}
        assert index_of(updated) > index_of(node)
        found = await sw.nodes.list(filters={"node.label": f"aiodockerapi.test={label}"})
        assert [n.id for n in found] == [cluster.node_id]
        assert await sw.nodes.list(filters={"node.label": "aiodockerapi.test=other"}) == []
        with pytest.raises(ServerError, match="update out of sequence"):
            await sw.nodes.update(cluster.node_id, labelled, version=index_of(node))
        with pytest.raises(BadRequest, match="invalid Role"):
            await sw.nodes.update(cluster.node_id, {"Labels": {}}, version=index_of(updated))
    finally:
        current = await sw.nodes.inspect(cluster.node_id)
        await sw.nodes.update(cluster.node_id, node.spec, version=index_of(current))
    restored = await sw.nodes.inspect(cluster.node_id)
    assert restored.spec == node.spec


async def test_deleting_the_only_manager_fails(sw: Docker, cluster: Cluster) -> None:
    for force in (False, True):
        with pytest.raises(BadRequest, match="must be demoted to worker before removal"):
            await sw.nodes.delete(cluster.node_id, force=force)
    with pytest.raises(NotFound):
        await sw.nodes.delete("nosuchnode")
    assert [n.id for n in await sw.nodes.list()] == [cluster.node_id]


# -- services and tasks -------------------------------------------------------------------------


async def test_services_create_inspect_list_delete(
    sw: Docker, cluster: Cluster, mine: dict[str, str], label: str
) -> None:
    typed = ServiceSpec(
        name=f"web-{label}",
        labels=mine,
        task_template=TaskSpec(
            container_spec=TaskSpecContainerSpec(
                image=cluster.image, command=["sleep", "600"], stop_grace_period=STOP_GRACE_NS
            ),
            placement=TaskSpecPlacement(constraints=["node.role==manager"]),
        ),
        mode=ServiceSpecMode(replicated=ServiceSpecModeReplicated(replicas=1)),
    )
    created = await sw.services.create(typed)
    assert created.id and created.warning is None
    web = created.id
    idle = await create(
        sw, service_spec(cluster.image, f"idle-{label}", mine, "sleep", "600", replicas=0)
    )

    service = await sw.services.inspect(web)
    assert service.id == web
    assert service.spec is not None and service.spec.name == f"web-{label}"
    assert service.spec.labels == mine
    assert service.spec.task_template is not None
    container_spec = service.spec.task_template.container_spec
    assert container_spec is not None
    assert container_spec.image == cluster.image
    assert container_spec.command == ["sleep", "600"]
    assert service.spec.mode == ServiceSpecMode(replicated=ServiceSpecModeReplicated(replicas=1))
    assert service.spec.update_config is None
    assert (await sw.services.inspect(f"web-{label}")).id == web

    defaults = await sw.services.inspect(web, insert_defaults=True)
    assert defaults.spec is not None and defaults.spec.update_config is not None
    assert defaults.spec.update_config.failure_action == "pause"
    assert defaults.spec.task_template is not None
    assert defaults.spec.task_template.restart_policy is not None
    assert defaults.spec.task_template.restart_policy.condition == "any"

    by_label = await sw.services.list(filters={"label": f"aiodockerapi.test={label}"})
    assert {s.id for s in by_label} == {web, idle}
    assert [s.id for s in await sw.services.list(filters={"name": f"idle-{label}"})] == [idle]
    assert [s.id for s in await sw.services.list(filters={"id": web})] == [web]
    assert by_label[0].service_status is None

    await running_tasks(sw, web, 1)
    with_status = await sw.services.list(
        filters={"label": f"aiodockerapi.test={label}"}, status=True
    )
    counts = {
        s.id: (s.service_status.running_tasks, s.service_status.desired_tasks)
        for s in with_status
        if s.service_status is not None
    }
    assert counts == {web: (1, 1), idle: (0, 0)}

    with pytest.raises(Conflict, match="already exists"):
        await sw.services.create(typed)

    await sw.services.delete(web)
    await sw.services.delete(idle)
    with pytest.raises(NotFound, match="not found"):
        await sw.services.inspect(web)
    with pytest.raises(NotFound):
        await sw.services.delete(web)
    assert await sw.services.list(filters={"label": f"aiodockerapi.test={label}"}) == []


async def test_service_update_and_rollback(
    sw: Docker, cluster: Cluster, mine: dict[str, str], label: str
) -> None:
    sid = await create(
        sw, service_spec(cluster.image, f"upd-{label}", mine, "sleep", "600", replicas=0)
    )
    first = await sw.services.inspect(sid)
    assert first.spec is not None
    assert first.spec.task_template is not None
    assert first.spec.task_template.container_spec is not None
    changed = replace(
        first.spec,
        labels={**mine, "stage": "two"},
        task_template=replace(
            first.spec.task_template,
            container_spec=replace(first.spec.task_template.container_spec, env=["STAGE=two"]),
        ),
    )
    answer = await sw.services.update(
        sid, changed, version=index_of(first), registry_auth_from="spec"
    )
    assert not answer.warnings

    second = await sw.services.inspect(sid)
    assert second.spec is not None
    assert second.spec.labels == {**mine, "stage": "two"}
    assert second.spec.task_template is not None
    assert second.spec.task_template.container_spec is not None
    assert second.spec.task_template.container_spec.env == ["STAGE=two"]
    assert index_of(second) > index_of(first)

    with pytest.raises(ServerError, match="update out of sequence"):
        await sw.services.update(sid, changed, version=index_of(first))

    await sw.services.update(sid, second.spec, version=index_of(second), rollback="previous")
    third = await sw.services.inspect(sid)
    assert third.spec is not None
    assert third.spec.labels == mine
    assert third.spec.task_template is not None
    assert third.spec.task_template.container_spec is not None
    assert third.spec.task_template.container_spec.env == []


async def test_service_scale(
    sw: Docker, cluster: Cluster, mine: dict[str, str], label: str
) -> None:
    sid = await create(sw, service_spec(cluster.image, f"scale-{label}", mine, "sleep", "600"))
    first = await running_tasks(sw, sid, 1)

    await sw.services.scale(sid, 2)
    both = await running_tasks(sw, sid, 2)
    assert first[0].id in {t.id for t in both}  # scaling up leaves the running task alone
    assert sorted(t.slot or 0 for t in both) == [1, 2]
    service = await sw.services.inspect(sid)
    assert service.spec is not None and service.spec.mode is not None
    assert service.spec.mode.replicated == ServiceSpecModeReplicated(replicas=2)
    assert service.spec.labels == mine  # the rest of the spec went back as it was

    await sw.services.scale(f"scale-{label}", 0)
    assert await running_tasks(sw, sid, 0) == []

    glob = await create(
        sw,
        {
            "Name": f"global-{label}",
            "Labels": mine,
            "TaskTemplate": {
                "ContainerSpec": {"Image": cluster.image, "Command": ["true"]},
                "Placement": MANAGER_ONLY,
                "RestartPolicy": {"Condition": "none"},
            },
            "Mode": {"Global": {}},
        },
    )
    with pytest.raises(ValueError, match="not replicated"):
        await sw.services.scale(glob, 2)


async def test_scale_checks_replicas_before_any_request() -> None:
    async with Docker("unix:///nonexistent/docker.sock") as nowhere:
        with pytest.raises(ValueError, match="0 or more"):
            await nowhere.services.scale("svc", -1)
        with pytest.raises(TypeError, match="must be an int"):
            await nowhere.services.scale("svc", True)
        with pytest.raises(TypeError, match="must be an int"):
            await nowhere.services.scale("svc", "2")  # type: ignore[arg-type]


async def test_service_and_task_logs_and_tasks(
    sw: Docker, cluster: Cluster, mine: dict[str, str], label: str
) -> None:
    sid = await create(
        sw,
        service_spec(
            cluster.image, f"logs-{label}", mine, "sh", "-c", "echo hello; echo oops >&2; sleep 600"
        ),
    )
    (task,) = await running_tasks(sw, sid, 1)
    assert task.id is not None

    async def both_lines() -> list[Frame] | None:
        frames = [f async for f in sw.services.logs(sid, stdout=True, stderr=True)]
        return frames if len(frames) == 2 else None

    frames = await eventually(both_lines, what="the service's two log lines")
    # Two pipes: the daemon gives no order between them.
    assert sorted((f.stream, f.data) for f in frames) == [
        (StreamType.STDOUT, b"hello\n"),
        (StreamType.STDERR, b"oops\n"),
    ]
    assert [f.data async for f in sw.services.logs(sid, stderr=True)] == [b"oops\n"]
    assert len([f async for f in sw.services.logs(sid, stdout=True, stderr=True, tail=1)]) == 1

    (detailed,) = [f async for f in sw.services.logs(sid, stdout=True, details=True)]
    context, _, line = detailed.data.partition(b" ")
    assert line == b"hello\n"
    assert f"com.docker.swarm.service.id={sid}".encode() in context.split(b",")
    assert f"com.docker.swarm.task.id={task.id}".encode() in context.split(b",")

    (stamped,) = [f async for f in sw.services.logs(sid, stdout=True, timestamps=True)]
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello\n", stamped.data)

    followed = sw.services.logs(sid, stdout=True, follow=True)
    async with contextlib.aclosing(followed):  # type: ignore[type-var]
        first = await asyncio.wait_for(anext(followed), 10)
    assert first == Frame(StreamType.STDOUT, b"hello\n")

    # tasks
    listed = await sw.tasks.list(filters={"service": sid})
    assert [t.id for t in listed] == [task.id]
    assert [t.id for t in await sw.tasks.list(filters={"service": f"logs-{label}"})] == [task.id]
    on_node = await sw.tasks.list(filters={"service": sid, "node": cluster.node_id})
    assert [t.id for t in on_node] == [task.id]
    assert await sw.tasks.list(filters={"service": sid, "desired-state": "shutdown"}) == []

    inspected = await sw.tasks.inspect(task.id)
    assert inspected.service_id == sid
    assert inspected.node_id == cluster.node_id
    assert inspected.slot == 1
    assert inspected.desired_state == "running"
    assert inspected.status is not None and inspected.status.state == "running"
    assert inspected.status.container_status is not None
    container_id = inspected.status.container_status.container_id
    assert container_id

    # With the daemon's bridge off, a task without networks runs with networking disabled.
    container = await sw.containers.inspect(container_id)
    assert container.config is not None and container.config.network_disabled is True
    assert container.config.labels is not None
    assert container.config.labels["com.docker.swarm.task.id"] == task.id

    task_frames = [f async for f in sw.tasks.logs(task.id, stdout=True, stderr=True)]
    assert sorted((f.stream, f.data) for f in task_frames) == [
        (StreamType.STDOUT, b"hello\n"),
        (StreamType.STDERR, b"oops\n"),
    ]
    (task_detailed,) = [f async for f in sw.tasks.logs(task.id, stdout=True, details=True)]
    assert f"com.docker.swarm.task.id={task.id}".encode() in task_detailed.data

    with pytest.raises(NotFound, match="task nosuchtask not found"):
        await sw.tasks.inspect("nosuchtask")


# -- secrets and configs ------------------------------------------------------------------------


async def test_secrets(sw: Docker, mine: dict[str, str], label: str) -> None:
    name = f"pw-{label}"
    created = await sw.secrets.create({"Name": name, "Labels": mine, "Data": b"s3cret\x00"})
    assert created.id
    other = await sw.secrets.create(
        {"Name": f"key-{label}", "Labels": mine, "Data": base64.b64encode(b"k").decode()}
    )
    assert other.id

    secret = await sw.secrets.inspect(created.id)
    assert secret.id == created.id
    assert secret.spec is not None and secret.spec.name == name
    assert secret.spec.labels == mine
    assert secret.spec.data == ""  # never returned
    assert (await sw.secrets.inspect(name)).id == created.id

    mine_filter = {"label": f"aiodockerapi.test={label}"}
    assert {s.id for s in await sw.secrets.list(filters=mine_filter)} == {created.id, other.id}
    assert [s.id for s in await sw.secrets.list(filters={"name": name})] == [created.id]

    with pytest.raises(Conflict, match="already exists"):
        await sw.secrets.create({"Name": name, "Data": b"again"})

    relabelled = replace(secret.spec, labels={**mine, "rotated": "no"})
    await sw.secrets.update(created.id, relabelled, version=index_of(secret))
    updated = await sw.secrets.inspect(created.id)
    assert updated.spec is not None and updated.spec.labels == {**mine, "rotated": "no"}
    with pytest.raises(ServerError, match="update out of sequence"):
        await sw.secrets.update(created.id, relabelled, version=index_of(secret))
    with pytest.raises(BadRequest, match="only updates to Labels are allowed"):
        renamed = replace(relabelled, name=f"other-{label}")
        await sw.secrets.update(created.id, renamed, version=index_of(updated))
    with pytest.raises(TypeError):
        await sw.secrets.update(created.id, relabelled)  # type: ignore[call-arg]

    await sw.secrets.delete(created.id)
    with pytest.raises(NotFound):
        await sw.secrets.inspect(created.id)
    assert [s.id for s in await sw.secrets.list(filters=mine_filter)] == [other.id]


async def test_configs(sw: Docker, mine: dict[str, str], label: str) -> None:
    name = f"app-{label}.ini"
    data = b"[app]\nlevel = 3\n"
    created = await sw.configs.create({"Name": name, "Labels": mine, "Data": data})
    assert created.id

    config = await sw.configs.inspect(created.id)
    assert config.id == created.id
    assert config.spec is not None and config.spec.name == name
    assert config.spec.labels == mine
    assert config.spec.data is not None and base64.b64decode(config.spec.data) == data
    assert (await sw.configs.inspect(name)).id == created.id

    assert [c.id for c in await sw.configs.list(filters={"name": name})] == [created.id]
    mine_filter = {"label": f"aiodockerapi.test={label}"}
    assert [c.id for c in await sw.configs.list(filters=mine_filter)] == [created.id]

    with pytest.raises(Conflict, match="already exists"):
        await sw.configs.create({"Name": name, "Data": b"other"})

    relabelled = replace(config.spec, labels={**mine, "env": "test"})
    await sw.configs.update(created.id, relabelled, version=index_of(config))
    updated = await sw.configs.inspect(created.id)
    assert updated.spec is not None and updated.spec.labels == {**mine, "env": "test"}
    assert updated.spec.data == config.spec.data
    with pytest.raises(ServerError, match="update out of sequence"):
        await sw.configs.update(created.id, relabelled, version=index_of(config))
    with pytest.raises(BadRequest, match="only updates to Labels are allowed"):
        changed = replace(relabelled, data=base64.b64encode(b"[app]\n").decode())
        await sw.configs.update(created.id, changed, version=index_of(updated))

    await sw.configs.delete(created.id)
    with pytest.raises(NotFound):
        await sw.configs.inspect(created.id)
    with pytest.raises(NotFound):
        await sw.configs.delete(created.id)
