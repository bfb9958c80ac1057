"""aiodocker, through its public API (dicts, not typed results)."""

from __future__ import annotations

import aiodocker

from ..job import Job, in_flight


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
