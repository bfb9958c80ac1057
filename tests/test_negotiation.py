"""API version negotiation and version-dependent stream types, against the real daemon.

Each pass of the compatibility matrix runs these against its own daemon (see
tests/sandbox.py): what is asserted depends on the versions that daemon reports, never on a
skip.
"""

from __future__ import annotations

import asyncio

import pytest

from aiodockerapi import BadRequest, Docker, StreamType
from aiodockerapi.transport import MAX_API_VERSION, MIN_API_VERSION

from .conftest import _calls_in, container_config, running_sandbox
from .sandbox import Sandbox

pytestmark = pytest.mark.daemon


def version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


async def test_unpinned_client_speaks_the_newest_version_both_have(docker: Docker) -> None:
    answer = await docker.system.version()
    assert answer.api_version is not None
    spoken = docker.api_version
    assert spoken is not None
    assert version(spoken) == min(version(answer.api_version), version(MAX_API_VERSION))
    assert version(spoken) >= version(MIN_API_VERSION)
    if answer.min_api_version:  # Podman 4.3 reports none
        assert version(spoken) >= version(answer.min_api_version)


async def test_a_pinned_version_below_the_daemons_floor_is_refused_by_it(
    sandbox: Sandbox,
) -> None:
    """Pinning wins over negotiation: the daemon's own answer reaches the caller."""
    async with Docker(sandbox.unix_url) as probe:
        floor = (await probe.system.version()).min_api_version or "1.12"
    async with Docker(sandbox.unix_url, api_version="1.41") as docker:
        if version(floor) > (1, 41):
            with pytest.raises(BadRequest, match=r"client version 1\.41 is too old"):
                await docker.system.info()
        else:
            assert (await docker.system.info()).id
        assert docker.api_version == "1.41"


@pytest.mark.parametrize("pin", [None, "1.41"])
async def test_multiplexed_logs_are_split_at_every_version(
    sandbox: Sandbox, image: str, label: str, pin: str | None
) -> None:
    """Docker 23 and later answer a request below API 1.42 with a raw-stream Content-Type even
    for multiplexed output: below 1.42 the first bytes decide, from 1.42 the type is trusted."""
    async with Docker(sandbox.unix_url) as probe:
        floor = (await probe.system.version()).min_api_version or "1.12"
    if pin is not None and version(floor) > version(pin):
        pin = None  # this daemon refuses 1.41 (the test above shows how): negotiate instead
    async with Docker(sandbox.unix_url, api_version=pin) as docker:
        labels = {"aiodockerapi.test": label}
        config = container_config(
            image, "sh", "-c", "echo out; echo err >&2; echo out2", Labels=labels
        )
        created = await docker.containers.create(config)
        try:
            await docker.containers.start(created.id)
            await docker.containers.wait(created.id)
            frames = [f async for f in docker.containers.logs(created.id, stdout=True, stderr=True)]
            out = b"".join(f.data for f in frames if f.stream is StreamType.STDOUT)
            err = b"".join(f.data for f in frames if f.stream is StreamType.STDERR)
            assert (out, err) == (b"out\nout2\n", b"err\n")
        finally:
            await docker.containers.delete(created.id, force=True)


@pytest.mark.parametrize("pin", [None, "1.41"])
async def test_attached_output_is_split_at_every_version(
    sandbox: Sandbox, image: str, label: str, pin: str | None
) -> None:
    async with Docker(sandbox.unix_url) as probe:
        floor = (await probe.system.version()).min_api_version or "1.12"
    if pin is not None and version(floor) > version(pin):
        pin = None
    async with Docker(sandbox.unix_url, api_version=pin) as docker:
        config = container_config(
            image,
            "sh",
            "-c",
            "read x; echo out $x; echo err $x >&2",
            OpenStdin=True,
            StdinOnce=True,
            Labels={"aiodockerapi.test": label},
        )
        created = await docker.containers.create(config)
        try:
            async with docker.containers.attach(
                created.id, stdin=True, stdout=True, stderr=True
            ) as stream:
                await docker.containers.start(created.id)
                await stream.write(b"hi\n")
                await stream.close_write()
                stdout, stderr = await stream.read_all()
            assert (stdout, stderr) == (b"out hi\n", b"err hi\n")
        finally:
            await docker.containers.delete(created.id, force=True)


async def test_a_daemon_upgraded_under_a_running_client_is_renegotiated_with() -> None:
    """dockerd 20.10 (API 1.41) is replaced, on the same data, by 28.5 with Docker 29's
    floor (1.44): the next requests, at 1.41, are refused as too old, and the client
    negotiates again, once for all of them, and sends each once more."""
    with running_sandbox(flavour="20.10") as box:
        async with Docker(box.unix_url) as docker:
            before = await docker.system.info()
            assert before.server_version.startswith("20.10.")
            assert docker.api_version == "1.41"
            await docker.volumes.create({"Name": "kept-across-the-upgrade"})
            await asyncio.to_thread(box.terminate)
            await asyncio.to_thread(box.relaunch, flavour="28.5-floor")
            handshakes = _calls_in(box.log_path).count(("HEAD", "/_ping"))
            # Ten calls refused at once share one renegotiation (single-flight).
            answers = await asyncio.wait_for(
                asyncio.gather(*(docker.system.info() for _ in range(10))), 60
            )
            assert _calls_in(box.log_path).count(("HEAD", "/_ping")) == handshakes + 1
            after = answers[0]
            assert after.server_version.startswith("28.5.")
            assert (await docker.volumes.inspect("kept-across-the-upgrade")).name
            assert docker.api_version == "1.51"
