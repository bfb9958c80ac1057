"""A short tour of aiodockerapi: info, build, run, list, logs, events, clean-up.

Runs against DOCKER_HOST, else the default socket. `bash scripts/dev demo` starts a private
sandbox daemon when none answers there, and says so. The image is built FROM scratch around
Debian's static busybox (/bin/busybox from busybox-static), so nothing is pulled from the
internet. Whatever the tour creates (its container and its image) it removes at the end,
also on a daemon it did not start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path

from aiodockerapi import Docker, NotFound, StreamType

IMAGE = "aiodockerapi-tour/busybox:latest"
LABEL = "aiodockerapi.tour"
# The daemon copies stdout and stderr each on its own: a pause between the lines keeps the
# order they were written in.
SCRIPT = (
    "echo hello from stdout; sleep 0.2; echo and from stderr >&2; sleep 0.2; "
    "echo back on stdout; exit 0"
)


def which_daemon(host: str) -> str:
    """The first line: which daemon the tour uses, and why that one."""
    why = os.environ.get("AIODOCKERAPI_DEMO_DAEMON")  # set by `bash scripts/dev demo`
    if why:
        return why
    if os.environ.get("DOCKER_HOST"):
        return f"using the daemon at {host}: DOCKER_HOST names it"
    return f"using the daemon at {host}: no DOCKER_HOST, so the default"


async def main() -> None:
    async with Docker() as docker:
        print(which_daemon(docker.host), flush=True)
        info = await docker.system.info()
        print(
            f"daemon {info.server_version} at {docker.host}: "
            f"{info.containers_running} of {info.containers} containers running, "
            f"{info.images} images"
        )
        created_id: str | None = None
        try:
            created_id = await tour(docker)
        finally:
            await clean_up(docker, created_id)


async def tour(docker: Docker) -> str | None:
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
            "Cmd": ["sh", "-c", SCRIPT],
            "Labels": {LABEL: "yes"},
            "AttachStdout": True,
            "AttachStderr": True,
            "HostConfig": {"NetworkMode": "none"},
        },
        name="aiodockerapi-tour",
    )
    assert created.id is not None
    print(f"created {created.id[:12]}; its output, stdout and stderr as they come:")
    # Attached before it starts, so nothing is missed; frames come in the order written.
    async with docker.containers.attach(created.id, stdout=True, stderr=True, tty=False) as output:
        await docker.containers.start(created.id)
        async for frame in output:
            name = "stdout" if frame.stream == StreamType.STDOUT else "stderr"
            for line in frame.data.decode().splitlines():
                print(f"  {name}: {line}")
    status = await docker.containers.wait(created.id)
    print(f"exited with {status.status_code}")

    listed = await docker.containers.list(all=True, filters={"label": f"{LABEL}=yes"})
    for c in listed:
        print(f"listed {c.id and c.id[:12]} {c.names} {c.state}: {c.status}")

    until = dt.datetime.now(dt.timezone.utc)
    async for event in docker.system.events(
        since=since, until=until, filters={"container": created.id}
    ):
        print(f"event {event.type} {event.action} at {event.time_nano}")
    return created.id


async def clean_up(docker: Docker, created_id: str | None) -> None:
    """Remove what the tour made: its containers, then its image."""
    pruned = await docker.containers.prune(filters={"label": LABEL})
    print(
        f"pruned {len(pruned.containers_deleted or [])} container(s), "
        f"{pruned.space_reclaimed} bytes reclaimed"
    )
    for c in await docker.containers.list(all=True, filters={"label": LABEL}):
        if c.id:  # one still running, if the tour stopped half-way
            await docker.containers.delete(c.id, force=True)
    try:
        await docker.images.delete(IMAGE)
        print(f"removed {IMAGE}")
    except NotFound:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as exc:  # a demo: one clear line, not a traceback
        print(f"tour failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
