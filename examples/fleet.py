"""Multi-host orchestration: the same work on several daemons at once.

    python examples/fleet.py unix:///var/run/docker.sock ssh://deploy@build-1 my-context

Hosts are URLs (unix://, tcp://, ssh://) or Docker context names; with none given,
DOCKER_HOSTS (comma-separated) or the current daemon. For every host at once, at most four
at a time and 60 seconds each: report the daemon, run a labelled container of a local
image and collect its output, watch the container events of all hosts merged, and clean
up. One host being down is reported and does not stop the others.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiodockerapi import Docker, Fleet

IMAGE = os.environ.get("FLEET_IMAGE", "aiodockerapi-tour/busybox:latest")
LABEL = "aiodockerapi.fleet-example"


async def deploy(docker: Docker) -> str:
    """Run one short container on this host; return what it printed."""
    created = await docker.containers.create(
        {
            "Image": IMAGE,
            "Cmd": ["sh", "-c", "echo hello from $(hostname)"],
            "Labels": {LABEL: "yes"},
            "HostConfig": {"NetworkMode": "none"},
        }
    )
    assert created.id is not None
    try:
        await docker.containers.start(created.id)
        status = await docker.containers.wait(created.id)
        output = b"".join([f.data async for f in docker.containers.logs(created.id, stdout=True)])
        return f"exit {status.status_code}: {output.decode().strip()}"
    finally:
        await docker.containers.delete(created.id, force=True)


async def main(hosts: list[str]) -> int:
    async with Fleet(hosts, limit=4, timeout=60) as fleet:
        infos = await fleet.run(lambda docker: docker.system.info())
        for host, result in infos.items():
            if result.ok and result.value is not None:
                info = result.value
                print(f"{host}: {info.server_version}, {info.containers_running} running")
            else:
                print(f"{host}: DOWN ({result.error})")
        up = [host for host, result in infos.items() if result.ok]
        if not up:
            return 1

    async with Fleet(up, limit=4, timeout=60) as fleet:
        filters = {"type": "container", "label": f"{LABEL}=yes"}
        async with fleet.events(filters=filters) as events:

            async def watch() -> None:
                async for item in events:
                    if item.event is not None:
                        print(f"  [{item.host}] {item.event.action}")

            watcher = asyncio.create_task(watch())
            results = await fleet.run(deploy)
            await asyncio.sleep(0.5)  # let the last events arrive before closing the stream
            watcher.cancel()
        for host, outcome in results.items():
            print(f"{host}: {outcome.value if outcome.ok else f'failed: {outcome.error}'}")
        return 0 if all(r.ok for r in results.values()) else 1


if __name__ == "__main__":
    given = sys.argv[1:] or [h for h in os.environ.get("DOCKER_HOSTS", "").split(",") if h]
    if not given:
        given = [os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")]
    sys.exit(asyncio.run(main(given)))
