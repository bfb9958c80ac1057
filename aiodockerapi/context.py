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
import re
import stat
import tarfile
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, TypeAlias, cast

import anyio.to_thread

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BuildContext",
    "DockerIgnore",
    "open_context",
    "parse_dockerignore",
]

BuildContext: TypeAlias = (
    bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | AsyncIterable[bytes]
)

DEFAULT_CHUNK_SIZE = 64 * 1024
DEFAULT_DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"

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
    ignore = _load_dockerignore(root)
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


def _load_dockerignore(root: str) -> DockerIgnore:
    path = os.path.join(root, DOCKERIGNORE)
    if not os.path.isfile(path):
        return DockerIgnore(())
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    try:
        return DockerIgnore(parse_dockerignore(text))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# -- .dockerignore ----------------------------------------------------------------------


def parse_dockerignore(text: str) -> list[str]:
    """Split ``.dockerignore`` text into cleaned patterns (``!`` kept as a prefix).

    Lines starting with ``#`` are comments; surrounding whitespace and blank lines are
    dropped; patterns are cleaned like Go's ``filepath.Clean`` and made relative.
    """
    text = text.removeprefix("\ufeff")
    patterns: list[str] = []
    for line in text.split("\n"):
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        negate = line.startswith("!")
        body = _clean_pattern(line[1:].strip() if negate else line)
        patterns.append("!" + body if negate else body)
    return patterns


def _clean_pattern(pattern: str) -> str:
    if not pattern:
        return pattern
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith("//"):  # POSIX normpath keeps a double leading slash; Go doesn't
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


_TokenKind = Literal["atom", "sep", "globstar"]


@dataclass(frozen=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]
    # One regex per path segment, or None when ``**`` lets it span any depth.
    segments: tuple[re.Pattern[str], ...] | None

    def match(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


class DockerIgnore:
    """Compiled ``.dockerignore`` patterns; the last matching pattern wins.

    A pattern excludes a path when it matches the path or one of its parent
    directories; ``!pattern`` re-includes. Syntax is Go's ``filepath.Match`` (``*``,
    ``?``, ``[...]``, ``\\`` escapes) on slash-separated relative paths, plus ``**``
    for any number of directories.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        compiled: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            exclusion = text.startswith("!")
            body = _clean_pattern(text[1:].strip() if exclusion else text)
            if not body:
                raise ValueError(f"invalid .dockerignore pattern {raw!r}: nothing after '!'")
            try:
                regex, segments = _compile(body)
            except ValueError as exc:
                raise ValueError(f"invalid .dockerignore pattern {raw!r}: {exc}") from None
            compiled.append(_Pattern(body, exclusion, regex, segments))
        self._patterns = tuple(compiled)

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        """Compile the contents of a ``.dockerignore`` file."""
        return cls(parse_dockerignore(text))

    @property
    def patterns(self) -> tuple[str, ...]:
        """The cleaned patterns, with ``!`` on exceptions."""
        return tuple(("!" if p.exclusion else "") + p.text for p in self._patterns)

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (slash-separated, relative to the context) is left out."""
        path = _clean_pattern(path)
        parts = path.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        result = False
        for pattern in self._patterns:
            # An exclusion only matters once excluded, an inclusion only while included.
            if pattern.exclusion != result:
                continue
            if pattern.match(path) or any(pattern.match(p) for p in parents):
                result = not pattern.exclusion
        return result

    def may_reinclude_under(self, directory: str) -> bool:
        """Whether some ``!`` pattern could match a path strictly inside ``directory``.

        Conservative: a ``**`` exception is assumed to reach anywhere.
        """
        parts = _clean_pattern(directory).split("/")
        for pattern in self._patterns:
            if not pattern.exclusion:
                continue
            if pattern.segments is None:
                return True
            if len(pattern.segments) > len(parts) and all(
                seg.fullmatch(part) for seg, part in zip(pattern.segments, parts, strict=False)
            ):
                return True
        return False


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...] | None]:
    tokens = _tokenize(pattern)
    regex = re.compile("".join(rx for _, rx in tokens), re.DOTALL)
    if any(kind == "globstar" for kind, _ in tokens):
        return regex, None
    segments: list[str] = [""]
    for kind, rx in tokens:
        if kind == "sep":
            segments.append("")
        else:
            segments[-1] += rx
    return regex, tuple(re.compile(s, re.DOTALL) for s in segments)


def _tokenize(pattern: str) -> list[tuple[_TokenKind, str]]:
    """Translate a glob into regex pieces, tagged so segments can be split out."""
    tokens: list[tuple[_TokenKind, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            while i < n and pattern[i] == "*":
                i += 1
            if i < n and pattern[i] == "/":
                i += 1
                tokens.append(("globstar", "(?:.*/)?"))  # zero or more directories
            else:
                tokens.append(("globstar", ".*"))
            continue
        if c == "[":
            rx, i = _translate_class(pattern, i)
            tokens.append(("atom", rx))
            continue
        i += 1
        if c == "*":
            tokens.append(("atom", "[^/]*"))
        elif c == "?":
            tokens.append(("atom", "[^/]"))
        elif c == "\\":
            if i >= n:
                raise ValueError("trailing backslash")
            tokens.append(("sep", "/") if pattern[i] == "/" else ("atom", re.escape(pattern[i])))
            i += 1
        elif c == "/":
            tokens.append(("sep", "/"))
        else:
            tokens.append(("atom", re.escape(c)))
    return tokens


def _translate_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the ``[...]`` class at ``start``; return its regex and the next index."""
    i = start + 1
    negate = pattern.startswith("^", i)
    if negate:
        i += 1
    items: list[str] = []
    while True:
        if i >= len(pattern):
            raise ValueError("unterminated character class")
        if pattern[i] == "]" and items:
            i += 1
            break
        lo, i = _class_char(pattern, i)
        if pattern.startswith("-", i):
            hi, i = _class_char(pattern, i + 1)
            if lo > hi:
                raise ValueError(f"reversed range {lo}-{hi} in character class")
            items.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            items.append(re.escape(lo))
    body = "".join(items)
    # Like the other wildcards, a class never matches the path separator.
    return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern):
        raise ValueError("unterminated character class")
    c = pattern[i]
    if c == "\\":
        if i + 1 >= len(pattern):
            raise ValueError("unterminated character class")
        return pattern[i + 1], i + 2
    if c in "-]":
        raise ValueError(f"unescaped {c!r} in character class")
    return c, i + 1
