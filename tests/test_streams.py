"""Unit tests for aiodockerapi.bodies.jsonstream and .demux: JSON value streams, in-band
errors, frames.

Every source here is in memory and never suspends, so the async generators are driven to
completion synchronously by `drive` (no event loop, which keeps hypothesis fast).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodockerapi import DockerError, DockerStreamError, Frame, StreamType
from aiodockerapi.bodies.demux import MULTIPLEXED, RAW, demux, frames
from aiodockerapi.bodies.jsonstream import split_values
from aiodockerapi.models import BuildInfo, ErrorDetail, EventMessage, SystemEventsResponseActor

from .jsonvalues import check_in_band, json_values

T = TypeVar("T")

EVENT = msgspec.json.Decoder(EventMessage)
ANY = msgspec.json.Decoder(dict)


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never really suspends; fail if it does."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise AssertionError("the coroutine suspended")


async def _collect(items: AsyncIterator[T], out: list[T]) -> list[T]:
    async for item in items:
        out.append(item)
    return out


def collect(items: AsyncIterator[T]) -> list[T]:
    return drive(_collect(items, []))


def collect_until_error(items: AsyncIterator[T]) -> tuple[list[T], DockerStreamError]:
    """What was delivered before the stream failed, and the failure."""
    out: list[T] = []
    with pytest.raises(DockerStreamError) as info:
        drive(_collect(items, out))
    return out, info.value


async def source(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    """`data` cut at the given offsets (any order, duplicates give empty chunks)."""
    bounds = [0, *sorted(points), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def two_way_splits(data: bytes) -> Iterable[list[bytes]]:
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]


# -- json_values -----------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=12)
_events = st.builds(
    EventMessage,
    type=st.sampled_from(["container", "image", "network", "volume"]),
    action=_text,
    actor=st.builds(
        SystemEventsResponseActor,
        id=st.text("0123456789abcdef", min_size=1, max_size=64),
        attributes=st.dictionaries(_text, _text, max_size=4),
    ),
    time=st.integers(0, 2**40),
    time_nano=st.integers(0, 2**62),
)
_separators = st.sampled_from([b"\n", b"\r\n", b""])


def join(values: Sequence[Any], sep: bytes) -> bytes:
    return b"".join(msgspec.json.encode(v) + sep for v in values)


def as_dicts(values: Sequence[EventMessage]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(v) for v in values]


SAMPLE = [
    EventMessage(type="container", action="start", time=1),
    EventMessage(
        type="container",
        action='exec_start: sh -c "echo \\"hi\\"" ]}{[',
        actor=SystemEventsResponseActor(id="abc", attributes={"name": "café ☃", "q": '"'}),
        time=1700000000,
        time_nano=1700000000123456789,
    ),
    EventMessage(type="image", action="pull", time=2),
]


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b""], ids=["lf", "crlf", "none"])
def test_json_values_every_split_point(sep: bytes) -> None:
    body = join(SAMPLE, sep)
    for chunks in two_way_splits(body):
        assert collect(json_values(source(chunks), EVENT)) == SAMPLE, chunks
        assert collect(json_values(source(chunks), ANY)) == as_dicts(SAMPLE), chunks


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_events, max_size=6), sep=_separators, data=st.data())
def test_json_values_random_cuts(values: list[EventMessage], sep: bytes, data: Any) -> None:
    body = join(values, sep)
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    chunks = cut(body, points)
    assert collect(json_values(source(chunks), EVENT)) == values
    assert collect(json_values(source(chunks), ANY)) == as_dicts(values)


def test_json_values_one_byte_chunks_and_one_chunk() -> None:
    body = join(SAMPLE * 3, b"\r\n")
    assert collect(json_values(source([body[i : i + 1] for i in range(len(body))]), EVENT)) == (
        SAMPLE * 3
    )
    assert collect(json_values(source([body]), EVENT)) == SAMPLE * 3


def pulls_at_each_value(chunks: list[bytes]) -> list[int]:
    """How many chunks json_values had pulled when it yielded each value."""
    pulled = 0

    async def counting() -> AsyncIterator[bytes]:
        nonlocal pulled
        for chunk in chunks:
            pulled += 1
            yield chunk

    async def run() -> list[int]:
        return [pulled async for _ in json_values(counting(), EVENT)]

    return drive(run())


def test_json_values_yields_each_value_when_its_newline_arrives() -> None:
    """An events stream must not hold a complete event back until more data comes."""
    body = join(SAMPLE, b"\n")
    newlines = [i for i, b in enumerate(body) if b == 0x0A]
    for chunks in [cut(body, range(0, len(body), 7)), *two_way_splits(body)]:
        ends = [sum(len(c) for c in chunks[: i + 1]) for i in range(len(chunks))]
        expected = [next(i + 1 for i, end in enumerate(ends) if end > nl) for nl in newlines]
        assert pulls_at_each_value(chunks) == expected


def test_json_values_escapes_split_anywhere() -> None:
    body = (
        b'{"Action":"say \\"hi\\" caf\\u00e9 \\\\","Type":"caf\xc3\xa9"}\r\n'
        b'{"Action":"\\ud83d\\ude00 \\/ \\b\\f\\n\\r\\t"}\n'
    )
    expected = [
        EventMessage(action='say "hi" café \\', type="café"),
        EventMessage(action="\U0001f600 / \b\f\n\r\t"),
    ]
    for chunks in two_way_splits(body):
        assert collect(json_values(source(chunks), EVENT)) == expected
    for i in range(len(body)):
        for j in range(i, len(body), 5):
            assert collect(json_values(source(cut(body, [i, j])), EVENT)) == expected


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b""], ids=["lf", "crlf", "none"])
def test_json_values_pretty_printed(sep: bytes) -> None:
    values = [*as_dicts(SAMPLE), {"a": [1, [2, {"b": None}]], "c": {}}, {"d": []}]
    body = b"".join(msgspec.json.format(msgspec.json.encode(v), indent=2) + sep for v in values)
    assert body.count(b"\n") > 20
    for chunks in two_way_splits(body):
        assert collect(json_values(source(chunks), ANY)) == values
    assert collect(json_values(source(cut(body, range(0, len(body), 3))), ANY)) == values


@pytest.mark.parametrize("newline", [True, False], ids=["newline", "eof"])
def test_json_values_value_larger_than_16_mib(newline: bool) -> None:
    text = 'Step 1/1 : RUN make \\"all\\" é\n' * (600 * 1024)
    body = msgspec.json.encode(BuildInfo(stream=text, id="x")) + (b"\n" if newline else b"")
    assert len(body) > 16 * 1024 * 1024
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    (info,) = collect(json_values(source(chunks), msgspec.json.Decoder(BuildInfo)))
    assert info.id == "x"
    assert info.stream == text


def test_json_values_trailing_whitespace_and_empty_streams() -> None:
    assert collect(json_values(source([b'{"a": 1}\n  \r\n\t', b" \n"]), ANY)) == [{"a": 1}]
    assert collect(json_values(source([]), ANY)) == []
    assert collect(json_values(source([b"", b" \r\n", b""]), ANY)) == []


def test_json_values_bare_scalars() -> None:
    ints = msgspec.json.Decoder(int)
    assert collect(json_values(source([b"1", b"2 3\n4", b"5"]), ints)) == [12, 3, 45]
    assert collect(json_values(source([b"1 2 3"]), ints)) == [1, 2, 3]
    assert collect(json_values(source([b"[1]2 [3]"]), msgspec.json.Decoder())) == [[1], 2, [3]]


@pytest.mark.parametrize(
    "tail", [b'{"Type": "container", "Act', b'{"a": "\\', b"[1, [2]", b'"open']
)
def test_json_values_stream_ending_mid_value(tail: bytes) -> None:
    body = join(SAMPLE, b"\n") + tail
    for chunks in two_way_splits(body):
        got, exc = collect_until_error(json_values(source(chunks), ANY))
        assert got == as_dicts(SAMPLE)
        assert "ended inside a JSON value" in str(exc)
        assert isinstance(exc, DockerError)


@pytest.mark.parametrize("sep", [b"\n", b""], ids=["lf", "none"])
def test_json_values_malformed_json(sep: bytes) -> None:
    body = b'{"a": 1}' + sep + b'{"a": tru}' + sep + b'{"a": 3}\n'
    for chunks in two_way_splits(body):
        got, exc = collect_until_error(json_values(source(chunks), ANY))
        assert got == [{"a": 1}]
        assert "malformed" in str(exc) and "invalid character" in str(exc)
        assert '{"a": tru}' in str(exc)


def test_json_values_value_of_the_wrong_type() -> None:
    body = b'{"Type": "container", "time": 5}\n{"Type": "image", "time": "soon"}\n'
    got, exc = collect_until_error(json_values(source([body]), EVENT))
    assert got == [EventMessage(type="container", time=5)]
    assert "$.time" in str(exc)


# -- check_in_band ---------------------------------------------------------------------------

BUILD = msgspec.json.Decoder(BuildInfo)


def build_stream(*messages: dict[str, Any]) -> AsyncIterator[BuildInfo]:
    return json_values(source([join(messages, b"\r\n")]), BUILD)


def test_check_in_band_raises_the_daemons_error_after_earlier_messages() -> None:
    detail = {"code": 1, "message": "The command '/bin/sh -c false' returned a non-zero code: 1"}
    stream = build_stream(
        {"stream": "Step 1/2 : FROM scratch\n"},
        {"stream": "Step 2/2 : RUN false\n"},
        {"errorDetail": detail, "error": detail["message"]},
        {"stream": "never seen\n"},
    )
    got, exc = collect_until_error(check_in_band(stream))
    assert [m.stream for m in got] == ["Step 1/2 : FROM scratch\n", "Step 2/2 : RUN false\n"]
    assert exc.message == detail["message"]
    assert str(exc) == detail["message"]
    assert exc.detail == ErrorDetail(code=1, message=detail["message"])


def test_check_in_band_detail_or_error_alone() -> None:
    _, exc = collect_until_error(check_in_band(build_stream({"errorDetail": {"message": "m"}})))
    assert exc.message == "m" and exc.detail == ErrorDetail(message="m")
    _, exc = collect_until_error(check_in_band(build_stream({"error": "only text"})))
    assert exc.message == "only text" and exc.detail is None


def test_check_in_band_passes_progress_and_untyped_values() -> None:
    messages = [{"status": "Downloading", "progressDetail": {"current": 1, "total": 2}}]
    assert collect(check_in_band(build_stream(*messages))) == [
        BUILD.decode(json.dumps(messages[0]))
    ]
    assert collect(check_in_band(json_values(source([b'{"error": "x"}\n']), ANY))) == [
        {"error": "x"}
    ]


# -- demux -----------------------------------------------------------------------------------


def encode_frames(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes([s, 0, 0, 0]) + len(p).to_bytes(4, "big") + p for s, p in items)


def as_frames(items: Iterable[tuple[int, bytes]]) -> list[Frame]:
    return [Frame(StreamType(s), p) for s, p in items]


def joined(got: list[Frame]) -> list[Frame]:
    """Consecutive frames are not merged by demux; this is only for raw, chunk-shaped output."""
    assert all(f.stream is StreamType.STDOUT for f in got)
    return [Frame(StreamType.STDOUT, b"".join(f.data for f in got))] if got else []


FRAMES = [(1, b"hello\n"), (2, b""), (2, b"oops"), (0, b"x"), (3, b"error"), (1, b"\0" * 9)]
FRAMES_BODY = encode_frames(FRAMES)


@pytest.mark.parametrize("sniff", [False, True], ids=["demux", "sniff"])
def test_demux_every_split_point(sniff: bool) -> None:
    expected = as_frames(FRAMES)
    for i in range(len(FRAMES_BODY) + 1):
        for j in range(i, len(FRAMES_BODY) + 1):
            chunks = cut(FRAMES_BODY, [i, j])
            assert collect(demux(source(chunks), sniff=sniff)) == expected, chunks
    one_byte = [FRAMES_BODY[i : i + 1] for i in range(len(FRAMES_BODY))]
    assert collect(demux(source(one_byte), sniff=sniff)) == expected


_payloads = st.one_of(
    st.binary(max_size=40),
    st.integers(60_000, 200_000).map(lambda n: bytes(range(256)) * (n // 256)),
)
_frames = st.lists(st.tuples(st.integers(0, 3), _payloads), max_size=8)


@settings(max_examples=150, deadline=None)
@given(items=_frames, sniff=st.booleans(), data=st.data())
def test_demux_random_cuts(items: list[tuple[int, bytes]], sniff: bool, data: Any) -> None:
    body = encode_frames(items)
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    assert collect(demux(source(cut(body, points)), sniff=sniff)) == as_frames(items)


@pytest.mark.parametrize("drop", [1, 4, 5, 11], ids=lambda n: f"drop{n}")
def test_demux_truncated_frame(drop: int) -> None:
    body = encode_frames([*FRAMES, (1, b"last")])[:-drop]  # the last frame is 12 bytes
    for chunks in two_way_splits(body):
        got, exc = collect_until_error(demux(source(chunks)))
        assert got == as_frames(FRAMES)
        assert "ended inside a frame" in str(exc)


def test_demux_bad_stream_byte() -> None:
    body = FRAMES_BODY + b"\x07\0\0\0\0\0\0\x01x"
    for chunks in two_way_splits(body):
        got, exc = collect_until_error(demux(source(chunks)))
        assert got == as_frames(FRAMES)
        assert "stream 7" in str(exc)


TTY = b"\x1b[1;32mroot@c0ffee\x1b[0m:/# ls\r\nbin  etc  usr\r\n\0\0\0\0"


def test_demux_sniff_passes_raw_tty_output_through() -> None:
    for i in range(len(TTY) + 1):
        for j in range(i, len(TTY) + 1):
            got = collect(demux(source(cut(TTY, [i, j])), sniff=True))
            assert joined(got) == [Frame(StreamType.STDOUT, TTY)]
            assert all(f.data for f in got)


def test_demux_sniff_does_not_hold_back_a_short_prompt() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for chunk in (b"$ ", b"ls\r\n"):
            pulled += 1
            yield chunk

    async def run() -> list[tuple[bytes, int]]:
        return [(f.data, pulled) async for f in demux(chunks(), sniff=True)]

    assert drive(run()) == [(b"$ ", 1), (b"ls\r\n", 2)]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"h",
        b"hi\r\n",
        b"\x01\0\0\0\0\0\0",  # 7 bytes: too short for a header
        b"\x07\0\0\0\0\0\0\x01x",  # stream 7
        b"\x01hello, world",  # ^A typed at a TTY
        b"\x02\0\0\x01\0\0\0\x01x",  # a padding byte is not zero
    ],
)
def test_demux_sniff_short_or_headerless_bodies(body: bytes) -> None:
    for chunks in two_way_splits(body):
        assert joined(collect(demux(source(chunks), sniff=True))) == joined(
            [Frame(StreamType.STDOUT, body)] if body else []
        )


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300), data=st.data())
def test_demux_sniff_random_raw_bodies(body: bytes, data: Any) -> None:
    looks_multiplexed = len(body) >= 8 and body[0] <= 3 and body[1:4] == b"\0\0\0"
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=6))
    if looks_multiplexed:
        return
    got = collect(demux(source(cut(body, points)), sniff=True))
    assert b"".join(f.data for f in got) == body
    assert all(f.stream is StreamType.STDOUT for f in got)


def test_frames_picks_the_decoder_by_content_type() -> None:
    expected = as_frames(FRAMES)
    chunks = cut(FRAMES_BODY, [3, 20])
    assert joined(collect(frames(RAW, source(chunks)))) == [Frame(StreamType.STDOUT, FRAMES_BODY)]
    assert collect(frames(MULTIPLEXED, source(chunks))) == expected
    for sniffed in ("application/json", "text/plain", ""):
        assert collect(frames(sniffed, source(chunks))) == expected
        assert joined(collect(frames(sniffed, source([TTY])))) == [Frame(StreamType.STDOUT, TTY)]
    with pytest.raises(DockerStreamError, match="stream 27"):
        collect(frames(MULTIPLEXED, source([TTY])))


# -- split_values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "spans", "rest"),
    [
        (b"", [], 0),
        (b" \r\n\t", [], 4),
        (b'"a\\"b" "c"', [(0, 6), (7, 10)], 10),
        (b'"a\\\\"{"k": "\\\\"}', [(0, 5), (5, 16)], 16),
        (b'{"k": "}]{[\\""} ', [(0, 15)], 16),
        (b"[[1, [2]], [], {}]\n[", [(0, 18)], 19),
        (b"12 true null -1.5e3", [(0, 2), (3, 7), (8, 12)], 13),
        (b"12 true null -1.5e3 ", [(0, 2), (3, 7), (8, 12), (13, 19)], 20),
        (b'1{"a":1}[2]"s"', [(0, 1), (1, 8), (8, 11), (11, 14)], 14),
        (b'{"a": "\\', [], 0),
        (b'"\\"', [], 0),
        (b'[1] {"a": [1, {"b": "]"}', [(0, 3)], 4),
    ],
)
def test_split_values(data: bytes, spans: list[tuple[int, int]], rest: int) -> None:
    assert split_values(data) == (spans, rest)
    assert split_values(bytearray(data)) == (spans, rest)
    assert split_values(memoryview(data)) == (spans, rest)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(codec="utf-8")),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(_json, max_size=5), gaps=st.lists(st.sampled_from(["", " ", "\r\n"])))
def test_split_values_finds_every_value(values: list[Any], gaps: list[str]) -> None:
    parts = [msgspec.json.encode(v) for v in values]
    body = b""
    for i, part in enumerate(parts):
        sep = (gaps[i] if i < len(gaps) else " ").encode()
        follower = parts[i + 1][:1] if i + 1 < len(parts) else b""
        if not sep and part[:1] not in b'{["' and follower not in b'{["':
            sep = b" "  # two bare scalars need a gap ("1" "2" is "12")
        body += part + sep
    body += b" "
    spans, rest = split_values(body)
    assert rest == len(body)
    assert [msgspec.json.decode(body[a:b]) for a, b in spans] == values
    for end in range(len(body)):
        prefix_spans, prefix_rest = split_values(body[:end])
        assert prefix_spans == spans[: len(prefix_spans)]
        assert prefix_rest <= end
