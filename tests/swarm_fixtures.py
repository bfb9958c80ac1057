"""Helpers for the swarm tests: a swarm on a sandbox daemon, bounded polling.

Swarm on a sandbox (--bridge=none --iptables=false), as found on dockerd 20.10:

* `swarm init` creates the `ingress` overlay network and, on each node, an ingress sandbox
  wired to a `docker_gwbridge` bridge that dockerd creates in the host's network namespace
  (a host link named docker_gwbridge with a 172.x subnet, which outlives dockerd).
  So `swarm_daemon` first creates docker_gwbridge itself under a unique host link name,
  deletes `ingress` right after init (nothing here publishes ports) and removes
  docker_gwbridge again at the end. The node may still set up (and then tear down) its
  ingress sandbox; a daemon that leaves or stops meanwhile waits up to 5 s for that.
* The network control plane (memberlist) of every swarm daemon binds port 7946 on its
  advertise address: with two swarm daemons on 127.0.0.1 the second one logs "error in
  agentInit ... address already in use" and runs without it (overlay networks would not
  work there; nothing here needs them). Its ingress set-up then never finishes, which
  costs those 5 s when it stops or leaves.
* A task with no Networks gets the default network mode; with the bridge disabled dockerd
  starts its container with networking disabled (loopback only): exactly what the tests
  want. `Networks: [{"Target": "none"}]` is refused ("could not find the corresponding
  predefined swarm network").
* A service image named by tag is pulled by the node even when present locally (the daemon
  would contact Docker Hub); named by image id (sha256:...) it is used as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from aiodockerapi import Docker, DockerError
from aiodockerapi.models import SwarmInitBody

T = TypeVar("T")

MANAGER_ONLY = {"Constraints": ["node.role==manager"]}
# 0.1 s: `sleep` as a container's PID 1 ignores SIGTERM, so stopping waits this long.
STOP_GRACE_NS = 100_000_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 30.0
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def prepare_gwbridge(docker: Docker) -> str:
    """Create docker_gwbridge with a unique host link name, before the daemon makes its own."""
    link = f"adkgw{uuid.uuid4().hex[:8]}"
    await docker.networks.create(
        {
            "Name": "docker_gwbridge",
            "Driver": "bridge",
            "Options": {
                "com.docker.network.bridge.name": link,
                "com.docker.network.bridge.enable_icc": "false",
            },
        }
    )
    return link


async def drop_network(docker: Docker, name: str) -> None:
    """Remove a network if it is there (teardown: errors are not the test's result)."""
    with contextlib.suppress(DockerError):
        await docker.networks.delete(name)


@contextlib.asynccontextmanager
async def swarm_daemon(
    docker: Docker, init: SwarmInitBody | Mapping[str, Any]
) -> AsyncIterator[str]:
    """`swarm.init(init)` on a fresh daemon, without ingress; leave and clean up afterwards."""
    await prepare_gwbridge(docker)
    try:
        node_id = await docker.swarm.init(init)
        try:
            await docker.networks.delete("ingress")
            yield node_id
        finally:
            with contextlib.suppress(DockerError):
                await docker.swarm.leave(force=True)
    finally:
        await drop_network(docker, "docker_gwbridge")
