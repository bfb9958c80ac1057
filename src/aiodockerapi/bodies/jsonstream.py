"""JSON value streams: the concatenated values of events, stats, pulls, pushes and builds.

`json_batches` takes an async iterable of byte chunks, cut wherever the network cut them, and
never caps the size of one value.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any, TypeVar

import msgspec

from ..errors import DockerStreamError

__all__ = ["in_band_error", "json_batches", "split_values"]

T = TypeVar("T")

_WS = b" \t\r\n"


async def json_batches(
    chunks: AsyncIterable[bytes], decoder: msgspec.json.Decoder[T]
) -> AsyncGenerator[list[T], None]:
    """Yield the JSON values of a stream of concatenated values in lists: those each network
    read completed (never an empty list).

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
        if items:
            yield items
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
    if items:
        yield items
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


def in_band_error(item: object) -> DockerStreamError | None:
    """The error a progress message (pull, push, build, load) reports, if it reports one."""
    detail: Any = getattr(item, "error_detail", None)
    message: Any = getattr(item, "error", None)
    if detail is not None or message:
        text = message or getattr(detail, "message", None) or "the daemon reported an error"
        return DockerStreamError(str(text), detail)
    return None
