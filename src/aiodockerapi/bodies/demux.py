"""Multiplexed frames: the stdout and stderr of logs, attach and exec, split apart.

The demultiplexer takes an async iterable of byte chunks, cut wherever the network cut them,
and never caps the size of one frame.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Mapping

from ..errors import DockerStreamError, StreamCut
from ..models import Frame, StreamType

__all__ = [
    "MULTIPLEXED",
    "RAW",
    "demux",
    "demux_batches",
    "frame_batches",
    "frames",
    "raw",
    "stream_type",
]

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"

_HEADER = struct.Struct(">BxxxL")
_STREAMS = {s.value: s for s in StreamType}
_KINDS = tuple(sorted(StreamType))  # indexed by the header's stream byte


async def demux(
    chunks: AsyncIterable[bytes], *, sniff: bool = False
) -> AsyncGenerator[Frame, None]:
    """Split a multiplexed stream (8-byte header: stream, 0, 0, 0, big-endian size) into frames.

    Frames wholly inside one chunk are sliced straight from it; only a frame cut by a chunk
    boundary is gathered in a buffer, so each payload byte is copied once. With `sniff`, a
    body that does not start with a frame header is passed through as raw stdout: daemons
    before API 1.42 send no Content-Type that tells the two apart.
    """
    async for batch in demux_batches(chunks, sniff=sniff):
        for frame in batch:
            yield frame


async def demux_batches(
    chunks: AsyncIterable[bytes], *, sniff: bool = False
) -> AsyncGenerator[list[Frame], None]:
    """`demux`, yielding the frames completed by each chunk as one list: a caller relaying
    frames pays one generator step per chunk instead of one per frame."""
    source: AsyncIterable[bytes] = chunks
    if sniff:
        it = aiter(chunks)
        head = bytearray()
        async for chunk in it:
            head += chunk
            # Decide as soon as a byte rules a header out: an interactive prompt must not wait.
            if head and (len(head) >= 8 or not _could_be_header(head)):
                break
        if not (len(head) >= 8 and _could_be_header(head)):
            if head:
                yield [Frame(StreamType.STDOUT, bytes(head))]
            async for chunk in it:
                if chunk:
                    yield [Frame(StreamType.STDOUT, chunk)]
            return
        source = _prepend(bytes(head), it)
    pending = bytearray()
    need = 0  # payload bytes the pending frame still lacks
    kind = StreamType.STDOUT
    header = bytearray()
    unpack = _HEADER.unpack_from
    kinds = _KINDS
    async for chunk in source:
        batch: list[Frame] = []
        pos = 0
        end = len(chunk)
        if need:
            take = min(need, end)
            pending += chunk[:take]
            need -= take
            pos = take
            if need:
                continue
            batch.append(Frame(kind, bytes(pending)))
            pending.clear()
        if header:
            take = 8 - len(header)
            header += chunk[pos : pos + take]
            pos += take
            if len(header) < 8:
                continue
            kind, size = _parse_header(header)
            header.clear()
            if end - pos < size:
                pending += chunk[pos:]
                need = size - (end - pos)
                yield batch
                continue
            batch.append(Frame(kind, chunk[pos : pos + size]))
            pos += size
        append = batch.append
        while end - pos >= 8:
            stream, size = unpack(chunk, pos)
            if stream >= len(kinds):
                if batch:
                    yield batch
                _parse_header(chunk, pos)  # raises, naming the header
            kind = kinds[stream]
            start = pos + 8
            pos = start + size
            if pos > end:
                pending += chunk[start:]
                need = pos - end
                pos = end
                break
            append(Frame(kind, chunk[start:pos]))
        if pos < end:
            header += chunk[pos:]
        if batch:
            yield batch
    if header or need:
        missing = f"{8 - len(header)} header bytes" if header else f"{need} payload bytes"
        raise StreamCut(f"multiplexed stream ended inside a frame ({missing} missing)")


def stream_type(headers: Mapping[str, str], spoken: tuple[int, int]) -> str:
    """The media type of a logs or attach stream at API version `spoken`, trusted from 1.42
    on. Below it a daemon (Docker 23 and later, at least) says raw-stream for multiplexed
    output too, and dockerd 20.10 sends none on logs: "" lets the first bytes decide."""
    media_type = (headers.get("Content-Type") or "").partition(";")[0].strip().lower()
    return media_type if spoken >= (1, 42) else ""


def _could_be_header(head: bytes | bytearray) -> bool:
    return head[0] in _STREAMS and not any(head[1:4])


def _parse_header(data: bytes | bytearray, offset: int = 0) -> tuple[StreamType, int]:
    stream, size = _HEADER.unpack_from(data, offset)
    kind = _STREAMS.get(stream)
    if kind is None:
        raise DockerStreamError(
            f"bad multiplexed frame header {bytes(data[offset : offset + 8])!r}: "
            f"stream {stream} is not 0-3"
        )
    return kind, size


async def raw(chunks: AsyncIterable[bytes]) -> AsyncGenerator[Frame, None]:
    """A TTY stream: every chunk is stdout."""
    async for chunk in chunks:
        if chunk:
            yield Frame(StreamType.STDOUT, chunk)


def frames(content_type: str, chunks: AsyncIterable[bytes]) -> AsyncGenerator[Frame, None]:
    """Frames of a logs/attach body: raw or demuxed as its Content-Type says, else sniffed."""
    if content_type == RAW:
        return raw(chunks)
    return demux(chunks, sniff=content_type != MULTIPLEXED)


def frame_batches(
    content_type: str, chunks: AsyncIterable[bytes]
) -> AsyncGenerator[list[Frame], None]:
    """`frames`, as one list of frames per chunk received (see `demux_batches`)."""
    if content_type == RAW:
        return _raw_batches(chunks)
    return demux_batches(chunks, sniff=content_type != MULTIPLEXED)


async def _raw_batches(chunks: AsyncIterable[bytes]) -> AsyncGenerator[list[Frame], None]:
    async for chunk in chunks:
        if chunk:
            yield [Frame(StreamType.STDOUT, chunk)]


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
