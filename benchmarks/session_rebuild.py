"""A rebuild after a one-file change: the context synced over the BuildKit session against the
same context tarred and uploaded whole (both with `version="2"`, the same Dockerfile).

    python -m benchmarks.session_rebuild [--docker-host unix:///...] [--files 2000]
        [--file-kib 32] [--rounds 3]

Without --docker-host it starts the tests' private sandbox dockerd (20.10). Each round
changes one small file, then builds both ways; the session's shared key is the same every
round, so the daemon's copy of the directory is what the sync compares against (the first
round, which sends everything, is a warm-up and not counted). It prints the bytes of content
each way sent and the seconds each build took, medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiodockerapi import Docker  # noqa: E402
from aiodockerapi import operations as ops  # noqa: E402
from aiodockerapi.buildkit import run_build  # noqa: E402
from aiodockerapi.buildkit.session.build import SessionOptions, session_build  # noqa: E402
from aiodockerapi.buildkit.session.filesync import FileSyncService, context_dirs  # noqa: E402
from aiodockerapi.buildkit.session.fsutil_pb2 import Packet  # noqa: E402
from aiodockerapi.buildkit.session.packets import PacketStream  # noqa: E402

IMAGE = "aiodockerapi-bench/busybox:latest"
DOCKERFILE = f"FROM {IMAGE}\nCOPY . /ctx\nRUN cat /ctx/changing.txt\n"


class CountingSync(FileSyncService):
    """FileSync that counts the bytes of file content it sends."""

    data_bytes = 0

    async def diff_copy(self, stream: PacketStream) -> None:
        await super().diff_copy(_Counting(stream, self))


class _Counting:
    def __init__(self, stream: PacketStream, owner: CountingSync) -> None:
        self._stream, self._owner = stream, owner
        self.metadata = stream.metadata

    async def recv_message(self) -> Any:
        return await self._stream.recv_message()

    async def send_message(self, packet: Any) -> None:
        if packet.type == Packet.PACKET_DATA:
            self._owner.data_bytes += len(packet.data)
        await self._stream.send_message(packet)


def make_context(ctx: Path, files: int, size: int) -> None:
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    for i in range(files):
        sub = ctx / f"d{i % 50:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i:05d}.bin").write_bytes(os.urandom(size))
    (ctx / "changing.txt").write_text("round 0\n")


def tar_of(ctx: Path) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(ctx, arcname=".")
    return out.getvalue()


async def session_round(docker: Docker, ctx: Path) -> tuple[int, float]:
    sync = CountingSync(context_dirs(ctx))
    req = ops.ImageBuild(
        remote="client-session", dockerfile="Dockerfile", version="2", networkmode="none"
    )
    options = SessionOptions(services=[sync], shared_key=f"bench-{ctx}")
    began = time.perf_counter()
    await run_build(session_build(docker.transport, req, options, data=None, headers={}))
    return sync.data_bytes, time.perf_counter() - began


async def tar_round(docker: Docker, ctx: Path) -> tuple[int, float]:
    began = time.perf_counter()
    data = await asyncio.to_thread(tar_of, ctx)
    await run_build(docker.images.build(data, version="2", networkmode="none"))
    return len(data), time.perf_counter() - began


async def measure(host: str, files: int, size: int, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {k: [] for k in ("session B", "session s", "tar B", "tar s")}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        await asyncio.to_thread(make_context, ctx, files, size)
        async with Docker(host) as docker:
            await ensure_image(docker)
            for n in range(rounds + 1):
                (ctx / "changing.txt").write_text(f"round {n + 1}\n")
                sent, seconds = await session_round(docker, ctx)
                tar_sent, tar_seconds = await tar_round(docker, ctx)
                if n:  # round 0 fills the daemon's copy of the directory
                    samples["session B"].append(sent)
                    samples["session s"].append(seconds)
                    samples["tar B"].append(tar_sent)
                    samples["tar s"].append(tar_seconds)
    return samples


async def ensure_image(docker: Docker) -> None:
    data = await asyncio.to_thread(busybox_context)
    async for _ in docker.images.build(data, t=IMAGE, networkmode="none"):
        pass


def busybox_context() -> bytes:
    busybox = Path("/bin/busybox").read_bytes()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in (
            (
                "Dockerfile",
                b"FROM scratch\nCOPY busybox /bin/busybox\n"
                b'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n',
            ),
            ("busybox", busybox),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@contextlib.contextmanager
def daemon(given: str | None) -> Iterator[str]:
    if given is not None:
        yield given
        return
    from tests.sandbox import Sandbox

    with Sandbox(tls=False) as box:
        yield box.unix_url


def report(samples: dict[str, list[float]], files: int, size: int) -> str:
    med = {k: statistics.median(v) for k, v in samples.items()}
    return "\n".join(
        [
            f"context: {files} files of {size // 1024} KiB, one small file changed per round; "
            f"medians of {len(samples['tar s'])} rounds",
            "| way | content sent | seconds |",
            "| --- | ---: | ---: |",
            f"| session (FileSync) | {med['session B']:,.0f} B | {med['session s']:.2f} |",
            f"| tar upload | {med['tar B']:,.0f} B | {med['tar s']:.2f} |",
            f"| ratio tar / session | {med['tar B'] / max(med['session B'], 1):,.0f}x | "
            f"{med['tar s'] / med['session s']:.2f}x |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--file-kib", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    size = args.file_kib * 1024
    with daemon(args.docker_host) as host:
        samples = asyncio.run(measure(host, args.files, size, args.rounds))
    print(report(samples, args.files, size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
