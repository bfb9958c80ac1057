"""What `import aiodockerapi` loads, and what waits for the first call that needs it.

Short scripts and the CLI pay for every module imported up front (issue 13: import time at
most aiodocker's); these tests keep the stream, ssh, credentials and fleet machinery out of
the import and the plain calls, in a fresh interpreter each.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.sandbox import Sandbox

# Loaded only when something needs them.
LATER = (
    "aiodockerapi.ssh",
    "aiodockerapi.http.sockets",
    "aiodockerapi.http.rawhttp",
    "aiodockerapi.bodies.demux",
    "aiodockerapi.bodies.jsonstream",
    "aiodockerapi.bodies.streams",
    "aiodockerapi.bodies.download",
    "aiodockerapi.bodies.build_context",
    "aiodockerapi.bodies.dockerignore",
    "aiodockerapi.auth",
    "aiodockerapi.fleet",
    "aiodockerapi.operations",
    "aiodockerapi.models.generated",
    "anyio",
    "dataclasses",
    "tarfile",
)
# What no plain call needs: tar building, anyio, the stream decoders, ssh, credentials.
NOT_FOR_PLAIN_CALLS = {
    "aiodockerapi.bodies.build_context",
    "aiodockerapi.bodies.dockerignore",
    "aiodockerapi.bodies.demux",
    "aiodockerapi.bodies.jsonstream",
    "aiodockerapi.http.sockets",
    "aiodockerapi.http.rawhttp",
    "aiodockerapi.ssh",
    "aiodockerapi.auth",
    "anyio",
    "tarfile",
}

SCRIPT = """
import asyncio, json, sys
before = set(sys.modules)
import aiodockerapi
imported = set(sys.modules)
async def main():
    async with aiodockerapi.Docker({host!r}) as docker:
        await docker.system.ping()
        await docker.containers.list(all=True)
        try:
            await docker.containers.inspect("aiodockerapi-test-no-such-container")
        except aiodockerapi.NotFound:
            pass
        called = set(sys.modules)
        async for _ in docker.system.events(since=0, until=1):
            pass
        streamed = set(sys.modules)
    return called, streamed
called, streamed = asyncio.run(main())
print(json.dumps({{"imported": sorted(imported - before), "called": sorted(called - before),
                  "streamed": sorted(streamed - before)}}))
"""


def _loaded(host: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT.format(host=host)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_import_and_plain_calls_leave_the_rest_unloaded(sandbox: Sandbox) -> None:
    loaded = _loaded(sandbox.unix_url)
    imported = set(loaded["imported"])
    assert "aiodockerapi.client" in imported
    assert not imported & set(LATER), sorted(imported & set(LATER))
    # A plain call brings its resource, the operation table and the models, nothing more.
    called = set(loaded["called"])
    assert {"aiodockerapi.resources.containers", "aiodockerapi.operations"} <= called
    assert not called & NOT_FOR_PLAIN_CALLS, sorted(called & NOT_FOR_PLAIN_CALLS)
    # The first stream loads the stream decoders (and not ssh, on a unix socket).
    streamed = set(loaded["streamed"])
    assert {"aiodockerapi.bodies.jsonstream", "aiodockerapi.http.sockets"} <= streamed
    assert "aiodockerapi.ssh" not in streamed


def test_public_names_that_load_later_still_resolve() -> None:
    import aiodockerapi

    for name in aiodockerapi.__all__:
        assert getattr(aiodockerapi, name) is not None, name
    assert aiodockerapi.Frame.__module__.startswith("aiodockerapi.models")
