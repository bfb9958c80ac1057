"""A short tour of aiodockerapi: info, build, run, list, logs, events, prune.

Runs against DOCKER_HOST, else the default socket. `bash scripts/dev demo` starts a private
sandbox daemon when none answers. The image is built FROM scratch around Debian's static
busybox (/bin/busybox from busybox-static), so nothing is pulled from the internet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from aiodockerapi import Docker, StreamType

IMAGE = "aiodockerapi-tour/busybox:latest"
LABEL = "aiodockerapi.tour"


async def main() -> None:
    async with Docker() as docker:
        info = await docker.system.info()
        print(
            f"daemon {info.server_version} at {docker.host}: "
            f"{info.containers_running} of {info.containers} containers running, "
            f"{info.images} images"
        )

        with tempfile.TemporaryDirectory() as ctx:
            shutil.copy("/bin/busybox", Path(ctx) / "busybox")
            (Path(ctx) / "Dockerfile").write_text(
                "FROM scratch\n"
                "COPY busybox /bin/busybox\n"
                'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            )
            print(f"building {IMAGE} ...")
            async for message in docker.images.build(ctx, t=IMAGE, pull=False):
                if message.stream and message.stream.strip():
                    print("  |", message.stream.rstrip())

        since = dt.datetime.now(dt.timezone.utc)
        created = await docker.containers.create(
            {
                "Image": IMAGE,
                "Cmd": ["sh", "-c", "echo hello from stdout; echo and from stderr >&2; exit 0"],
                "Labels": {LABEL: "yes"},
                "HostConfig": {"NetworkMode": "none"},
            },
            name="aiodockerapi-tour",
        )
        assert created.id is not None
        print(f"created {created.id[:12]}")
        await docker.containers.start(created.id)
        status = await docker.containers.wait(created.id)
        print(f"exited with {status.status_code}")

        listed = await docker.containers.list(all=True, filters={"label": f"{LABEL}=yes"})
        for c in listed:
            print(f"listed {c.id and c.id[:12]} {c.names} {c.state}: {c.status}")

        async for frame in docker.containers.logs(created.id, stdout=True, stderr=True):
            name = "stdout" if frame.stream == StreamType.STDOUT else "stderr"
            print(f"{name}: {frame.data.decode().rstrip()}")

        until = dt.datetime.now(dt.timezone.utc)
        async for event in docker.system.events(
            since=since, until=until, filters={"container": created.id}
        ):
            print(f"event {event.type} {event.action} at {event.time_nano}")

        pruned = await docker.containers.prune(filters={"label": LABEL})
        print(
            f"pruned {len(pruned.containers_deleted or [])} container(s), "
            f"{pruned.space_reclaimed} bytes reclaimed"
        )


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as exc:  # a demo: one clear line, not a traceback
        print(f"tour failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
