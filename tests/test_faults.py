"""Broken connections against the real daemon, through a fault-injecting proxy
(tests/faultproxy.py): every failure is the error docs/errors.md says, streams never end
silently when cut, close() ends live streams, and nothing is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import logging
import os
import shutil
import socket
import tarfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiodockerapi import (
    ClientClosed,
    Docker,
    DockerConnectionError,
    DockerStreamError,
    DockerTimeoutError,
    NotFound,
    StreamCut,
    TLSConfig,
)
from aiodockerapi import operations as ops
from aiodockerapi.models import EventMessage

from .conftest import container_config, running_sandbox
from .faultproxy import FaultProxy, Rule
from .registry import Registry, registry  # noqa: F401
from .sandbox import Sandbox

# The proxy scenarios test the client: on 20.10 and 28.5 (the oldest and newest daemon).
pytestmark = [pytest.mark.daemon, pytest.mark.flavours("20.10", "28.5")]

BOUND = 30  # seconds any one scenario may take before it counts as hung


def open_fds() -> int:
    """This process's open file descriptors."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # listdir's own descriptor
            os.readlink(f"/proc/self/fd/{fd}")
            count += 1
    return count


async def fds_back_to(before: int) -> int:
    """Open descriptors once the loop has run the closes already scheduled."""
    for _ in range(200):
        if open_fds() <= before:
            break
        await asyncio.sleep(0.01)
    return open_fds()


@contextlib.asynccontextmanager
async def no_leaks(caplog: pytest.LogCaptureFixture) -> AsyncIterator[None]:
    """Run the block in asyncio's debug mode; afterwards no descriptor, task, ResourceWarning
    or asyncio error report may be left from it."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    gc.collect()
    fds = open_fds()
    tasks = asyncio.all_tasks()
    loop.set_debug(True)
    try:
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            yield
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_debug(debug)
    assert await fds_back_to(fds) <= fds, "a descriptor was left open"
    left = {t for t in asyncio.all_tasks() - tasks if t is not asyncio.current_task()}
    assert not left, f"tasks left running: {left}"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], caught
    reports = [
        r.getMessage()
        for r in caplog.records
        if r.name == "asyncio" and not r.getMessage().startswith("Executing")
    ]
    assert not reports, reports


@pytest.fixture
async def proxy(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> AsyncIterator[FaultProxy]:
    async with no_leaks(caplog), FaultProxy(sandbox.unix_socket) as p:
        yield p


@pytest.fixture
async def busy(sandbox: Sandbox, image: str) -> AsyncIterator[str]:
    """A running container printing a numbered line every 0.1 s; removed afterwards."""
    async with Docker(sandbox.unix_url) as docker:
        config = container_config(
            image, "sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done"
        )
        created = await docker.containers.create(config, name=f"faults-{uuid.uuid4().hex[:10]}")
        await docker.containers.start(created.id)
        try:
            yield created.id
        finally:
            await docker.containers.delete(created.id, force=True)


async def volume_events(sandbox: Sandbox, count: int) -> tuple[float, dict[str, Any]]:
    """Make `count` volume events (created and removed straight away); their start time and
    the filter that picks them."""
    label = uuid.uuid4().hex[:12]
    names = [f"faults-{label}-{i}" for i in range(count)]
    since = time.time() - 1
    async with Docker(sandbox.unix_url) as docker:
        for name in names:
            await docker.volumes.create({"Name": name})
            await docker.volumes.delete(name)
    return since, {"type": "volume", "event": "create", "volume": names}


# -- streams cut before their end ------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(Rule("/events", cut_in_chunk=2), id="mid-event"),
        pytest.param(Rule("/events", fin_after_chunks=1), id="between-events"),
    ],
)
async def test_events_cut_raise_streamcut_after_the_events_before(
    sandbox: Sandbox, proxy: FaultProxy, rule: Rule
) -> None:
    since, filters = await volume_events(sandbox, 3)
    proxy.add(rule)
    got: list[EventMessage] = []
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut) as cut:
            async for event in docker.system.events(since=since, filters=filters):
                got.append(event)
    assert rule.hits == 1
    assert isinstance(cut.value, DockerConnectionError)
    assert "before its end" in str(cut.value)
    assert [e.action for e in got] == ["create"]


async def test_events_that_end_normally_end_without_error(
    sandbox: Sandbox, proxy: FaultProxy
) -> None:
    since, filters = await volume_events(sandbox, 3)
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        got = [
            e async for e in docker.system.events(since=since, until=time.time(), filters=filters)
        ]
    assert [e.action for e in got] == ["create"] * 3


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(Rule("/events", cut_in_chunk=2), id="mid-chunk"),
        pytest.param(Rule("/events", fin_after_chunks=1), id="between-chunks"),
        pytest.param(Rule("/events", reset_after=40), id="reset"),
    ],
)
async def test_a_cut_through_the_pool_raises_streamcut(
    sandbox: Sandbox, proxy: FaultProxy, rule: Rule
) -> None:
    """A stream with a timeout goes through aiohttp's pool: its end of body is aiohttp's,
    which must tell a cut from the chunked terminator too."""
    since, filters = await volume_events(sandbox, 3)
    proxy.add(rule)
    async with asyncio.timeout(BOUND), Docker(proxy.tcp_url) as docker:
        await docker.system.ping()
        req = ops.SystemEvents(since=str(since), filters=filters)
        with pytest.raises(StreamCut):
            async for _ in docker.transport.stream_json(req, EventMessage, timeout=BOUND):
                pass
    assert rule.hits == 1


async def test_logs_cut_raise_streamcut(proxy: FaultProxy, busy: str) -> None:
    proxy.add(Rule("/logs", cut_in_chunk=3))
    got: list[bytes] = []
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut):
            async for frame in docker.containers.logs(busy, stdout=True, follow=True):
                got.append(frame.data)
    assert got[:2] == [b"line 1\n", b"line 2\n"]


async def test_stats_cut_raise_streamcut(proxy: FaultProxy, busy: str) -> None:
    proxy.add(Rule("/stats", cut_in_chunk=1))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut):
            async for _ in docker.containers.stats(busy):
                pass


def tar_of(dockerfile: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_build_cut_raises_streamcut(proxy: FaultProxy, image: str, repo: str) -> None:
    proxy.add(Rule("/build", cut_in_chunk=2))
    context = tar_of(f"FROM {image}\nRUN echo {uuid.uuid4().hex}\nRUN echo two\n")
    got = []
    async with asyncio.timeout(BOUND * 2), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut) as cut:
            async for message in docker.images.build(context, t=f"{repo}:cut"):
                got.append(message)
        # a cut is still a DockerStreamError, as it was before it was a connection error
        assert isinstance(cut.value, DockerStreamError)
    assert len(got) == 1


async def test_push_and_pull_cut_raise_streamcut(
    sandbox: Sandbox,
    image: str,
    registry: Registry,  # noqa: F811 (set up before the proxy's leak check starts)
    proxy: FaultProxy,
    label: str,
) -> None:
    name = registry.image(f"aiodockerapi/faults{label}")
    auth = registry.credentials
    async with Docker(sandbox.unix_url) as direct:
        await direct.images.tag(image, repo=name, tag="v1")
        try:
            async with asyncio.timeout(BOUND * 2), Docker(proxy.unix_url) as docker:
                proxy.add(Rule("/push", cut_in_chunk=2))
                with pytest.raises(StreamCut):
                    async for _ in docker.images.push(f"{name}:v1", auth=auth):
                        pass
                async for _ in docker.images.push(f"{name}:v1", auth=auth):
                    pass
                await docker.images.delete(f"{name}:v1")
                proxy.add(Rule("/images/create", cut_in_chunk=2))
                with pytest.raises(StreamCut):
                    async for _ in docker.images.pull(f"{name}:v1", auth=auth):
                        pass
        finally:
            with contextlib.suppress(NotFound):
                await direct.images.delete(f"{name}:v1", force=True)


async def test_archive_downloads_cut_raise_streamcut(
    proxy: FaultProxy, busy: str, image: str
) -> None:
    """An image export (over a socket of its own) and a container's archive (through the
    pool, with its metadata header)."""
    proxy.add(Rule("/images/", fin_after=5000))
    proxy.add(Rule("/archive", fin_after=5000))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut):
            async for _ in docker.images.get(image):
                pass
        with pytest.raises(StreamCut):
            async for _ in docker.containers.get_archive(busy, path="/bin"):
                pass
        tar = b"".join([c async for c in docker.containers.get_archive(busy, path="/bin")])
    assert len(tar) > 5000


async def exec_output(docker: Docker, cid: str, script: str) -> list[bytes]:
    """Run `script` in `cid` attached; the frames' data, until the output ends or raises."""
    created = await docker.exec.create(
        cid, {"Cmd": ["sh", "-c", script], "AttachStdout": True, "AttachStderr": True}
    )
    got: list[bytes] = []
    async with docker.exec.start(created.id) as stream:
        async for frame in stream:
            got.append(frame.data)
    return got


async def test_exec_output_cut_inside_a_frame_raises_streamcut(
    proxy: FaultProxy, busy: str
) -> None:
    # The first frame (8 header bytes + "one\n") goes through, then 3 bytes of the next.
    proxy.add(Rule("/exec/", fin_after=15))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut, match="inside a frame"):
            await exec_output(docker, busy, "echo one; sleep 0.3; echo two; sleep 30")


async def test_exec_output_reset_raises_streamcut(proxy: FaultProxy, busy: str) -> None:
    proxy.add(Rule("/exec/", reset_after=15))
    async with asyncio.timeout(BOUND), Docker(proxy.tcp_url) as docker:
        with pytest.raises(StreamCut):
            await exec_output(docker, busy, "echo one; sleep 0.3; echo two; sleep 30")


async def test_attach_output_cut_inside_a_frame_raises_streamcut(
    proxy: FaultProxy, busy: str
) -> None:
    proxy.add(Rule("/attach", fin_after=10))  # a frame header and 2 bytes of "line N\n"
    got = []
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        with pytest.raises(StreamCut, match="inside a frame"):
            async with docker.containers.attach(busy, stream=True, stdout=True) as stream:
                async for frame in stream:
                    got.append(frame)
    assert got == []


async def test_exec_output_ending_normally_ends(proxy: FaultProxy, busy: str) -> None:
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        got = await exec_output(docker, busy, "echo one; sleep 0.1; echo two")
    assert b"".join(got) == b"one\ntwo\n"


# -- plain calls -------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["unix", "tcp"])
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"fin_after": 50}, id="fin"),
        pytest.param({"reset_after": 50}, id="reset"),
        pytest.param({"cut_in_chunk": 1}, id="mid-chunk"),
    ],
)
async def test_a_plain_call_cut_mid_body_is_a_connection_error_and_the_next_succeeds(
    proxy: FaultProxy, fault: dict[str, int], via: str
) -> None:
    rule = proxy.add(Rule("/info", **fault))
    async with asyncio.timeout(BOUND), Docker(getattr(proxy, f"{via}_url")) as docker:
        await docker.system.ping()
        with pytest.raises(DockerConnectionError) as broke:
            await docker.system.info()
        assert not isinstance(broke.value, StreamCut | DockerTimeoutError)
        assert "GET /info on" in str(broke.value)
        assert (await docker.system.info()).id
    assert rule.hits == 1


@pytest.mark.parametrize("via", ["unix", "tcp"])
async def test_a_reset_before_the_head_is_a_connection_error(proxy: FaultProxy, via: str) -> None:
    """aiohttp sends an idempotent request once more when its connection fails before the
    head (the far end may have closed it just then): the second failure is what raises."""
    rules = [proxy.add(Rule("/info", reset_at_head=True)) for _ in range(2)]
    url = getattr(proxy, f"{via}_url")
    async with asyncio.timeout(BOUND), Docker(url) as docker:
        await docker.system.ping()
        with pytest.raises(DockerConnectionError, match=r"GET /info on .* failed") as broke:
            await docker.system.info()
        assert type(broke.value) is DockerConnectionError
        assert (await docker.system.info()).id
    assert [rule.hits for rule in rules] == [1, 1]


@pytest.mark.parametrize("stream", [False, True])
async def test_tls_refused_is_a_connection_error(sandbox: Sandbox, stream: bool) -> None:
    """The sandbox's TCP port wants a client certificate; a client without one is refused."""
    assert sandbox.tls_files is not None and sandbox.tcp_url is not None
    tls = TLSConfig(ca_cert=str(sandbox.tls_files.ca))
    async with asyncio.timeout(BOUND), Docker(sandbox.tcp_url, tls=tls) as docker:
        with pytest.raises(DockerConnectionError, match="client certificate"):
            if stream:
                async for _ in docker.system.events():
                    pass
            else:
                await docker.system.ping()


@pytest.mark.parametrize("what", ["plain", "stream"])
async def test_a_garbage_status_line_is_a_connection_error(
    sandbox: Sandbox, proxy: FaultProxy, what: str
) -> None:
    proxy.add(Rule("/info" if what == "plain" else "/events", garbage_status=True))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url) as docker:
        await docker.system.ping()
        with pytest.raises(DockerConnectionError, match="HTTX"):
            if what == "plain":
                await docker.system.info()
            else:
                async for _ in docker.system.events():
                    pass
        await docker.system.ping()


async def test_a_stalled_response_is_a_timeout(proxy: FaultProxy) -> None:
    proxy.add(Rule("/info", stall=True))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url, timeout=1) as docker:
        await docker.system.ping()
        with pytest.raises(DockerTimeoutError, match=r"GET /info .* timed out after 1 s"):
            await docker.system.info()
        assert (await docker.system.info()).id


async def test_latency_and_a_slow_drip_within_the_timeout_give_the_answer(
    sandbox: Sandbox, proxy: FaultProxy
) -> None:
    async with Docker(sandbox.unix_url) as direct:
        want = await direct.system.version()
    proxy.add(Rule("/version", latency=0.2))
    proxy.add(Rule("/version", drip=0.001))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url, api_version="1.41") as docker:
        assert await docker.system.version() == want
        assert await docker.system.version() == want


async def test_a_drip_slower_than_the_timeout_is_a_timeout(proxy: FaultProxy) -> None:
    proxy.add(Rule("/info", drip=0.05))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url, timeout=1) as docker:
        await docker.system.ping()
        with pytest.raises(DockerTimeoutError):
            await docker.system.info()


async def test_an_idle_pooled_connection_closed_by_the_far_end_is_not_an_error(
    proxy: FaultProxy,
) -> None:
    rule = proxy.add(Rule("/_ping", close_idle=0.01))
    async with asyncio.timeout(BOUND), Docker(proxy.unix_url, api_version="1.41") as docker:
        await docker.system.ping()
        await proxy.wait_idle()  # the proxy closed the pooled connection
        assert proxy.connections == 1
        assert (await docker.system.info()).id
    assert rule.hits == 1 and proxy.connections == 2


async def test_refused_is_a_connection_error(tmp_path: Any) -> None:
    async with asyncio.timeout(BOUND), Docker(f"unix://{tmp_path}/none.sock") as docker:
        with pytest.raises(DockerConnectionError, match="cannot connect"):
            await docker.system.ping()


async def test_no_connection_within_the_connect_timeout_is_a_timeout() -> None:
    """A listener whose accept queue is full: the kernel drops further SYNs, so connecting
    hangs until the client's 10 s connect timeout, in a plain call and in a stream."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(4)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            url = f"tcp://127.0.0.1:{port}"
            async with asyncio.timeout(BOUND), Docker(url, api_version="1.41") as docker:

                async def stream() -> None:
                    async for _ in docker.system.events():
                        pass

                results = await asyncio.gather(
                    docker.system.info(), stream(), return_exceptions=True
                )
        finally:
            for filler in fillers:
                filler.close()
    for result in results:
        assert isinstance(result, DockerTimeoutError), results
        assert "cannot connect to the Docker daemon" in str(result)
        assert "no connection within 10 s" in str(result)


# -- close() -------------------------------------------------------------------------------


async def test_close_ends_live_streams_with_clientclosed(
    sandbox: Sandbox, proxy: FaultProxy, busy: str
) -> None:
    """A followed log, an events stream (own sockets), an events stream through the pool,
    an exec's output and a resumable events stream (which must not reconnect): close() ends
    each with ClientClosed, at once, sockets closed."""
    since, filters = await volume_events(sandbox, 1)
    docker = Docker(proxy.unix_url)
    started = [asyncio.Event() for _ in range(5)]

    async def drain(i: int, stream: AsyncIterator[Any]) -> None:
        async for _ in stream:
            started[i].set()

    async def exec_waits() -> None:
        created = await docker.exec.create(
            busy, {"Cmd": ["sh", "-c", "echo up; sleep 60"], "AttachStdout": True}
        )
        async with docker.exec.start(created.id) as stream:
            assert await stream.read_frame() is not None
            started[3].set()
            await stream.read_frame()

    pooled = docker.transport.stream_json(
        ops.SystemEvents(since=str(since), filters=filters), EventMessage, timeout=600
    )
    tasks = [
        asyncio.create_task(drain(0, docker.containers.logs(busy, stdout=True, follow=True))),
        asyncio.create_task(drain(1, docker.system.events(since=since, filters=filters))),
        asyncio.create_task(drain(2, pooled)),
        asyncio.create_task(exec_waits()),
        asyncio.create_task(
            drain(4, docker.system.events(since=since, filters=filters, resume=True))
        ),
    ]
    async with asyncio.timeout(BOUND):
        await asyncio.gather(*(s.wait() for s in started))
        assert len(docker.transport.live) == 5
        await docker.close()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await proxy.wait_idle()  # every connection the client had is closed
    assert [type(r) for r in results] == [ClientClosed] * 5, results
    assert all(isinstance(r, DockerConnectionError) for r in results)
    assert "the client was closed" in str(results[0])
    assert len(docker.transport.live) == 0
    with pytest.raises(ClientClosed):
        await docker.system.ping()
    with pytest.raises(ClientClosed):
        async for _ in docker.system.events():
            pass


async def test_close_ends_an_attach_websocket(proxy: FaultProxy, busy: str) -> None:
    docker = Docker(proxy.unix_url)
    got: list[bytes] = []
    async with asyncio.timeout(BOUND):
        with pytest.raises(ClientClosed):
            async with docker.containers.attach_websocket(busy, stdout=True, stream=True) as ws:
                async for message in ws:
                    got.append(message.data)
                    if len(got) == 1:
                        await docker.close()
        await proxy.wait_idle()
    assert got


@pytest.mark.parametrize("via", ["unix", "tcp"])
async def test_close_ends_a_plain_call_in_flight_with_clientclosed(
    proxy: FaultProxy, via: str
) -> None:
    rule = proxy.add(Rule("/info", stall=True))
    docker = Docker(getattr(proxy, f"{via}_url"))
    await docker.system.ping()
    call = asyncio.create_task(docker.system.info())
    async with asyncio.timeout(BOUND):
        await rule.applied.wait()  # the request reached the daemon, the answer is held
        await docker.close()
        with pytest.raises(ClientClosed):
            await call
        await proxy.wait_idle()


async def test_closing_an_idle_client_leaves_nothing(proxy: FaultProxy) -> None:
    async with asyncio.timeout(BOUND):
        async with Docker(proxy.tcp_url) as docker:
            await docker.system.info()
        await proxy.wait_idle()


# -- a daemon killed under load ------------------------------------------------------------


@pytest.fixture(scope="module")
def killable() -> Iterator[Sandbox]:
    """A daemon of this module's own, to SIGKILL."""
    with running_sandbox() as box:
        yield box


async def test_a_daemon_killed_under_concurrent_calls(
    killable: Sandbox, caplog: pytest.LogCaptureFixture, busybox_context: Path
) -> None:
    """~50 workers call the daemon while it is SIGKILLed and restarted on the same socket,
    three events streams watch and a build runs a step: every failure is a
    DockerConnectionError (the streams' and the build's a StreamCut), and calls succeed again
    afterwards."""
    context = busybox_context.parent / "killed-build"
    context.mkdir(exist_ok=True)
    shutil.copy(busybox_context / "busybox", context / "busybox")
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "sh", "-c", "echo step-started; exec /bin/busybox sleep 120"]\n'
    )
    async with no_leaks(caplog), Docker(killable.unix_url) as docker:
        await docker.system.ping()
        failures: list[BaseException] = []
        restarted = asyncio.Event()
        ok_after = 0

        async def worker(i: int) -> None:
            nonlocal ok_after
            made = 0

            async def create_volume() -> None:
                # A POST: aiohttp does not send it again when its connection breaks, so
                # calls cut in flight show here (a GET's retry meets the refused socket).
                nonlocal made
                made += 1
                await docker.volumes.create({"Name": f"faults-{i}-{made}"})

            calls = (docker.system.ping, docker.containers.list, docker.system.info, create_volume)
            while True:
                try:
                    await calls[i % 4]()
                except DockerConnectionError as exc:
                    failures.append(exc)
                    await asyncio.sleep(0.02)
                    continue
                except Exception as exc:
                    failures.append(exc)
                    return
                if restarted.is_set():
                    ok_after += 1
                    return
                await asyncio.sleep(0)

        since = time.time() - 1
        await docker.volumes.create({"Name": "faults-killed"})
        watching = asyncio.Semaphore(0)

        async def watcher() -> BaseException | None:
            try:
                async for _ in docker.system.events(since=since, filters={"type": "volume"}):
                    watching.release()  # the stream runs: the volume's event came
            except Exception as exc:
                return exc
            return None

        building = asyncio.Event()

        async def builder() -> BaseException | None:
            try:
                async for info in docker.images.build(context, networkmode="none"):
                    if info.stream and "step-started" in info.stream:
                        building.set()
            except Exception as exc:
                return exc
            return None

        async with asyncio.timeout(90):
            watchers = [asyncio.create_task(watcher()) for _ in range(3)]
            for _ in watchers:
                await watching.acquire()
            build = asyncio.create_task(builder())
            await building.wait()
            workers = [asyncio.create_task(worker(i)) for i in range(50)]
            await asyncio.sleep(0.5)
            proc = killable._proc
            assert proc is not None
            proc.kill()
            await asyncio.to_thread(proc.wait)
            # Its containerd dies with it (a parent-death signal), but this VM's init reaps
            # the orphan lazily: a daemon started meanwhile would take the zombie its pid
            # file names for a live containerd and wait on it.
            await asyncio.to_thread(killable._kill_leftovers)
            (killable.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
            await asyncio.sleep(0.3)  # calls meet a dead socket meanwhile
            await asyncio.to_thread(killable.relaunch)
            restarted.set()
            await asyncio.gather(*workers)
            cuts = await asyncio.gather(*watchers)
            build_cut = await build
            assert (await docker.system.ping()).api_version
    wrong = [f for f in failures if not isinstance(f, DockerConnectionError)]
    assert not wrong, wrong
    assert failures, "the daemon died under the calls: some must have failed"
    assert ok_after == 50
    assert all(isinstance(c, StreamCut) for c in cuts), cuts
    assert isinstance(build_cut, StreamCut), build_cut
