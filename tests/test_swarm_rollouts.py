"""Rollouts waited for (services.wait_converged) and images copied node to node
(swarm_images.distribute), on a real swarm of three managers (tests/swarm_cluster.py)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import Docker, DockerTimeoutError, Managers, NotFound, ServiceUpdateError
from aiodockerapi.models import TaskProgress
from aiodockerapi.swarm_images import distribute

from .swarm_cluster import SECOND_NS, Swarm, three_managers
from .swarm_fixtures import STOP_GRACE_NS, eventually

# A three-manager swarm per run: on 20.10 and 28.5 (the oldest and newest daemon).
pytestmark = [pytest.mark.daemon, pytest.mark.flavours("20.10", "28.5")]

WAIT = 60.0  # seconds any one rollout may take here
MONITOR_NS = SECOND_NS // 2


@pytest.fixture(scope="module")
async def managers(busybox_context: Path) -> AsyncIterator[Swarm]:
    async with three_managers(busybox_context) as swarm:
        yield swarm


@pytest.fixture
async def sw(managers: Swarm) -> Docker:
    return managers.nodes[0].client


@pytest.fixture
async def mine(sw: Docker, label: str) -> AsyncIterator[dict[str, str]]:
    labels = {"aiodockerapi.test": label}
    yield labels
    for service in await sw.services.list(filters={"label": f"aiodockerapi.test={label}"}):
        assert service.id is not None
        await sw.services.delete(service.id)


def service_spec(
    name: str,
    image: str,
    labels: dict[str, str],
    *,
    command: list[str] | None = None,
    env: list[str] | None = None,
    mode: dict[str, Any] | None = None,
    failure_action: str = "pause",
    restart: str = "any",
) -> dict[str, Any]:
    """A service of the test image, updated one task at a time, watched 0.5 s per task."""
    policy = {"Parallelism": 1, "Delay": 0, "Monitor": MONITOR_NS}
    return {
        "Name": name,
        "Labels": labels,
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": image,
                "Command": command or ["sleep", "600"],
                "Env": env or [],
                "StopGracePeriod": STOP_GRACE_NS,
            },
            "RestartPolicy": {"Condition": restart, "Delay": 0},
        },
        "Mode": mode or {"Replicated": {"Replicas": 3}},
        "UpdateConfig": {**policy, "FailureAction": failure_action},
        "RollbackConfig": {**policy, "FailureAction": "pause"},
    }


async def update(sw: Docker, id: str, spec: dict[str, Any], **kw: Any) -> None:
    version = (await sw.services.inspect(id)).version
    assert version is not None and version.index is not None
    await sw.services.update(id, spec, version=version.index, **kw)


async def running_envs(sw: Docker, id: str) -> list[list[str]]:
    """The Env of each task the service has running (and meant to run)."""
    tasks = await sw.tasks.list(filters={"service": id, "desired-state": "running"})
    out = []
    for task in tasks:
        if task.status is not None and task.status.state == "running":
            assert task.spec is not None and task.spec.container_spec is not None
            out.append(task.spec.container_spec.env or [])
    return out


async def test_create_and_update_are_waited_for(
    sw: Docker, managers: Swarm, mine: dict[str, str], label: str
) -> None:
    seen: list[list[TaskProgress]] = []
    spec = service_spec(f"roll-{label}", managers.image, mine, env=["V=1"])
    created = await sw.services.create(spec)
    assert created.id is not None
    service = await sw.services.wait_converged(created.id, timeout=WAIT, on_progress=seen.append)
    assert service.update_status is None
    assert await running_envs(sw, created.id) == [["V=1"]] * 3
    last = seen[-1]
    assert sorted(p.slot or 0 for p in last) == [1, 2, 3]
    assert {(p.desired_state, p.state) for p in last} == {("running", "running")}
    assert len({p.node_id for p in last}) == 3  # spread over the three managers

    spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["V=2"]
    await update(sw, created.id, spec)
    # Named by its name this time; the update has not started when the wait begins.
    service = await sw.services.wait_converged(f"roll-{label}", timeout=WAIT)
    assert service.update_status is not None and service.update_status.state == "completed"
    assert await running_envs(sw, created.id) == [["V=2"]] * 3


async def test_an_update_that_fails_pauses_and_is_raised(
    sw: Docker, managers: Swarm, mine: dict[str, str], label: str
) -> None:
    # No restarts: a failed task stays its slot's newest, for on_progress to show.
    spec = service_spec(f"pause-{label}", managers.image, mine, restart="none")
    created = await sw.services.create(spec)
    assert created.id is not None
    await sw.services.wait_converged(created.id, timeout=WAIT)
    spec["TaskTemplate"]["ContainerSpec"]["Command"] = ["sh", "-c", "exit 3"]
    await update(sw, created.id, spec)
    seen: list[list[TaskProgress]] = []
    with pytest.raises(ServiceUpdateError) as raised:
        await sw.services.wait_converged(created.id, timeout=WAIT, on_progress=seen.append)
    failed = {(p.state, p.error) for slots in seen for p in slots if p.error}
    assert ("failed", "task: non-zero exit (3)") in failed
    err = raised.value
    assert err.state == "paused" and err.service_id == created.id
    assert err.task_errors and all("non-zero exit (3)" in e for e in err.task_errors)
    assert "update paused" in str(err)
    # Paused, with the tasks not replaced yet still running the old command (one or two:
    # the failure may be noticed while the next slot's update began).
    service = await sw.services.inspect(created.id)
    assert service.update_status is not None and service.update_status.state == "paused"
    tasks = await sw.tasks.list(filters={"service": created.id, "desired-state": "running"})
    commands = [
        t.spec.container_spec.command
        for t in tasks
        if t.spec and t.spec.container_spec and t.status and t.status.state == "running"
    ]
    assert commands in ([["sleep", "600"]], [["sleep", "600"]] * 2)


async def test_an_update_rolled_back_is_raised_and_a_rollback_asked_for_is_waited_for(
    sw: Docker, managers: Swarm, mine: dict[str, str], label: str
) -> None:
    spec = service_spec(
        f"back-{label}", managers.image, mine, env=["V=1"], failure_action="rollback"
    )
    created = await sw.services.create(spec)
    assert created.id is not None
    await sw.services.wait_converged(created.id, timeout=WAIT)

    failing = service_spec(
        f"back-{label}",
        managers.image,
        mine,
        env=["V=2"],
        command=["sh", "-c", "exit 4"],
        failure_action="rollback",
    )
    await update(sw, created.id, failing)
    with pytest.raises(ServiceUpdateError) as raised:
        await sw.services.wait_converged(created.id, timeout=WAIT)
    assert raised.value.state == "rollback_completed"
    assert any("non-zero exit (4)" in e for e in raised.value.task_errors)
    assert await running_envs(sw, created.id) == [["V=1"]] * 3

    spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["V=3"]
    await update(sw, created.id, spec)
    await sw.services.wait_converged(created.id, timeout=WAIT)
    assert await running_envs(sw, created.id) == [["V=3"]] * 3
    await update(sw, created.id, spec, rollback="previous")
    service = await sw.services.wait_converged(created.id, timeout=WAIT)
    assert service.update_status is not None
    assert service.update_status.state == "rollback_completed"
    assert await running_envs(sw, created.id) == [["V=1"]] * 3


async def test_a_global_service_and_a_job_converge(
    sw: Docker, managers: Swarm, mine: dict[str, str], label: str
) -> None:
    seen: list[list[TaskProgress]] = []
    spec = service_spec(f"global-{label}", managers.image, mine, mode={"Global": {}})
    created = await sw.services.create(spec)
    assert created.id is not None
    await sw.services.wait_converged(created.id, timeout=WAIT, on_progress=seen.append)
    assert {p.node_id for p in seen[-1]} == {n.node_id for n in managers.nodes}
    assert {p.slot for p in seen[-1]} == {None}

    job = service_spec(
        f"job-{label}",
        managers.image,
        mine,
        command=["true"],
        restart="on-failure",
        mode={"ReplicatedJob": {"MaxConcurrent": 2, "TotalCompletions": 4}},
    )
    del job["UpdateConfig"], job["RollbackConfig"]
    created = await sw.services.create(job)
    assert created.id is not None
    await sw.services.wait_converged(created.id, timeout=WAIT)
    tasks = await sw.tasks.list(filters={"service": created.id})
    complete = [t for t in tasks if t.status is not None and t.status.state == "complete"]
    assert len(complete) == 4


async def test_wait_converged_checks_its_arguments_and_bounds_its_time(
    sw: Docker, managers: Swarm, mine: dict[str, str], label: str
) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive"):
        await sw.services.wait_converged("x", timeout=0)
    with pytest.raises(ValueError, match="service_id must be"):
        await sw.services.wait_converged("")
    with pytest.raises(NotFound):
        await sw.services.wait_converged(f"nothing-{label}", timeout=WAIT)
    # A task that can never be placed: the wait ends at its timeout, saying where it was.
    spec = service_spec(f"stuck-{label}", managers.image, mine)
    spec["TaskTemplate"]["Placement"] = {"Constraints": ["node.labels.nowhere==true"]}
    created = await sw.services.create(spec)
    assert created.id is not None
    with pytest.raises(DockerTimeoutError, match="0 of 3 tasks running"):
        await sw.services.wait_converged(created.id, timeout=1.5)


async def test_distribute_copies_an_image_by_id_to_every_node(
    managers: Swarm, busybox_context: Path, label: str
) -> None:
    first = managers.nodes[0].client
    context = busybox_context.parent / f"ctx-{label}"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {managers.image}\nLABEL test={label}\n")
    tag = f"aiodockerapi-test/spread:{label}"
    async for _ in first.images.build(context, t=tag, pull=False):
        pass
    image_id = (await first.images.inspect(tag)).id
    assert image_id is not None
    clients = [n.client for n in managers.nodes]
    try:
        results = await asyncio.wait_for(distribute(first, tag, clients), WAIT)
        assert [(r.host, r.outcome, r.image_id) for r in results] == [
            (clients[0].host, "present", image_id),
            (clients[1].host, "loaded", image_id),
            (clients[2].host, "loaded", image_id),
        ]
        for client in clients:
            found = await client.images.inspect(image_id)
            assert found.id == image_id and found.repo_tags == [tag]
        again = await distribute(first, image_id, clients[1:])
        assert [r.outcome for r in again] == ["present", "present"]
        with pytest.raises(NotFound):
            await distribute(first, f"aiodockerapi-test/none:{label}", clients)
    finally:
        for client in clients:
            await client.images.delete(image_id, force=True)


# Last: it kills a manager of the module's swarm.
async def test_the_leader_killed_during_an_update_the_managers_client_carries_on(
    managers: Swarm, label: str
) -> None:
    async with Managers(managers.urls) as client:
        leader = await client.leader_member()
    assert leader is not None
    first = managers.urls.index(leader.host)
    # The leader first: the client talks to it until it dies.
    urls = managers.urls[first:] + managers.urls[:first]
    async with Managers(urls) as sw:
        spec = service_spec(f"kill-{label}", managers.image, {"aiodockerapi.test": label})
        spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["V=1"]
        created = await sw.services.create(spec)
        assert created.id is not None
        try:
            await sw.services.wait_converged(created.id, timeout=WAIT)
            old_leader = await sw.leader()
            spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["V=2"]
            await update(sw, created.id, spec)
            assert sw.host == urls[0]
            pid = managers.nodes[first].box.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            service = await sw.services.wait_converged(created.id, timeout=WAIT)
            assert service.update_status is not None
            assert service.update_status.state == "completed"
            assert sw.host != urls[0]
            assert (await sw.leader()).id != old_leader.id
            # Converged in swarm's view: a task on the dead node counts until swarm marks
            # the node down (a few heartbeats) and runs it again on a survivor.
            dead = managers.nodes[first].node_id

            async def on_survivors() -> bool:
                tasks = await sw.tasks.list(
                    filters={"service": created.id, "desired-state": "running"}
                )
                live = [
                    t.spec.container_spec.env
                    for t in tasks
                    if t.status and t.status.state == "running" and t.node_id != dead
                    if t.spec and t.spec.container_spec
                ]
                return live == [["V=2"]] * 3

            await eventually(on_survivors, what="three V=2 tasks on the survivors", timeout=WAIT)
        finally:
            await sw.services.delete(created.id)
