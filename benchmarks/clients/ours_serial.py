"""aiodockerapi reading a fleet's hosts one after another: what Fleet's merge is held to."""

from __future__ import annotations

from aiodockerapi import Docker

from ..job import Job


class Client:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.clients = [Docker(host) for host in job.hosts]

    async def open(self) -> None:
        for docker in self.clients:
            await docker.system.ping()

    async def close(self) -> None:
        for docker in self.clients:
            await docker.close()

    async def fleet_events(self) -> int:
        n = 0
        for docker in self.clients:
            async for _ in docker.system.events():
                n += 1
        return n
