"""Just enough HTTP/1.1 on a socket of our own, for what aiohttp does not do well here.

Two uses. Upgraded connections (attach, exec start): aiohttp exposes no public way to keep
the socket after a 101. Long GET streams (events, logs, stats, exports): dockerd flushes
one HTTP chunk per event or log frame, and aiohttp handles each chunk as its own step in
Python; reading the socket in large blocks and cutting the chunk framing out of each block
hands the decoders one buffer per read instead, which is most of the cost of a stream.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Mapping
from typing import Final

from .base import BodyError

__all__ = ["BodyError", "ChunkedDecoder", "body", "read_head", "request_head"]

READ_SIZE: Final = 256 * 1024


def request_head(method: str, target: str, host: str, headers: Mapping[str, str]) -> bytes:
    """A request's status line and headers."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """A response's status and headers (names lower-cased); the body stays in `reader`."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise BodyError("the response head is too long") from None
    except asyncio.IncompleteReadError as exc:
        raise ConnectionResetError(
            "the daemon closed the connection before answering"
            if not exc.partial
            else f"the daemon closed the connection mid-answer: {exc.partial[:80]!r}"
        ) from None
    status_line, *lines = head.decode("latin-1").split("\r\n")
    try:
        version, code, *_ = status_line.split(" ", 2)
        status = int(code)
        if not version.startswith("HTTP/"):
            raise ValueError(version)
    except ValueError:
        raise BodyError(f"not an HTTP response: {status_line[:80]!r}") from None
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def body(
    reader: asyncio.StreamReader, headers: Mapping[str, str], read_size: int = READ_SIZE
) -> AsyncGenerator[bytes, None]:
    """A response body in the largest pieces at hand (never an empty one), whatever its framing.

    Raises EOFError if the connection ends before the body does, BodyError if its framing is
    not HTTP's.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        decoder = ChunkedDecoder()
        while not decoder.done:
            data = await reader.read(read_size)
            if not data:
                raise EOFError("the connection closed before the body's last chunk")
            payload = decoder.feed(data)
            if payload:
                yield payload
        return
    length = headers.get("content-length")
    if length is None:
        while data := await reader.read(read_size):
            yield data
        return
    try:
        left = int(length)
    except ValueError:
        raise BodyError(f"bad Content-Length {length!r}") from None
    while left > 0:
        data = await reader.read(min(left, read_size))
        if not data:
            raise EOFError(f"the connection closed {left} bytes before the body's end")
        left -= len(data)
        yield data


class ChunkedDecoder:
    """Cuts the payload out of a chunked transfer-encoded body, fed in arbitrary pieces."""

    __slots__ = ("_crlf", "_left", "_rest", "_trailers", "done")

    def __init__(self) -> None:
        self._rest = b""  # an incomplete size line (or trailer) carried to the next feed
        self._left = 0  # payload bytes of the current chunk not yet seen
        self._crlf = 0  # bytes of CRLF due before the next size line (none before the first)
        self._trailers = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """The payload in `data` (with what earlier feeds left over), joined."""
        if self._rest:
            data, self._rest = self._rest + data, b""
        size = len(data)
        out: list[bytes] = []
        pos = 0
        left = self._left
        crlf = self._crlf
        sizes = _SIZES
        append = out.append
        # The hot loop: dockerd sends one chunk per event or log frame, so this runs for
        # each. A dict of the size lines seen before (with the CRLF ending the previous
        # chunk's data) is much cheaper than a regex and int(..., 16) per chunk.
        while True:
            if left:
                end = pos + left
                if end >= size:
                    append(data[pos:] if pos else data)
                    left = end - size
                    break
                append(data[pos:end])
                pos, left, crlf = end, 0, 2
            if self._trailers:
                pos = self._trailer(data, pos)
                if pos < 0 or self.done:
                    break
                continue
            if pos == size:
                break
            end = data.find(b"\r\n", pos + crlf)
            if end < 0:
                self._incomplete(data, pos, crlf)
                break
            left = sizes.get(data[pos:end], -1)
            if left < 0:
                left = _chunk_size(data[pos:end], crlf)
            pos, crlf = end + 2, 2
            if not left:
                self._trailers = True
        self._left = left
        self._crlf = crlf
        if len(out) == 1:
            return out[0]
        return b"".join(out)

    def _incomplete(self, data: bytes, pos: int, crlf: int) -> None:
        """Keep an unfinished size line for the next feed; reject a malformed one."""
        rest = data[pos:]
        if crlf and not b"\r\n".startswith(rest[:crlf]):
            raise BodyError(f"chunk data not followed by CRLF: {rest[:20]!r}")
        if b"\r\n" in rest[crlf:] or len(rest) > 1024:
            raise BodyError(f"bad chunk size line: {rest[:40]!r}")
        self._rest = rest

    def _trailer(self, data: bytes, pos: int) -> int:
        """Skip one trailer line (or the final CRLF); -1 when it is not all here yet."""
        end = data.find(b"\r\n", pos)
        if end < 0:
            self._incomplete(data, pos, 0)
            return -1
        if end == pos:
            self.done = True
        return end + 2


_SIZES: dict[bytes, int] = {}
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?", re.DOTALL)


def _chunk_size(line: bytes, crlf: int) -> int:
    """The size on a chunk-size line (extensions ignored), after `crlf` bytes of the CRLF
    that ends the previous chunk's data; plain lines are remembered."""
    if line[:crlf] != b"\r\n"[:crlf]:
        raise BodyError(f"chunk data not followed by CRLF: {line[:20]!r}")
    m = _SIZE_LINE.fullmatch(line, crlf)
    if m is None:
        raise BodyError(f"bad chunk size line: {line[crlf : crlf + 40]!r}")
    size = int(m[1], 16)
    if crlf and m.end(1) == len(line) and len(_SIZES) < 4096:
        _SIZES[line] = size
    return size
