"""Decoding of the daemon's chunked streams: JSON value streams and multiplexed frames.

Both decoders take an async iterable of byte chunks, cut wherever the network cut them, and
never cap the size of one value or frame.
"""

from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from types import TracebackType
from typing import Any, TypeVar

import msgspec

from .errors import DockerStreamError
from .models import Frame, StreamType

__all__ = [
    "MULTIPLEXED",
    "RAW",
    "AttachedStream",
    "check_in_band",
    "demux",
    "demux_batches",
    "frame_batches",
    "frames",
    "json_values",
    "raw",
    "split_values",
]

T = TypeVar("T")

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"

_WS = b" \t\r\n"


async def json_values(
    chunks: AsyncIterable[bytes], decoder: msgspec.json.Decoder[T]
) -> AsyncGenerator[T, None]:
    """Yield every JSON value of a stream of concatenated values, typed by `decoder`.

    Values are usually newline-terminated; the fast path hands everything up to the last
    newline of the buffer to msgspec at once. A value that spans a newline (pretty-printed
    JSON) or has none falls back to an exact scan for value boundaries. Values before a
    malformed one are yielded before the DockerStreamError, however the stream was cut.
    """
    buf = bytearray()
    async for chunk in chunks:
        nl = chunk.rfind(b"\n")
        if nl < 0:
            buf += chunk
            continue
        if buf:
            buf += chunk
            data: bytes | bytearray = buf
            cut = len(buf) - len(chunk) + nl + 1
        else:
            data = chunk
            cut = nl + 1
        error: DockerStreamError | None = None
        try:
            items = decoder.decode_lines(memoryview(data)[:cut])
        except msgspec.DecodeError:
            items, cut, error = _decode_prefix(data, cut, decoder)
        if data is buf:
            del buf[:cut]
        else:
            buf += memoryview(data)[cut:]
        for item in items:
            yield item
        # Holding the batch while waiting for the next chunk would let the garbage
        # collector promote every value it holds to an older generation: slower collections.
        del items
        if error is not None:
            raise error
    if not buf.strip(_WS):
        return
    try:
        items = decoder.decode_lines(buf)
    except msgspec.DecodeError:
        items, cut, error = _decode_prefix(buf, len(buf), decoder)
        if error is None and buf[cut:].strip(_WS):
            error = DockerStreamError(f"stream ended inside a JSON value: {_preview(buf[cut:])}")
    else:
        error = None
    for item in items:
        yield item
    if error is not None:
        raise error


def _decode_prefix(
    data: bytes | bytearray, end: int, decoder: msgspec.json.Decoder[T]
) -> tuple[list[T], int, DockerStreamError | None]:
    """Decode the complete values in data[:end].

    Returns them, where the incomplete tail starts, and the error for a malformed value (the
    values before it are still returned).
    """
    spans, cut = split_values(memoryview(data)[:end])
    items: list[T] = []
    for start, stop in spans:
        try:
            items.append(decoder.decode(memoryview(data)[start:stop]))
        except msgspec.DecodeError as exc:
            text = f"malformed JSON in stream ({exc}): {_preview(data[start:stop])}"
            return items, stop, DockerStreamError(text)
    return items, cut, None


_STRUCTURE = re.compile(rb'[][{}"]')
_SCALAR_END = re.compile(rb'[ \t\r\n{["]')


def _string_end(view: bytes, i: int) -> int:
    """Where the string whose content starts at `i` ends (after its quote), or -1."""
    while True:
        j = view.find(b'"', i)
        if j < 0:
            return -1
        k = j
        while view[k - 1] == 0x5C:  # an odd run of backslashes escapes the quote
            k -= 1
        if (j - k) % 2 == 0:
            return j + 1
        i = j + 1


def split_values(data: bytes | bytearray | memoryview) -> tuple[list[tuple[int, int]], int]:
    """Find the complete top-level JSON values in `data`.

    Returns their (start, stop) spans and the offset where an incomplete value begins (or
    len(data) when everything is complete). Only structure is checked, not validity.
    """
    view = bytes(data)
    n = len(view)
    spans: list[tuple[int, int]] = []
    i = 0
    while True:
        while i < n and view[i] in _WS:
            i += 1
        if i >= n:
            return spans, n
        start = i
        first = view[i]
        if first == 0x7B or first == 0x5B:  # { or [
            depth = 0
            while True:
                m = _STRUCTURE.search(view, i)
                if m is None:
                    return spans, start
                i = m.end()
                c = view[i - 1]
                if c == 0x22:
                    i = _string_end(view, i)
                    if i < 0:
                        return spans, start
                elif c == 0x7B or c == 0x5B:
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        break
        elif first == 0x22:
            i = _string_end(view, i + 1)
            if i < 0:
                return spans, start
        else:
            m = _SCALAR_END.search(view, i)
            if m is None:
                # A bare scalar at the end may still be growing ("12" of "123").
                return spans, start
            i = m.start()
        spans.append((start, i))


def _preview(data: bytes | bytearray, limit: int = 200) -> str:
    text = bytes(data[:limit]).decode("utf-8", "replace")
    return text + ("..." if len(data) > limit else "")


async def check_in_band(items: AsyncIterable[T]) -> AsyncGenerator[T, None]:
    """Pass progress messages through, raising DockerStreamError on one that reports an error."""
    async for item in items:
        detail: Any = getattr(item, "error_detail", None)
        message: Any = getattr(item, "error", None)
        if detail is not None or message:
            text = message or getattr(detail, "message", None) or "the daemon reported an error"
            raise DockerStreamError(str(text), detail)
        yield item


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
        raise DockerStreamError(
            f"multiplexed stream ended inside a frame ({len(header) or 8} header bytes, "
            f"{need} payload bytes missing)"
        )


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


async def iterate(items: Iterable[T]) -> AsyncIterator[T]:
    """An async iterator over an in-memory iterable (tests and canned bodies)."""
    for item in items:
        yield item


class AttachedStream:
    """A container's or exec's stdio over a hijacked connection.

    Iterate it for output frames (demuxed, or raw STDOUT with a TTY); `write` sends stdin,
    `close_write` sends EOF on stdin (so `cat` ends) and keeps reading, `resize` sets the
    TTY size. Use it as an async context manager, or call `close`.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        content_type: str,
        resize: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._resize = resize
        self._frames = frames(content_type, self._chunks())

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        while chunk := await self._reader.read(65536):
            yield chunk

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._frames

    async def read_frame(self) -> Frame | None:
        """The next frame, or None at the end of the output."""
        return await anext(self._frames, None)

    async def read_all(self) -> tuple[bytes, bytes]:
        """Everything left on stdout and stderr, until the process ends."""
        out: list[bytes] = []
        err: list[bytes] = []
        async for frame in self._frames:
            (err if frame.stream == StreamType.STDERR else out).append(frame.data)
        return b"".join(out), b"".join(err)

    async def write(self, data: bytes) -> None:
        """Send bytes to the process's stdin (it must have been attached with stdin)."""
        self._writer.write(data)
        await self._writer.drain()

    async def close_write(self) -> None:
        """Close stdin; output can still be read."""
        if not self._writer.can_write_eof():
            raise DockerStreamError(
                "cannot close stdin alone over TLS (Python's TLS transport has no half-close)"
            )
        self._writer.write_eof()
        await self._writer.drain()

    async def resize(self, height: int, width: int) -> None:
        """Set the TTY size."""
        if self._resize is None:
            raise DockerStreamError("this stream cannot be resized")
        await self._resize(height, width)

    async def close(self) -> None:
        """Close the connection (the daemon then detaches)."""
        await self._frames.aclose()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    async def __aenter__(self) -> AttachedStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
