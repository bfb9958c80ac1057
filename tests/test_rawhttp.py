"""HTTP on sockets of our own (aiodockerapi.http.rawhttp): chunked bodies cut at every point, and
the long GET streams against a tiny server that answers what a real daemon never would."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodockerapi import (
    Docker,
    DockerConnectionError,
    DockerStreamError,
    NotFound,
    StreamCut,
    StreamType,
)
from aiodockerapi.http.rawhttp import BodyError, ChunkedDecoder
from aiodockerapi.models import EventMessage


def chunked(pieces: list[bytes], *, ext: bool = False, upper: bool = False) -> bytes:
    out = []
    for piece in pieces:
        size = f"{len(piece):X}" if upper else f"{len(piece):x}"
        out.append(f"{size}{';x=1' if ext else ''}\r\n".encode() + piece + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


def decode(wire: bytes, cuts: list[int]) -> tuple[bytes, bool]:
    decoder = ChunkedDecoder()
    out = []
    bounds = [0, *sorted(cuts), len(wire)]
    for start, end in itertools.pairwise(bounds):
        out.append(decoder.feed(wire[start:end]))
    return b"".join(out), decoder.done


PIECES = [b'{"a":1}\n', b"x" * 300, b"\r\n0\r\n\r\n", b"", b"y"]


def test_chunked_every_split_point() -> None:
    wire = chunked([p for p in PIECES if p])
    for cut in range(len(wire) + 1):
        assert decode(wire, [cut]) == (b"".join(PIECES), True), cut


def test_chunked_one_byte_at_a_time() -> None:
    wire = chunked([p for p in PIECES if p], ext=True, upper=True)
    assert decode(wire, list(range(1, len(wire)))) == (b"".join(PIECES), True)


@settings(max_examples=300)
@given(
    pieces=st.lists(st.binary(min_size=1, max_size=700), max_size=20),
    ext=st.booleans(),
    upper=st.booleans(),
    data=st.data(),
)
def test_chunked_random_cuts(pieces: list[bytes], ext: bool, upper: bool, data: Any) -> None:
    wire = chunked(pieces, ext=ext, upper=upper)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=12))
    assert decode(wire, cuts) == (b"".join(pieces), True)


@settings(max_examples=300)
@given(
    pieces=st.lists(
        st.binary(min_size=1, max_size=40)
        | st.sampled_from([b"\r\n", b"\r\n5\r\n", b"0\r\n\r\n", b"1\r\nx\r\n", b"\r", b"\n"]),
        max_size=60,
    ),
    ext=st.booleans(),
    data=st.data(),
)
def test_chunked_many_small_chunks(pieces: list[bytes], ext: bool, data: Any) -> None:
    """Many chunks to a read, as dockerd sends events, some holding what looks like framing."""
    wire = chunked(pieces, ext=ext)
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=6))
    assert decode(wire, cuts) == (b"".join(pieces), True)


def test_chunked_trailers_and_nothing_after_the_end() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"3\r\nabc\r\n0\r\nX-T") == b"abc"
    assert not decoder.done
    assert decoder.feed(b"railer: 1\r\n\r\nignored") == b""
    assert decoder.done


def test_chunked_unfinished_body_is_not_done() -> None:
    decoder = ChunkedDecoder()
    assert decoder.feed(b"5\r\nab") == b"ab"
    assert decoder.feed(b"cde\r\n") == b"cde"
    assert not decoder.done


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"zz\r\nabc", "bad chunk size line"),
        (b"3\r\nabcX\r\n", "not followed by CRLF"),
        (b"3\r\nabc\r\nq\r\n", "bad chunk size line"),
        (b"1" * 2000, "bad chunk size line"),
    ],
)
def test_chunked_malformed(wire: bytes, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        ChunkedDecoder().feed(wire)


# -- the streams, against a server that misbehaves on purpose -------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve(
    tmp_path: Path,
    answer: bytes | Handler,
    requests: list[bytes] | None = None,
    version: str = "1.41",
) -> AsyncIterator[Docker]:
    """A unix socket server that answers every request with `answer` and hangs up; the
    request heads it got go into `requests`."""
    if requests is None:
        requests = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            requests.append(await reader.readuntil(b"\r\n\r\n"))
            if isinstance(answer, bytes):
                writer.write(answer)
                await writer.drain()
            else:
                await answer(reader, writer)
        finally:
            writer.close()

    path = tmp_path / "d.sock"
    server = await asyncio.start_unix_server(handle, path)
    docker = Docker(f"unix://{path}", api_version=version)
    try:
        yield docker
    finally:
        await docker.close()
        server.close()
        await server.wait_closed()


def head(status: str = "200 OK", *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode()


EVENTS = [
    EventMessage(type="container", action="create", time=1),
    EventMessage(type="container", action="start", time=2),
]
EVENT_LINES = [msgspec.json.encode(e) + b"\n" for e in EVENTS]
CHUNKED = "Transfer-Encoding: chunked"


async def events(docker: Docker) -> list[EventMessage]:
    return [event async for event in docker.system.events()]


async def test_events_stream_is_a_plain_get(tmp_path: Path) -> None:
    requests: list[bytes] = []
    async with serve(tmp_path, head("200 OK", CHUNKED) + chunked(EVENT_LINES), requests) as docker:
        assert await events(docker) == EVENTS
    (request,) = requests
    lines = request.decode().split("\r\n")
    assert lines[0] == "GET /v1.41/events HTTP/1.1"
    assert "Host: localhost" in lines
    assert "Accept-Encoding: identity" in lines


async def test_body_ending_mid_value(tmp_path: Path) -> None:
    wire = head("200 OK", CHUNKED) + chunked([EVENT_LINES[0], b'{"Type":"conta'])
    got: list[EventMessage] = []
    async with serve(tmp_path, wire) as docker:
        with pytest.raises(DockerStreamError, match="ended inside a JSON value"):
            async for event in docker.system.events():
                got.append(event)
    assert got == EVENTS[:1]


async def test_a_cut_fails_events_and_logs(tmp_path: Path) -> None:
    """A body that ends before its last chunk is a cut, whatever the stream: the events
    before it come first, then StreamCut (a DockerConnectionError)."""
    wire = head("200 OK", CHUNKED) + chunked(EVENT_LINES)
    got_events: list[EventMessage] = []
    async with serve(tmp_path, wire[: wire.index(b"start") + 2]) as docker:
        with pytest.raises(DockerConnectionError) as cut:
            async for event in docker.system.events():
                got_events.append(event)
    assert isinstance(cut.value, StreamCut)
    assert got_events == EVENTS[:1]
    frame = b"\x01\x00\x00\x00\x00\x00\x00\x05hello"
    wire = head("200 OK", CHUNKED) + chunked([frame, frame])[:-12]
    got = []
    async with serve(tmp_path, wire) as docker:
        with pytest.raises(StreamCut, match=r"GET /containers/c/logs on unix://.*before its end"):
            async for f in docker.containers.logs("c", stdout=True):
                got.append(f.data)
    assert got == [b"hello"]


async def test_bad_chunk_framing_is_a_stream_error(tmp_path: Path) -> None:
    wire = head("200 OK", CHUNKED) + b"5\r\n{}\n\n\nXX\r\n"
    async with serve(tmp_path, wire) as docker:
        with pytest.raises(DockerStreamError, match="not followed by CRLF") as info:
            await events(docker)
    assert not isinstance(info.value, StreamCut)


@pytest.mark.parametrize(
    "framing",
    [
        pytest.param(
            lambda body: head("200 OK", f"Content-Length: {len(body)}") + body, id="length"
        ),
        pytest.param(lambda body: head("200 OK") + body, id="until-close"),
    ],
)
async def test_unchunked_bodies(tmp_path: Path, framing: Callable[[bytes], bytes]) -> None:
    async with serve(tmp_path, framing(b"".join(EVENT_LINES))) as docker:
        assert await events(docker) == EVENTS


async def test_short_content_length_is_a_cut(tmp_path: Path) -> None:
    body = b'{"read":"2026-11-28T04:00:00Z"}\n'
    async with serve(tmp_path, head("200 OK", f"Content-Length: {len(body) + 10}") + body) as d:
        with pytest.raises(StreamCut, match="10 bytes before"):
            [s async for s in d.containers.stats("c")]


async def test_error_status_carries_the_daemons_message(tmp_path: Path) -> None:
    body = b'{"message":"No such container: nope"}'
    wire = head("404 Not Found", f"Content-Length: {len(body)}") + body
    async with serve(tmp_path, wire) as docker:
        with pytest.raises(NotFound, match="No such container: nope"):
            async for _ in docker.containers.logs("nope", stdout=True):
                pass


@pytest.mark.parametrize(
    ("wire", "message"),
    [(b"", "before answering"), (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response")],
)
async def test_no_http_answer_is_a_connection_error(
    tmp_path: Path, wire: bytes, message: str
) -> None:
    async with serve(tmp_path, wire) as docker:
        with pytest.raises(DockerConnectionError, match=message):
            await events(docker)


async def test_leaving_a_stream_hangs_up(tmp_path: Path) -> None:
    hung_up = asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", CHUNKED) + chunked(EVENT_LINES)[:-5])
        await writer.drain()
        if await reader.read() == b"":
            hung_up.set()

    got: list[EventMessage] = []

    async def follow(docker: Docker) -> None:
        async for event in docker.system.events():
            got.append(event)

    async with serve(tmp_path, trickle) as docker:
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            await asyncio.wait_for(follow(docker), 0.5)
        await asyncio.wait_for(hung_up.wait(), 10)
        hung_up.clear()
        stream = docker.system.events()
        assert await anext(stream) == EVENTS[0]
        await stream.aclose()
        await asyncio.wait_for(hung_up.wait(), 10)
    assert got == EVENTS


async def test_raw_logs_and_multiplexed_logs(tmp_path: Path) -> None:
    frame = b"\x02\x00\x00\x00\x00\x00\x00\x04oops"
    wire = head("200 OK", CHUNKED) + chunked([frame[:3], frame[3:] + frame])
    async with serve(tmp_path, wire) as docker:
        got = [f async for f in docker.containers.logs("c", stderr=True)]
    assert [(f.stream, f.data) for f in got] == [(StreamType.STDERR, b"oops")] * 2
    raw = head("200 OK", CHUNKED, "Content-Type: application/vnd.docker.raw-stream")
    async with serve(tmp_path, raw + chunked([frame]), version="1.42") as docker:
        got = [f async for f in docker.containers.logs("c", stderr=True)]
    assert [(f.stream, f.data) for f in got] == [(StreamType.STDOUT, frame)]
    # Below 1.42, Docker 23 and later say raw-stream for multiplexed output too.
    async with serve(tmp_path, raw + chunked([frame])) as docker:
        got = [f async for f in docker.containers.logs("c", stderr=True)]
    assert [(f.stream, f.data) for f in got] == [(StreamType.STDERR, b"oops")]
