"""Attached streams: a container's or exec's stdio over a hijacked connection."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from types import TracebackType
from typing import Any

from ..errors import DockerStreamError
from ..models import Frame, StreamType

__all__ = ["Attach", "AttachedStream", "Resize"]

Resize = Callable[[int, int], Awaitable[None]]
"""How a stream sets its TTY's size: (height, width)."""


class AttachedStream:
    """A container's or exec's stdio over a hijacked connection.

    Iterate it for output frames (demuxed, or raw STDOUT with a TTY); `write` sends stdin,
    `close_write` sends EOF on stdin (so `cat` ends) and keeps reading, `resize` sets the
    TTY size. Use it as an async context manager, or call `close`.

    The output ends when the daemon closes the connection (the protocol's end of stream); a
    connection that breaks (reset) raises StreamCut, as does one that ends inside a frame.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        content_type: str,
        resize: Resize | None = None,
        *,
        cut: Callable[[BaseException], BaseException] | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._resize = resize
        self._cut = cut
        self._ended: BaseException | None = None
        self.on_close: Callable[[], None] | None = None
        from .demux import frames  # the decoders load with the first attach, not the client

        self._frames = frames(content_type, self._chunks())

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        try:
            while chunk := await self._reader.read(65536):
                yield chunk
        except OSError as exc:  # a reset, a TLS failure: the connection broke
            if self._ended is not None:
                raise self._ended from exc
            raise (exc if self._cut is None else self._cut(exc)) from exc
        if self._ended is not None:
            raise self._ended

    def end(self, error: BaseException) -> None:
        """Close the connection from outside (Docker.close()): the output then raises
        `error`, at once if it is being waited for."""
        self._ended = error
        self._writer.transport.abort()

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
        """Close the connection (the daemon then detaches). Stdin the daemon has not taken
        yet is dropped: a close that waited for it to flush would wait forever on a process
        that stopped reading (and so would the `async with` around a cancelled write)."""
        if self.on_close is not None:
            self.on_close()
        await self._frames.aclose()
        transport = self._writer.transport
        if _unsent(transport):
            transport.abort()
        else:
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


class Attach:
    """What `containers.attach` and `exec.start` return: `async with` it to connect and get
    the AttachedStream, closed when the block ends.

    `await` on it (the earlier call style, `async with await ...`) still gives the stream,
    which you then close yourself, with a DeprecationWarning: it goes in the next release.
    """

    def __init__(self, connect: Callable[[], Awaitable[AttachedStream]]) -> None:
        self._connect = connect
        self._stream: AttachedStream | None = None

    async def __aenter__(self) -> AttachedStream:
        if self._stream is not None:
            raise RuntimeError("this attach is already entered")
        self._stream = await self._connect()
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.close()

    def __await__(self) -> Generator[Any, Any, AttachedStream]:
        warnings.warn(
            "`await` on attach() or exec.start() is deprecated: use "
            "`async with docker.containers.attach(...) as stream` instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._connect().__await__()


def _unsent(transport: asyncio.BaseTransport) -> int:
    """The bytes a transport still holds to send; none once its connection is gone (Python
    3.10's TLS transport raises AttributeError then, where later ones say 0)."""
    try:
        return transport.get_write_buffer_size()  # type: ignore[attr-defined, no-any-return]
    except AttributeError:
        return 0
