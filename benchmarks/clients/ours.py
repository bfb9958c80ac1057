"""aiodockerapi."""

from __future__ import annotations

from aiodockerapi import Docker

from ..job import Job, in_flight


class Client:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.docker = Docker(job.host)

    async def open(self) -> None:
        await self.docker.system.ping()

    async def close(self) -> None:
        await self.docker.close()

    async def events(self) -> int:
        n = 0
        async for _ in self.docker.system.events():
            n += 1
        return n

    async def warmup_list(self) -> None:
        await self.docker.containers.list(all=True)

    async def list(self) -> int:
        n = 0
        for _ in range(self.job.lists):
            n += len(await self.docker.containers.list(all=True))
        return n

    async def warmup_inspect(self) -> None:
        await in_flight(
            self.job.inspect_ids()[:200], self.job.in_flight, self.docker.containers.inspect
        )

    async def inspect(self) -> int:
        return await in_flight(
            self.job.inspect_ids(), self.job.in_flight, self.docker.containers.inspect
        )

    async def logs(self) -> int:
        n = 0
        cid = self.job.logs_container
        async for frame in self.docker.containers.logs(cid, stdout=True, stderr=True):
            n += len(frame.data)
        return n

    async def build(self) -> int:
        n = 0
        async for _ in self.docker.images.build(
            self.job.context_dir,
            t=f"{self.job.image}-built-ours",
            labels={"aiodockerapi.bench": self.job.label},
            pull=False,
        ):
            n += 1
        return n

    async def archive(self) -> int:
        n = 0
        async with self.docker.containers.get_archive(
            self.job.archive_container, path=self.job.archive_path
        ) as download:
            async for chunk in download:
                if not n and len(chunk) >= 262 and chunk[257:262] != b"ustar":
                    raise RuntimeError(f"get_archive did not yield a tar: {chunk[:16]!r}")
                n += len(chunk)
        return n

    async def warmup_cycle(self) -> None:
        await self._cycle(0)

    async def cycle(self) -> int:
        return await in_flight(range(self.job.cycles), self.job.in_flight, self._cycle)

    async def _cycle(self, _: int) -> None:
        c = self.docker.containers
        created = await c.create(self.job.container_config())
        assert created.id is not None
        await c.start(created.id)
        await c.wait(created.id)
        await c.delete(created.id)
