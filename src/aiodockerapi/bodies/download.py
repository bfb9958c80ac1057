"""Download: a binary body (an archive) with metadata in a header, streamed in chunks."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Generic, TypeVar

import msgspec

from ..errors import DockerError
from ..http.base import Response
from .codec import decoder

__all__ = ["Download", "decode_header", "header_of"]

M = TypeVar("M")


class Download(Generic[M]):
    """A binary body (an archive) streamed in chunks, never whole in memory.

    `async with` it to read `meta` (decoded from its header) before the chunks, or just
    `async for` over it.
    """

    def __init__(
        self,
        opener: AbstractAsyncContextManager[Response],
        meta_type: type[M],
        meta_header: str,
    ) -> None:
        self._opener = opener
        self._meta_type = meta_type
        self._meta_header = meta_header
        self._resp: Response | None = None
        self._meta: M | None = None

    @property
    def meta(self) -> M:
        """The metadata from the response header (inside `async with` only)."""
        if self._meta is None:
            raise RuntimeError("enter the download with `async with` before reading meta")
        return self._meta

    async def __aenter__(self) -> Download[M]:
        self._resp = await self._opener.__aenter__()
        self._meta = decode_header(self._resp, self._meta_type, self._meta_header)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._resp = None
        await self._opener.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._resp is not None:
            return self._resp.chunks()
        return self._chunks()

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        async with self as entered:
            async for chunk in entered:
                yield chunk


def decode_header(resp: Response, meta: type[M], header: str) -> M:
    """The base64 JSON value of `header`, decoded into `meta`."""
    raw = resp.headers.get(header)
    if raw is None:
        raise DockerError(resp.status, f"the daemon sent no {header} header")
    try:
        return decoder(meta).decode(base64.b64decode(raw))  # type: ignore[no-any-return]
    except (ValueError, msgspec.DecodeError) as exc:
        raise DockerError(resp.status, f"undecodable {header} header: {exc}") from None


async def header_of(stream: AbstractAsyncContextManager[Response], meta: type[M], header: str) -> M:
    """Only the base64 JSON `header` of a response, decoded into `meta` (the HEAD of an
    archive); the body, if any, is left unread."""
    async with stream as resp:
        return decode_header(resp, meta, header)
