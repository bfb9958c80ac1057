"""Build contexts: stream the tar bytes the daemon expects for ``POST /build``.

A context can be raw tar bytes, a path to a tar file or to a directory (tarred on the
fly, honouring ``.dockerignore``), a binary file object or an async iterable of bytes.
Blocking work (stat, directory walks, file reads) runs in worker threads one chunk at a
time, so memory stays bounded by a few chunks and the event loop is never blocked.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat
import tarfile
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator, Mapping
from typing import BinaryIO, TypeAlias, cast

import anyio.to_thread

from .dockerignore import DOCKERIGNORE, load_dockerignore

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "TAR_HEADERS",
    "BuildContext",
    "open_context",
]

BuildContext: TypeAlias = (
    bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | AsyncIterable[bytes]
)

DEFAULT_CHUNK_SIZE = 64 * 1024
TAR_HEADERS: Mapping[str, str] = {"Content-Type": "application/x-tar"}
"""The headers of a request whose body is a tar (a build context, an image archive)."""
DEFAULT_DOCKERFILE = "Dockerfile"

_BLOCK = tarfile.BLOCKSIZE
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def open_context(
    source: BuildContext,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    dockerfile: str | None = None,
) -> AsyncGenerator[bytes, None]:
    """Return an async generator yielding the tar bytes of ``source`` in chunks.

    ``dockerfile`` (relative to a directory context, default ``Dockerfile``) is always
    included, like ``.dockerignore``, even if ignored. Bad argument types fail here;
    filesystem errors (e.g. a missing path) are raised on first iteration. Close the
    generator (``aclose()``) when abandoning it early to release files immediately.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    keep_dockerfile = _normalize_dockerfile(dockerfile)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if isinstance(source, memoryview) and not source.c_contiguous:
            raise ValueError("a memoryview build context must be C-contiguous")
        return _iter_buffer(source, chunk_size)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return _iter_blocking(_iter_path(path, chunk_size, keep_dockerfile))
    if isinstance(source, io.TextIOBase):
        raise TypeError(
            f"build context file object {source!r} is in text mode; open it in binary mode"
        )
    if callable(getattr(source, "read", None)):
        return _iter_blocking(_iter_fileobj(cast(BinaryIO, source), chunk_size))
    if hasattr(source, "__aiter__"):
        return _iter_async(cast("AsyncIterable[bytes]", source))
    raise TypeError(
        f"unsupported build context type {type(source).__name__!r}: expected bytes, "
        "a path, a binary file object or an async iterable of bytes"
    )


def _normalize_dockerfile(dockerfile: str | None) -> str:
    if dockerfile is None:
        return DEFAULT_DOCKERFILE
    if not isinstance(dockerfile, str):
        raise TypeError(f"dockerfile must be a str, got {type(dockerfile).__name__!r}")
    name = posixpath.normpath(dockerfile.replace(os.sep, "/"))
    if name in (".", "..") or name.startswith(("/", "../")):
        raise ValueError(
            f"dockerfile must be a path inside the build context, relative to it: {dockerfile!r}"
        )
    return name


# -- sources that need no threads -------------------------------------------------------


async def _iter_buffer(
    data: bytes | bytearray | memoryview, chunk_size: int
) -> AsyncGenerator[bytes, None]:
    if isinstance(data, bytes) and len(data) <= chunk_size:
        if data:
            yield data
        return
    # Slicing a view copies one chunk at a time, never the whole buffer.
    with memoryview(data) as view, view.cast("B") as flat:
        for start in range(0, len(flat), chunk_size):
            yield bytes(flat[start : start + chunk_size])


async def _iter_async(source: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    # The source belongs to the caller: we iterate it but don't close it.
    async for chunk in source:
        if isinstance(chunk, (bytearray, memoryview)):
            chunk = bytes(chunk)
        elif not isinstance(chunk, bytes):
            raise TypeError(f"async build context yielded {type(chunk).__name__!r}, expected bytes")
        if chunk:  # an empty chunk would end a chunked HTTP body
            yield chunk


# -- blocking sources, advanced in worker threads ---------------------------------------


class _Stepper:
    """Advance a blocking generator one item per call, from worker threads.

    Native asyncio cancellation does not wait for a running worker, so ``close()`` may
    be called while a step is still in flight; whichever side holds the lock last closes
    the generator, so its files are always released.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._lock = threading.Lock()
        self._closing = False

    def step(self) -> bytes | None:
        try:
            with self._lock:
                if self._closing:
                    return None
                return next(self._chunks, None)
        finally:
            self._close_if_closing()

    def close(self) -> None:
        self._closing = True
        self._close_if_closing()

    def _close_if_closing(self) -> None:
        if self._closing and self._lock.acquire(blocking=False):
            try:
                close = getattr(self._chunks, "close", None)
                if close is not None:
                    close()
            finally:
                self._lock.release()


async def _iter_blocking(chunks: Iterator[bytes]) -> AsyncGenerator[bytes, None]:
    stepper = _Stepper(chunks)
    try:
        while (chunk := await anyio.to_thread.run_sync(stepper.step)) is not None:
            yield chunk
    finally:
        # Synchronous on purpose: an await here could be cancelled before closing.
        stepper.close()


def _iter_fileobj(fileobj: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    while True:
        data: object = fileobj.read(chunk_size)
        if data is None:
            raise ValueError(f"build context file object {fileobj!r} is non-blocking")
        if isinstance(data, str):
            raise TypeError(
                f"build context file object {fileobj!r} returned str; open it in binary mode"
            )
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"build context file object {fileobj!r} returned "
                f"{type(data).__name__!r}, expected bytes"
            )
        if not data:
            return
        yield data if isinstance(data, bytes) else bytes(data)


def _iter_path(path: str, chunk_size: int, dockerfile: str) -> Iterator[bytes]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "build context path does not exist", path) from None
    if stat.S_ISDIR(st.st_mode):
        yield from _rechunk(_tar_directory(path, chunk_size, dockerfile), chunk_size)
    elif stat.S_ISREG(st.st_mode):
        # A ready (possibly compressed) tar: the daemon detects the compression itself.
        with open(path, "rb") as f:
            while data := f.read(chunk_size):
                yield data
    else:
        raise ValueError(f"build context path {path!r} is neither a directory nor a file")


def _rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup small tar pieces (headers, padding) into chunks of exactly ``size``."""
    buf = bytearray()
    for piece in pieces:
        if not buf and len(piece) == size:
            yield piece
            continue
        buf += piece
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


# -- directory tarring ------------------------------------------------------------------


def _tar_directory(root: str, chunk_size: int, dockerfile: str) -> Iterator[bytes]:
    """Yield a tar of ``root`` piece by piece, in sorted depth-first order."""
    ignore = load_dockerignore(root)
    keep = frozenset({DOCKERIGNORE, dockerfile})
    stack: list[tuple[str, Iterator[str]]] = [("", iter(_sorted_listdir(root)))]
    while stack:
        prefix, names = stack[-1]
        name = next(names, None)
        if name is None:
            stack.pop()
            continue
        rel = prefix + name
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:  # removed during the walk
            continue
        excluded = rel not in keep and ignore.excluded(rel)
        if stat.S_ISDIR(st.st_mode):
            if not excluded:
                yield _header(rel, st, tarfile.DIRTYPE)
            descend = (
                not excluded
                or ignore.may_reinclude_under(rel)
                or any(k.startswith(rel + "/") for k in keep)
            )
            if descend:
                try:
                    stack.append((rel + "/", iter(_sorted_listdir(full))))
                except FileNotFoundError:
                    continue
        elif excluded:
            continue
        elif stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(full)
            except FileNotFoundError:
                continue
            yield _header(rel, st, tarfile.SYMTYPE, linkname=target)
        elif stat.S_ISREG(st.st_mode):
            yield from _file_entry(rel, full, chunk_size)
        # Sockets, FIFOs and devices have no place in a build context: skipped.
    yield bytes(2 * _BLOCK)


def _sorted_listdir(path: str) -> list[str]:
    # Byte order, like the docker CLI's walk (Go sorts raw names).
    return sorted(os.listdir(path), key=os.fsencode)


def _open_nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | _O_NOFOLLOW)


def _file_entry(rel: str, full: str, chunk_size: int) -> Iterator[bytes]:
    try:
        f = open(full, "rb", opener=_open_nofollow)
    except FileNotFoundError:
        return
    with f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):  # swapped for something else since lstat
            return
        size = st.st_size
        yield _header(rel, st, tarfile.REGTYPE, size=size)
        # The header's size is final: stop at it if the file grew, zero-fill if it shrank.
        remaining = size
        while remaining > 0:
            data = f.read(min(chunk_size, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
        while remaining > 0:
            fill = min(chunk_size, remaining)
            remaining -= fill
            yield bytes(fill)
    if size % _BLOCK:
        yield bytes(_BLOCK - size % _BLOCK)


def _header(
    name: str, st: os.stat_result, kind: bytes, *, size: int = 0, linkname: str = ""
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = _tar_mode(st.st_mode)
    info.mtime = int(st.st_mtime)  # whole seconds keep headers small and reproducible
    info.size = size
    info.linkname = linkname
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _tar_mode(mode: int) -> int:
    perm = stat.S_IMODE(mode)
    if os.name == "nt":  # no POSIX permissions: mark everything readable and executable
        perm = (perm & 0o755) | 0o111
    return perm
