"""The floor: bare aiohttp and msgspec making the same requests, decoding into the same
Structs; for logs, a bare read of the stream with no demultiplexing at all."""

from __future__ import annotations

import aiohttp
import msgspec

from aiodockerapi.models import ContainerInspectResponse, ContainerSummary, EventMessage

from ..job import API_VERSION, Job, in_flight

V = f"/v{API_VERSION}"


class Client:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.session: aiohttp.ClientSession | None = None
        self.events_decoder = msgspec.json.Decoder(EventMessage)
        self.list_decoder = msgspec.json.Decoder(list[ContainerSummary])
        self.inspect_decoder = msgspec.json.Decoder(ContainerInspectResponse)

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(
            "http://localhost",
            connector=aiohttp.UnixConnector(self.job.socket_path, limit=100),
            auto_decompress=False,
        )
        async with self.session.head("/_ping") as resp:
            await resp.read()

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def events(self) -> int:
        assert self.session is not None
        n = 0
        buf = b""
        async with self.session.get(f"{V}/events", timeout=aiohttp.ClientTimeout()) as resp:
            async for chunk in resp.content.iter_any():
                data = buf + chunk
                cut = data.rfind(b"\n") + 1
                n += len(self.events_decoder.decode_lines(data[:cut]))
                buf = data[cut:]
        return n

    async def warmup_list(self) -> None:
        await self._list()

    async def _list(self) -> int:
        assert self.session is not None
        async with self.session.get(f"{V}/containers/json", params={"all": "1"}) as resp:
            return len(self.list_decoder.decode(await resp.read()))

    async def list(self) -> int:
        n = 0
        for _ in range(self.job.lists):
            n += await self._list()
        return n

    async def _inspect(self, cid: str) -> None:
        assert self.session is not None
        async with self.session.get(f"{V}/containers/{cid}/json", params={"size": "0"}) as resp:
            self.inspect_decoder.decode(await resp.read())

    async def warmup_inspect(self) -> None:
        await in_flight(self.job.inspect_ids()[:200], self.job.in_flight, self._inspect)

    async def inspect(self) -> int:
        return await in_flight(self.job.inspect_ids(), self.job.in_flight, self._inspect)

    async def logs(self) -> int:
        assert self.session is not None
        n = 0
        url = f"{V}/containers/{self.job.logs_container}/logs"
        params = {"stdout": "1", "stderr": "1"}
        async with self.session.get(url, params=params, timeout=aiohttp.ClientTimeout()) as resp:
            async for chunk in resp.content.iter_any():
                n += len(chunk)
        return n
