"""aiodockerapi."""

from __future__ import annotations

from aiodockerapi import Docker, Fleet

from ..job import Job, in_flight
from .fleet_common import settled_rss_kib


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

    # -- fleets: Fleet over job.hosts ----------------------------------------------------

    async def warmup_fleet_events(self) -> None:
        self.fleet = Fleet(self.job.hosts, limit=self.job.limit)
        await self.fleet.run(lambda docker: docker.system.ping())

    async def fleet_events(self) -> int:
        n = 0
        async with self.fleet.events() as events:
            async for item in events:
                if item.error is not None:
                    raise item.error
                n += 1
        await self.fleet.close()
        return n

    async def fleet_run(self) -> int:
        async with Fleet(self.job.hosts, limit=self.job.limit, timeout=60) as fleet:
            results = await fleet.run(lambda docker: docker.containers.list(all=True))
        n = 0
        for result in results.values():
            if result.error is not None:
                raise result.error
            n += len(result.value or ())
        return n

    async def warmup_fleet_idle(self) -> None:
        """What any fleet loads once (modules, anyio's backend) is not a host's cost."""
        async with Fleet(self.job.hosts[:1]) as fleet:
            await fleet.run(lambda docker: docker.system.ping())

    async def fleet_idle(self) -> tuple[int, dict[str, float]]:
        """Every host's client with one idle connection (after a ping): RSS per host."""
        base = settled_rss_kib()
        self.fleet = Fleet(self.job.hosts, limit=len(self.job.hosts))
        results = await self.fleet.run(lambda docker: docker.system.ping())
        assert all(r.ok for r in results.values())
        per_host = (settled_rss_kib() - base) / len(self.job.hosts)
        await self.fleet.close()
        return len(results), {"rss_per_host_kib": per_host}

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
