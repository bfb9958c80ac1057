"""Client behaviour a real daemon can't be made to show, against aioresponses.

aioresponses patches ClientSession._request, so nothing reaches the connector: a unix://
client is mocked at http://localhost, a tcp:// one at its http:// address. A mocked body
arrives as one chunk, so chunk boundaries are tested in test_streams.py instead.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import msgspec
import pytest
from aioresponses import CallbackResult, aioresponses
from yarl import URL

from aiodockerapi import (
    BadRequest,
    Conflict,
    Docker,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerVersionError,
    NotFound,
    ServerError,
    Unauthorized,
)

UNIX = "unix:///nonexistent.sock"
BASE = "http://localhost"
PING = f"{BASE}/_ping"
VERSION = f"{BASE}/version"
V = f"{BASE}/v1.41"


_NEEDS_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class Response(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the stream_writer aiohttp 3.14 requires
    (pnuckowski/aioresponses#289); supply one that reports nothing written."""

    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        if _NEEDS_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class Mock(aioresponses):
    def add(self, *args: Any, response_class: Any = None, **kwargs: Any) -> None:
        super().add(*args, response_class=response_class or Response, **kwargs)


def count(m: aioresponses, method: str, url: str) -> int:
    return len(m.requests.get((method, URL(url)), []))


@pytest.fixture(autouse=True)
def no_docker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOCKER_API_VERSION", "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    with Mock() as m:
        yield m


@pytest.fixture
async def docker() -> AsyncIterator[Docker]:
    """A client that negotiates its version."""
    async with Docker(UNIX) as client:
        yield client


@pytest.fixture
async def pinned() -> AsyncIterator[Docker]:
    """A client pinned to 1.41: no ping before the request under test."""
    async with Docker(UNIX, api_version="1.41") as client:
        yield client


# -- version negotiation ---------------------------------------------------------------------


async def test_head_ping_405_falls_back_to_get(mock: aioresponses, docker: Docker) -> None:
    mock.head(PING, status=405, body="")
    mock.get(PING, body="OK", headers={"Api-Version": "1.41"})
    mock.get(f"{V}/containers/json", payload=[])
    assert await docker.containers.list() == []
    assert docker.api_version == "1.41"
    assert count(mock, "HEAD", PING) == count(mock, "GET", PING) == 1


@pytest.mark.parametrize("daemon", ["1.41", "1.45", "1.51", "1.55"])
async def test_daemon_within_range_is_spoken_to_in_its_own_version(
    mock: aioresponses, docker: Docker, daemon: str
) -> None:
    mock.head(PING, headers={"Api-Version": daemon})
    mock.get(f"{BASE}/v{daemon}/info", payload={"ID": "x"})
    assert (await docker.system.info()).id == "x"
    assert docker.api_version == daemon
    assert count(mock, "GET", VERSION) == 0  # no second question for a daemon in range


async def test_newer_daemon_is_spoken_to_in_the_client_maximum(
    mock: aioresponses, docker: Docker
) -> None:
    mock.head(PING, headers={"Api-Version": "1.60"})
    mock.get(VERSION, payload={"ApiVersion": "1.60", "MinAPIVersion": "1.44"})
    mock.get(f"{BASE}/v1.55/info", payload={"ID": "x"})
    assert (await docker.system.info()).id == "x"
    assert docker.api_version == "1.55"


async def test_daemon_whose_floor_is_above_the_client_maximum_is_refused(
    mock: aioresponses, docker: Docker
) -> None:
    mock.head(PING, headers={"Api-Version": "1.62"})
    mock.get(VERSION, payload={"ApiVersion": "1.62", "MinAPIVersion": "1.56"})
    with pytest.raises(
        DockerVersionError, match=r"speaks API 1\.56 to 1\.62; aiodockerapi speaks 1\.41 to 1\.55"
    ):
        await docker.system.info()
    assert docker.api_version is None
    assert len(mock.requests) == 2


async def test_older_daemon_is_refused(mock: aioresponses, docker: Docker) -> None:
    mock.head(PING, headers={"Api-Version": "1.40"})
    with pytest.raises(
        DockerVersionError, match=r"API up to 1\.40; aiodockerapi speaks 1\.41 to 1\.55"
    ):
        await docker.system.info()
    assert docker.api_version is None
    assert len(mock.requests) == 1


async def test_a_version_the_daemon_refuses_is_renegotiated_once(
    mock: aioresponses, docker: Docker
) -> None:
    """A daemon downgraded under a running client refuses the version negotiated before."""
    mock.head(PING, headers={"Api-Version": "1.51"})
    mock.get(f"{BASE}/v1.51/info", payload={"ID": "a"})
    assert (await docker.system.info()).id == "a"
    mock.get(
        f"{BASE}/v1.51/info",
        status=400,
        payload={
            "message": "client version 1.51 is too new. Maximum supported API version is 1.45"
        },
    )
    mock.head(PING, headers={"Api-Version": "1.45"})
    mock.get(f"{BASE}/v1.45/info", payload={"ID": "b"})
    assert (await docker.system.info()).id == "b"
    assert docker.api_version == "1.45"


async def test_a_refused_version_is_not_retried_with_a_consumed_body(
    mock: aioresponses, docker: Docker
) -> None:
    mock.head(PING, headers={"Api-Version": "1.51"})
    refusal = {"message": "client version 1.51 is too new. Maximum supported API version is 1.45"}
    mock.post(f"{BASE}/v1.51/images/load?quiet=0", status=400, payload=refusal)

    async def body() -> AsyncIterator[bytes]:
        yield b"tar"

    with pytest.raises(BadRequest, match="too new"):
        async for _ in docker.images.load(body()):
            pass
    assert count(mock, "HEAD", PING) == 1


async def test_a_pinned_version_is_never_renegotiated(mock: aioresponses) -> None:
    refusal = {"message": "client version 1.41 is too old. Minimum supported API version is 1.44"}
    mock.get(f"{V}/info", status=400, payload=refusal)
    async with Docker(UNIX, api_version="1.41") as client:
        with pytest.raises(BadRequest, match="too old"):
            await client.system.info()
    assert count(mock, "HEAD", PING) == 0


async def test_a_parameter_newer_than_the_spoken_version_is_refused_before_sending(
    mock: aioresponses, pinned: Docker
) -> None:
    with pytest.raises(
        DockerVersionError, match=r"'signal' needs API 1\.42; unix:///nonexistent.sock speaks 1\.41"
    ):
        await pinned.containers.stop("abc", signal="SIGKILL")
    assert len(mock.requests) == 0
    mock.post(f"{V}/containers/abc/stop?t=1", status=204)
    await pinned.containers.stop("abc", t=1)  # what 1.41 has is sent


@pytest.mark.parametrize(("daemon", "used"), [("1.43", "1.43"), ("1.41", "1.41")])
async def test_version_endpoint_when_ping_names_none(
    mock: aioresponses, docker: Docker, daemon: str, used: str
) -> None:
    mock.head(PING)
    mock.get(VERSION, payload={"Version": "20.10.0", "ApiVersion": daemon})
    mock.get(f"{BASE}/v{used}/info", payload={})
    await docker.system.info()
    assert docker.api_version == used
    assert count(mock, "GET", VERSION) == 1


async def test_version_endpoint_naming_an_old_or_no_version(
    mock: aioresponses, docker: Docker
) -> None:
    mock.head(PING, repeat=True)
    mock.get(VERSION, payload={"ApiVersion": "1.30"})
    mock.get(VERSION, payload={"Version": "x"})
    with pytest.raises(DockerVersionError, match=r"up to 1\.30"):
        await docker.system.info()
    with pytest.raises(DockerVersionError, match="did not say"):
        await docker.system.info()


async def test_undecodable_version_response_is_a_docker_error(
    mock: aioresponses, docker: Docker
) -> None:
    """BUG (transport._negotiate): msgspec's DecodeError escapes instead of a DockerError."""
    mock.head(PING)
    mock.get(VERSION, body="<html>proxy error</html>", content_type="text/html")
    with pytest.raises(DockerError):
        await docker.system.info()


async def test_garbage_api_version_header_is_a_docker_error(
    mock: aioresponses, docker: Docker
) -> None:
    """BUG (transport._negotiate): a daemon's bad Api-Version raises a bare ValueError that
    reads as if the caller had passed it."""
    mock.head(PING, headers={"Api-Version": "latest"})
    with pytest.raises(DockerVersionError):
        await docker.system.info()


async def test_concurrent_first_calls_ping_once(mock: aioresponses, docker: Docker) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(url: URL, **kwargs: Any) -> CallbackResult:
        entered.set()
        await release.wait()
        return CallbackResult(headers={"Api-Version": "1.41"}, response_class=Response)

    mock.head(PING, callback=held, repeat=True)
    mock.get(f"{V}/info", payload={}, repeat=True)
    calls = [asyncio.ensure_future(docker.system.info()) for _ in range(20)]
    await entered.wait()  # every call has started by now: tasks run in creation order
    release.set()
    await asyncio.gather(*calls)
    assert count(mock, "HEAD", PING) == 1
    assert count(mock, "GET", f"{V}/info") == 20


@pytest.mark.parametrize("how", ["env", "argument"])
async def test_pinned_version_never_pings(
    mock: aioresponses, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "env":
        monkeypatch.setenv("DOCKER_API_VERSION", "1.41")
    async with Docker(UNIX, api_version="1.41" if how == "argument" else None) as client:
        assert client.api_version == "1.41"
        mock.get(f"{V}/info", payload={})
        await client.system.info()
    assert list(mock.requests) == [("GET", URL(f"{V}/info"))]


def test_pinned_version_is_checked_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DockerVersionError, match=r"pinned to API 1\.40"):
        Docker(UNIX, api_version="1.40")
    with pytest.raises(ValueError, match="'abc'"):
        Docker(UNIX, api_version="abc")
    monkeypatch.setenv("DOCKER_API_VERSION", "1.24")
    with pytest.raises(DockerVersionError, match=r"1\.24"):
        Docker(UNIX)


# -- errors ----------------------------------------------------------------------------------


def test_every_error_is_a_docker_error() -> None:
    for cls in (
        BadRequest,
        Conflict,
        NotFound,
        ServerError,
        DockerConnectionError,
        DockerStreamError,
        DockerVersionError,
    ):
        assert issubclass(cls, DockerError)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequest),
        (404, NotFound),
        (409, Conflict),
        (500, ServerError),
        (503, ServerError),
        (401, Unauthorized),
    ],
)
async def test_error_statuses(
    mock: aioresponses, pinned: Docker, status: int, error: type[DockerError]
) -> None:
    mock.get(f"{V}/containers/abc/json", status=status, payload={"message": "boom"})
    with pytest.raises(DockerError) as info:
        await pinned.containers.inspect("abc")
    assert type(info.value) is error
    assert (info.value.status, info.value.message) == (status, "boom")
    assert str(info.value) == f"{status}: boom"


async def test_tcp_host_and_plain_text_error_body(mock: aioresponses) -> None:
    async with Docker("tcp://127.0.0.1:1", api_version="1.41") as client:
        mock.post(
            "http://127.0.0.1:1/v1.41/containers/abc/start",
            status=500,
            body="driver failed programming external connectivity\n",
            content_type="text/plain",
        )
        with pytest.raises(ServerError) as info:
            await client.containers.start("abc")
    assert info.value.message == "driver failed programming external connectivity"


async def test_empty_error_body_falls_back_to_the_reason(
    mock: aioresponses, pinned: Docker
) -> None:
    mock.delete(f"{V}/containers/abc", status=409, body="", reason="Conflict")
    with pytest.raises(Conflict, match="Conflict"):
        await pinned.containers.delete("abc")


@pytest.mark.parametrize("body", [b"[{", b"not json", b'{"Id": "x"}', b'[{"Id": 5}]'])
async def test_undecodable_success_body_is_a_docker_error(
    mock: aioresponses, pinned: Docker, body: bytes
) -> None:
    mock.get(f"{V}/containers/json", body=body)
    with pytest.raises(DockerError, match="/containers/json") as info:
        await pinned.containers.list()
    assert not isinstance(info.value, msgspec.DecodeError)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("action", ["start", "stop"])
async def test_not_modified_is_not_an_error(
    mock: aioresponses, pinned: Docker, action: str
) -> None:
    mock.post(f"{V}/containers/abc/{action}", status=304, body="")
    assert await getattr(pinned.containers, action)("abc") is None
    assert count(mock, "POST", f"{V}/containers/abc/{action}") == 1


async def test_nothing_listening_is_a_connection_error(docker: Docker) -> None:
    with pytest.raises(DockerConnectionError, match=r"/nonexistent\.sock"):
        await docker.system.info()


# -- streams ---------------------------------------------------------------------------------


async def test_build_error_in_the_stream(mock: aioresponses, pinned: Docker) -> None:
    lines = [
        {"stream": "Step 1/2 : FROM scratch\n"},
        {"errorDetail": {"message": "no build stage in current context"}, "error": "no stage"},
    ]
    mock.post(
        re.compile(rf"{re.escape(V)}/build\?"), body=b"".join(map(msgspec.json.encode, lines))
    )
    got = []
    with pytest.raises(DockerStreamError) as info:
        async for message in pinned.images.build(b"not really a tar", t="x:latest"):
            got.append(message.stream)
    assert got == ["Step 1/2 : FROM scratch\n"]
    assert info.value.message == "no stage"
    assert info.value.detail.message == "no build stage in current context"  # type: ignore[attr-defined]
    ((_, url),) = mock.requests
    assert url.query["t"] == "x:latest"


# -- bad input fails before any request ------------------------------------------------------


@pytest.mark.parametrize("host", ["ftp://x", "unix://", "tcp://", "tcp://h:port", "docker.sock"])
def test_bad_hosts(host: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(host))):
        Docker(host)


@pytest.mark.parametrize(
    ("host", "paths"),
    [
        ("unix:///var/run/docker.sock", {"/var/run/docker.sock"}),
        ("unix://docker.sock", {"docker.sock", "/docker.sock"}),
        # BUG (transport._parse_host): the netloc is dropped, giving "/x/docker.sock".
        ("unix://tmp/x/docker.sock", {"tmp/x/docker.sock", "/tmp/x/docker.sock"}),
    ],
)
def test_unix_socket_paths(host: str, paths: set[str]) -> None:
    assert Docker(host).transport._host.socket_path in paths


async def test_bad_filters_send_nothing(mock: aioresponses, docker: Docker) -> None:
    with pytest.raises(ValueError, match="'label'"):
        await docker.containers.list(filters={"label": 3.5})
    with pytest.raises(ValueError, match="'label'"):
        docker.system.events(filters={"label": [1]})  # at the call, not the first iteration
    with pytest.raises(ValueError, match="finite"):
        docker.containers.logs("abc", since=float("nan"))
    assert mock.requests == {}
    assert docker.api_version is None


async def test_filters_reach_the_query_string(mock: aioresponses, pinned: Docker) -> None:
    mock.get(re.compile(rf"{re.escape(V)}/containers/json\?"), payload=[])
    await pinned.containers.list(all=True, filters={"label": {"b", "a"}, "status": "exited"})
    ((_, url),) = mock.requests
    assert url.query["all"] == "1"
    assert msgspec.json.decode(url.query["filters"]) == {
        "label": ["a", "b"],
        "status": ["exited"],
    }


# -- lifecycle -------------------------------------------------------------------------------


def drive(coro: Any) -> Any:
    """Run a coroutine that never suspends, with no event loop at all."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine suspended")


def test_construct_and_close_without_a_loop() -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    client = Docker(UNIX)
    assert client.api_version is None and client.host == UNIX
    assert repr(client) == f"Docker({UNIX!r})"
    drive(client.close())
    with pytest.raises(DockerError, match="closed"):
        drive(client.system.info())


@pytest.mark.parametrize("api_version", [None, "1.41"])
async def test_use_after_close(mock: aioresponses, api_version: str | None) -> None:
    mock.head(PING, headers={"Api-Version": "1.41"})
    mock.get(f"{V}/info", payload={}, repeat=True)
    async with Docker(UNIX, api_version=api_version) as client:
        await client.system.info()
    with pytest.raises(DockerError, match="closed"):
        await client.system.info()
    with pytest.raises(DockerError, match="closed"):
        async for _ in client.system.events():
            pass
    await client.close()  # closing twice is fine
    assert count(mock, "GET", f"{V}/info") == 1
