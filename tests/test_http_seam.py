"""The HTTP seam: both implementations (aiohttp's pool, sockets of our own) fail the same
way, and the client runs against an in-memory MockTransport."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from aiodockerapi import (
    ClientClosed,
    Docker,
    DockerConnectionError,
    DockerTimeoutError,
    NotFound,
    StreamCut,
    StreamType,
)
from aiodockerapi.hosts import parse_host
from aiodockerapi.http import HTTPRequest, HTTPTransport
from aiodockerapi.http.default import DefaultTransport, goes_over_own_socket
from aiodockerapi.http.pool import Pool
from aiodockerapi.http.sockets import Sockets
from aiodockerapi.testing import MockResponse, MockTransport

from .sandbox import Sandbox

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def implementations(url: str) -> dict[str, HTTPTransport]:
    host = parse_host(url, None)

    async def socket_path() -> str | None:
        return host.socket_path

    return {"pool": Pool(host, socket_path), "own socket": Sockets(host, socket_path)}


async def failures(url: str, use: Callable[[Docker], Awaitable[object]]) -> dict[str, Exception]:
    """What `use` raises through each implementation, by name."""
    raised: dict[str, Exception] = {}
    for name, http in implementations(url).items():
        async with Docker(url, api_version="1.41", timeout=0.5, transport=http) as docker:
            with pytest.raises(Exception) as caught:
                await asyncio.wait_for(use(docker), 10)
            raised[name] = caught.value
    return raised


def same(raised: dict[str, Exception], pattern: str) -> None:
    """One exception type, and messages of one shape, whichever way the request went."""
    types = {type(exc) for exc in raised.values()}
    assert len(types) == 1, raised
    for name, exc in raised.items():
        assert re.fullmatch(pattern, str(exc)), (name, str(exc))


@asynccontextmanager
async def serve(handle: Serve) -> AsyncIterator[str]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handle(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"tcp://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def stats(docker: Docker) -> object:
    return [s async for s in docker.containers.stats("c")]


async def test_connection_refused_reads_the_same() -> None:
    url = f"tcp://127.0.0.1:{closed_port()}"
    raised = await failures(url, lambda d: d.system.info())
    refused = rf"cannot connect to the Docker daemon at {re.escape(url)}: \[Errno 111\] .*"
    same(raised, refused)
    assert isinstance(raised["pool"], DockerConnectionError)
    same(await failures(url, stats), refused)


async def test_missing_socket_reads_the_same(tmp_path: object) -> None:
    url = "unix:///nonexistent/docker.sock"
    raised = await failures(url, lambda d: d.system.info())
    same(raised, r"cannot connect to the Docker daemon at unix:///nonexistent/docker\.sock: .*")


async def test_timeout_reads_the_same() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with serve(silent) as url:
        raised = await failures(url, lambda d: d.system.info())
    same(raised, rf"GET /info on {re.escape(url)} timed out after 0\.5 s")
    assert isinstance(raised["pool"], DockerTimeoutError)


async def test_daemon_hanging_up_mid_stream_reads_the_same() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n20\r\n{"rea'
        )
        await writer.drain()
        writer.close()

    async with serve(cut) as url:
        raised = await failures(url, stats)
    where = f"GET /containers/c/stats on {re.escape(url)}"
    same(raised, rf"{where}: the daemon closed the stream before its end \(.+\)")
    assert isinstance(raised["pool"], StreamCut)


async def test_plain_call_cut_mid_body_reads_the_same() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ID":')
        await writer.drain()
        writer.close()

    async with serve(cut) as url:
        raised = await failures(url, lambda d: d.system.info())
    where = f"GET /info on {re.escape(url)}"
    same(raised, rf"{where}: the connection broke before the end of the response \(.+\)")
    assert type(raised["pool"]) is DockerConnectionError


async def test_close_during_a_stream_reads_the_same() -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{}\n\r\n")
        await writer.drain()
        await reader.read()

    async def closed_midway(docker: Docker) -> object:
        async for _ in docker.containers.stats("c"):
            await docker.close()
        return None

    async with serve(endless) as url:
        raised = await failures(url, closed_midway)
    same(raised, rf"GET /containers/c/stats on {re.escape(url)}: the client was closed")
    assert isinstance(raised["pool"], ClientClosed)


async def test_error_status_reads_the_same() -> None:
    async def missing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b'{"message":"No such container: c"}'
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
        await writer.drain()
        writer.close()

    async with serve(missing) as url:
        raised = await failures(url, stats)
    same(raised, r"404: No such container: c")
    assert isinstance(raised["pool"], NotFound)


@pytest.mark.daemon
async def test_plain_http_to_a_tls_port_reads_the_same(sandbox: Sandbox) -> None:
    assert sandbox.tcp_url is not None
    url = sandbox.tcp_url
    for use in (lambda d: d.system.info(), stats):
        raised = await failures(url, use)
        same(
            raised,
            rf"{re.escape(url)} speaks TLS: pass tls=TLSConfig\(\.\.\.\) \(or tls=True to read "
            r"DOCKER_CERT_PATH\), or use an https:// URL",
        )
        assert isinstance(raised["pool"], DockerConnectionError)


def test_the_choice_between_pool_and_own_socket() -> None:
    def request(method: str = "GET", **kwargs: object) -> HTTPRequest:
        return HTTPRequest(method, "/v1.41/events", **kwargs)  # type: ignore[arg-type]

    assert goes_over_own_socket(request(stream=True), ssh=False)
    assert not goes_over_own_socket(request(stream=True), ssh=True)
    assert not goes_over_own_socket(request(), ssh=False)
    assert not goes_over_own_socket(request(stream=True, timeout=5.0), ssh=False)
    assert not goes_over_own_socket(request("POST", stream=True), ssh=False)
    assert not goes_over_own_socket(request(stream=True, data=b"x"), ssh=False)
    default = DefaultTransport(parse_host("unix:///x.sock", None))
    assert type(default.send(request(stream=True))).__module__.endswith("sockets")
    assert type(default.send(request())).__module__.endswith("pool")


# -- the client against a MockTransport -------------------------------------------------------

LOG = b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n\x02\x00\x00\x00\x00\x00\x00\x04err\n"


def tour(request: HTTPRequest) -> MockResponse:
    """Just enough of a daemon for examples/tour.py's calls."""
    path = request.target.partition("?")[0]
    answers = {
        ("HEAD", "/_ping"): MockResponse(headers={"Api-Version": "1.43"}),
        ("GET", "/v1.43/info"): MockResponse(
            json={"ServerVersion": "24.0", "Containers": 1, "ContainersRunning": 0, "Images": 1}
        ),
        ("POST", "/v1.43/build"): MockResponse(
            chunks=[b'{"stream":"Step 1/1 : FROM scratch\\n"}\r\n', b'{"stream":"done\\n"}']
        ),
        ("POST", "/v1.43/containers/create"): MockResponse(201, json={"Id": "c1", "Warnings": []}),
        ("POST", "/v1.43/containers/c1/start"): MockResponse(204),
        ("POST", "/v1.43/containers/c1/wait"): MockResponse(json={"StatusCode": 0}),
        ("GET", "/v1.43/containers/json"): MockResponse(
            json=[{"Id": "c1", "Names": ["/tour"], "State": "exited", "Status": "Exited (0)"}]
        ),
        ("GET", "/v1.43/containers/c1/logs"): MockResponse(
            chunks=[LOG[:5], LOG[5:]],
            headers={"Content-Type": "application/vnd.docker.multiplexed-stream"},
        ),
        ("GET", "/v1.43/events"): MockResponse(
            chunks=[b'{"Type":"container","Action":"start","timeNano":1}\n']
        ),
        ("POST", "/v1.43/containers/prune"): MockResponse(
            json={"ContainersDeleted": ["c1"], "SpaceReclaimed": 0}
        ),
    }
    return answers.get((request.method, path)) or MockResponse(404, json={"message": path})


async def test_the_tour_against_a_mock_transport() -> None:
    mock = MockTransport(tour)
    async with Docker(transport=mock) as docker:
        info = await docker.system.info()
        assert (info.server_version, info.containers) == ("24.0", 1)
        assert docker.api_version == "1.43"
        built = [m.stream async for m in docker.images.build(b"tar", t="x:1", pull=False)]
        assert built == ["Step 1/1 : FROM scratch\n", "done\n"]
        created = await docker.containers.create({"Image": "x:1"}, name="tour")
        assert created.id == "c1"
        await docker.containers.start("c1")
        assert (await docker.containers.wait("c1")).status_code == 0
        listed = await docker.containers.list(all=True, filters={"label": "tour=yes"})
        assert [c.names for c in listed] == [["/tour"]]
        frames = [f async for f in docker.containers.logs("c1", stdout=True, stderr=True)]
        assert [(f.stream, f.data) for f in frames] == [
            (StreamType.STDOUT, b"hello\n"),
            (StreamType.STDERR, b"err\n"),
        ]
        events = [e.action async for e in docker.system.events(since=0, until=1)]
        assert events == ["start"]
        pruned = await docker.containers.prune(filters={"label": "tour"})
        assert pruned.containers_deleted == ["c1"]
        with pytest.raises(NotFound, match="/containers/nope/json"):
            await docker.containers.inspect("nope")
    sent = [(r.method, r.target.partition("?")[0]) for r in mock.requests]
    assert sent[0] == ("HEAD", "/_ping")
    assert ("POST", "/v1.43/containers/create") in sent
    create = next(r for r in mock.requests if r.target.startswith("/v1.43/containers/create"))
    assert create.target == "/v1.43/containers/create?name=tour"
    assert create.data == b'{"Image":"x:1"}'


async def test_ping_reads_the_seams_response() -> None:
    def answer(request: HTTPRequest) -> MockResponse:
        return MockResponse(
            content=b"OK", headers={"api-version": "1.41", "OSType": "linux", "Swarm": "inactive"}
        )

    async with Docker(api_version="1.41", transport=MockTransport(answer)) as docker:
        ping = await docker.system.ping()
    assert (ping.api_version, ping.os_type, ping.swarm) == ("1.41", "linux", "inactive")
