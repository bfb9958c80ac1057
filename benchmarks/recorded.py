"""Raw HTTP responses as benchmarks/capture.py recorded them, and their parts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAYLOADS = Path(__file__).resolve().parent / "payloads"

# Headers the canned server sets itself, per connection and per body.
HOP_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "date"})


@dataclass
class Recorded:
    """One response: status line, headers and body; `chunks` keeps a chunked body's
    boundaries exactly as the daemon flushed them (None when it sent Content-Length)."""

    status: str
    headers: list[tuple[str, str]]
    chunks: list[bytes] | None
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def end_to_end_headers(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.headers if k.lower() not in HOP_HEADERS]


def split_chunks(data: bytes, *, partial: bool = False) -> tuple[list[bytes], int]:
    """The chunks of a chunked body and where parsing stopped; with `partial`, an
    unfinished last chunk (a recording cut short) is dropped instead of being an error."""
    chunks: list[bytes] = []
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            if partial:
                return chunks, pos
            raise ValueError(f"chunk size line missing at {pos}")
        size = int(data[pos:eol].split(b";")[0], 16)
        start = eol + 2
        if size == 0:
            return chunks, len(data)
        if start + size + 2 > len(data):
            if partial:
                return chunks, pos
            raise ValueError(f"chunk at {pos} runs past the end")
        chunks.append(data[start : start + size])
        pos = start + size + 2


def parse(raw: bytes, *, partial: bool = False) -> Recorded:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("no end of headers in the recorded response")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines)]
    chunked = any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers)
    if chunked:
        chunks, _ = split_chunks(rest, partial=partial)
        return Recorded(status, headers, chunks, b"".join(chunks))
    return Recorded(status, headers, None, rest)


def load(name: str, directory: Path = PAYLOADS) -> Recorded:
    return parse((directory / name).read_bytes())


def encode_chunks(chunks: list[bytes]) -> bytes:
    """A chunked body with these boundaries, ending with the last-chunk marker."""
    out = bytearray()
    for chunk in chunks:
        if chunk:
            out += b"%x\r\n" % len(chunk)
            out += chunk
            out += b"\r\n"
    out += b"0\r\n\r\n"
    return bytes(out)
