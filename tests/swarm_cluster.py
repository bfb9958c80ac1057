"""A swarm of three managers, each a sandbox dockerd of its own, on 127.0.0.1.

tests/swarm_fixtures.py says how one swarm daemon is made to fit a sandbox; here the first
node inits the swarm and the two others join it as managers, each with its own raft port
and its own docker_gwbridge. Raft and the dispatcher run on short ticks so that the loss of
the leader is noticed (a new leader, the node down) within seconds rather than half a minute.
The test image is built on the first node and copied to the others by id (swarm_images).
The host links of the docker_gwbridge networks are removed at the end even when a test
killed their daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiodockerapi import Docker, DockerError
from aiodockerapi.swarm_images import distribute

from .conftest import TEST_IMAGE, running_sandbox
from .sandbox import Sandbox
from .swarm_fixtures import drop_network, eventually, free_port, prepare_gwbridge, swarm_daemon

ADDR_POOL = "10.232.0.0/16"
SECOND_NS = 1_000_000_000


@dataclass
class Node:
    box: Sandbox
    client: Docker
    port: int  # its raft (swarm listen) port on 127.0.0.1
    node_id: str = ""


@dataclass
class Swarm:
    nodes: list[Node]
    image: str  # the busybox test image's id, present on every node

    @property
    def urls(self) -> list[str]:
        return [n.box.unix_url for n in self.nodes]


async def _all_ready(client: Docker, count: int) -> bool:
    nodes = await client.nodes.list()
    ready = [n for n in nodes if n.status is not None and n.status.state == "ready"]
    reachable = [
        n
        for n in nodes
        if n.manager_status is not None and n.manager_status.reachability == "reachable"
    ]
    return len(ready) == count and len(reachable) == count


@contextlib.asynccontextmanager
async def three_managers(busybox_context: Path) -> AsyncIterator[Swarm]:
    """Three sandbox daemons in one swarm, all managers, the test image on each."""
    links: list[str] = []
    try:
        async with _three_managers(busybox_context, links) as swarm:
            yield swarm
    finally:
        # A daemon killed by a test could not remove its docker_gwbridge: its host link
        # outlives it.
        await asyncio.to_thread(_delete_links, links)


def _delete_links(links: list[str]) -> None:
    for link in links:
        if Path(f"/sys/class/net/{link}").exists():
            subprocess.run(["ip", "link", "delete", link], check=False, capture_output=True)


async def _gateway_link(client: Docker) -> str:
    options = (await client.networks.inspect("docker_gwbridge")).options or {}
    return options["com.docker.network.bridge.name"]


@contextlib.asynccontextmanager
async def _three_managers(busybox_context: Path, links: list[str]) -> AsyncIterator[Swarm]:
    with contextlib.ExitStack() as boxes:
        sandboxes = [boxes.enter_context(running_sandbox()) for _ in range(3)]
        async with contextlib.AsyncExitStack() as stack:
            nodes = []
            for box in sandboxes:
                client = await stack.enter_async_context(Docker(box.unix_url))
                nodes.append(Node(box, client, free_port()))
            first = nodes[0]
            async for _ in first.client.images.build(busybox_context, t=TEST_IMAGE, pull=False):
                pass
            image = (await first.client.images.inspect(TEST_IMAGE)).id
            assert image is not None
            copies = await distribute(first.client, image, [n.client for n in nodes[1:]])
            assert all(c.ok for c in copies), copies
            init = {
                "ListenAddr": f"127.0.0.1:{first.port}",
                "AdvertiseAddr": f"127.0.0.1:{first.port}",
                "DefaultAddrPool": [ADDR_POOL],
                "SubnetSize": 26,
                "Spec": {
                    "Raft": {"ElectionTick": 3, "HeartbeatTick": 1},
                    "Dispatcher": {"HeartbeatPeriod": SECOND_NS},
                },
            }
            first.node_id = await stack.enter_async_context(swarm_daemon(first.client, init))
            links.append(await _gateway_link(first.client))
            token = (await first.client.swarm.inspect()).join_tokens
            assert token is not None and token.manager
            for node in nodes[1:]:
                links.append(await prepare_gwbridge(node.client))
                stack.push_async_callback(drop_network, node.client, "docker_gwbridge")
                await node.client.swarm.join(
                    {
                        "ListenAddr": f"127.0.0.1:{node.port}",
                        "AdvertiseAddr": f"127.0.0.1:{node.port}",
                        "RemoteAddrs": [f"127.0.0.1:{first.port}"],
                        "JoinToken": token.manager,
                    }
                )
                stack.push_async_callback(_leave, node)
                info = await node.client.system.info()
                assert info.swarm is not None and info.swarm.node_id
                node.node_id = info.swarm.node_id
            await eventually(
                lambda: _all_ready(first.client, 3), what="three ready managers", timeout=60
            )
            yield Swarm(nodes, image)


async def _leave(node: Node) -> None:
    if node.box.pid is not None and node.box.ping(timeout=1):
        with contextlib.suppress(DockerError):
            await node.client.swarm.leave(force=True)
