"""aiodocker, through its public API (dicts, not typed results)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiodocker

from ..job import Job, in_flight
from .fleet_common import settled_rss_kib


class Client:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.docker = aiodocker.Docker(url=job.host, api_version=f"v{job.api_version}")

    async def open(self) -> None:
        await self.docker.version()

    async def close(self) -> None:
        await self.docker.close()

    async def events(self) -> int:
        n = 0
        subscriber = self.docker.events.subscribe()  # type: ignore[no-untyped-call]
        while await subscriber.get() is not None:
            n += 1
        await self.docker.events.stop()  # type: ignore[no-untyped-call]
        return n

    # -- fleets, by hand: one aiodocker client per host --------------------------------

    def _clients(self) -> list[aiodocker.Docker]:
        return [
            aiodocker.Docker(url=h, api_version=f"v{self.job.api_version}") for h in self.job.hosts
        ]

    async def warmup_fleet_events(self) -> None:
        self.fleet = self._clients()
        await asyncio.gather(*(d.version() for d in self.fleet))

    async def fleet_events(self) -> int:
        """The hosts' events merged with an asyncio.Queue (bounded, as Fleet's buffer)."""
        queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue(4096)

        async def pump(host: str, docker: aiodocker.Docker) -> None:
            try:
                subscriber = docker.events.subscribe()  # type: ignore[no-untyped-call]
                while (event := await subscriber.get()) is not None:
                    await queue.put((host, event))
                await docker.events.stop()  # type: ignore[no-untyped-call]
            finally:
                await queue.put(None)

        tasks = [
            asyncio.create_task(pump(h, d)) for h, d in zip(self.job.hosts, self.fleet, strict=True)
        ]
        n = 0
        running = len(tasks)
        while running:
            if await queue.get() is None:
                running -= 1
            else:
                n += 1
        await asyncio.gather(*tasks)
        await asyncio.gather(*(d.close() for d in self.fleet))
        return n

    async def fleet_run(self) -> int:
        """Every host's listing, `limit` hosts at a time, each with a timeout."""
        clients = self._clients()
        limit = asyncio.Semaphore(self.job.limit)

        async def one(docker: aiodocker.Docker) -> int:
            async with limit:
                return len(await asyncio.wait_for(docker.containers.list(all=True), 60))

        try:
            counts = await asyncio.gather(*(one(d) for d in clients))
        finally:
            await asyncio.gather(*(d.close() for d in clients))
        return sum(counts)

    async def warmup_fleet_idle(self) -> None:
        client = aiodocker.Docker(url=self.job.hosts[0], api_version=f"v{self.job.api_version}")
        await client.version()
        await client.close()

    async def fleet_idle(self) -> tuple[int, dict[str, float]]:
        base = settled_rss_kib()
        clients = self._clients()
        await asyncio.gather(*(d.version() for d in clients))
        per_host = (settled_rss_kib() - base) / len(clients)
        await asyncio.gather(*(d.close() for d in clients))
        return len(clients), {"rss_per_host_kib": per_host}

    async def warmup_list(self) -> None:
        await self.docker.containers.list(all=True)

    async def list(self) -> int:
        n = 0
        for _ in range(self.job.lists):
            n += len(await self.docker.containers.list(all=True))
        return n

    async def _inspect(self, cid: str) -> None:
        await self.docker.containers.container(cid).show()

    async def warmup_inspect(self) -> None:
        await in_flight(self.job.inspect_ids()[:200], self.job.in_flight, self._inspect)

    async def inspect(self) -> int:
        return await in_flight(self.job.inspect_ids(), self.job.in_flight, self._inspect)

    async def logs(self) -> int:
        n = 0
        container = self.docker.containers.container(self.job.logs_container)
        async for line in container.log(stdout=True, stderr=True, follow=True):
            n += len(line)
        return n

    async def build(self) -> int:
        with open(self.job.context_tar, "rb") as tar:  # noqa: ASYNC230 (as aiodocker reads it)
            messages = await self.docker.images.build(
                fileobj=tar,
                encoding="identity",
                tag=f"{self.job.image}-built-aiodocker",
                labels={"aiodockerapi.bench": self.job.label},
            )
        return len(messages)

    async def archive(self) -> int:
        container = self.docker.containers.container(self.job.archive_container)
        tar = await container.get_archive(self.job.archive_path)
        n = sum(member.size for member in tar.getmembers())
        tar.close()
        return n

    async def warmup_cycle(self) -> None:
        await self._cycle(0)

    async def cycle(self) -> int:
        return await in_flight(range(self.job.cycles), self.job.in_flight, self._cycle)

    async def _cycle(self, _: int) -> None:
        container = await self.docker.containers.create(self.job.container_config())
        await container.start()
        await container.wait()
        await container.delete()
