"""Tests for build-context streaming, with .dockerignore honoured in directory contexts
(the pattern matcher itself: test_dockerignore.py)."""

from __future__ import annotations

import asyncio
import bz2
import gc
import gzip
import io
import os
import tarfile
import threading
import time
import tracemalloc
import warnings
from array import array
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path

import anyio
import pytest

from aiodockerapi.bodies import build_context as context_module
from aiodockerapi.bodies.build_context import open_context

MiB = 1024 * 1024
HAS_PROC_FDS = os.path.isdir("/proc/self/fd")


# -- helpers -----------------------------------------------------------------------------


async def collect(source: object, **kwargs: object) -> list[bytes]:
    return [chunk async for chunk in open_context(source, **kwargs)]  # type: ignore[arg-type]


def untar(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def contents(data: bytes) -> dict[str, bytes]:
    """Regular-file members of a tar and their bytes."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                f = tar.extractfile(member)
                assert f is not None
                out[member.name] = f.read()
    return out


async def tar_dir(path: Path, **kwargs: object) -> dict[str, tarfile.TarInfo]:
    return untar(b"".join(await collect(path, **kwargs)))


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def make_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def open_fds_under(root: Path) -> list[str]:
    """Paths under ``root`` that this process currently has open."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root)):
            found.append(target)
    return found


async def wait_for_no_fds(root: Path, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while open_fds_under(root):
        assert time.monotonic() < deadline, f"files left open: {open_fds_under(root)}"
        await asyncio.sleep(0.01)


@pytest.fixture
def big_context(tmp_path: Path) -> Path:
    """A directory with a 50 MiB sparse file whose last bytes are a marker."""
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM scratch\nCOPY big.bin /\n")
    with open(root / "big.bin", "wb") as f:
        f.truncate(50 * MiB)
        f.seek(50 * MiB - 6)
        f.write(b"MARKER")
    return root


# -- in-memory and stream sources --------------------------------------------------------


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
async def test_buffer_sources_are_chunked(kind: type) -> None:
    data = make_tar({"a.txt": b"hello", "b/c.txt": b"x" * 3000})
    chunks = await collect(kind(data), chunk_size=1000)
    assert all(type(c) is bytes for c in chunks)
    assert [len(c) for c in chunks[:-1]] == [1000] * (len(chunks) - 1)
    assert b"".join(chunks) == data
    assert contents(b"".join(chunks)) == {"a.txt": b"hello", "b/c.txt": b"x" * 3000}


async def test_small_bytes_yielded_as_is() -> None:
    data = make_tar({"a": b"1"})
    [chunk] = await collect(data, chunk_size=len(data))
    assert chunk is data
    assert await collect(b"") == []


async def test_memoryview_of_wider_items_is_flattened() -> None:
    words = array("H", range(1000))
    assert b"".join(await collect(memoryview(words), chunk_size=300)) == words.tobytes()


async def test_non_contiguous_memoryview_rejected() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        open_context(memoryview(b"abcdef")[::2])


async def test_bytearray_resizable_after_close() -> None:
    data = bytearray(make_tar({"a": b"1" * 5000}))
    async with aclosing(open_context(data, chunk_size=512)) as gen:
        async for _ in gen:
            break
    data.extend(b"more")  # would raise BufferError if a view were still exported


async def test_binary_file_object(tmp_path: Path) -> None:
    data = make_tar({"f.txt": b"file object"})
    assert b"".join(await collect(io.BytesIO(data), chunk_size=100)) == data
    path = tmp_path / "ctx.tar"
    path.write_bytes(data)
    with open(path, "rb") as f:  # noqa: ASYNC230
        chunks = await collect(f, chunk_size=512)
        assert not f.closed  # the caller's object stays the caller's
    assert contents(b"".join(chunks)) == {"f.txt": b"file object"}


def test_text_file_object_rejected(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("x")
    with open(path) as f, pytest.raises(TypeError, match="text mode"):
        open_context(f)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text mode"):
        open_context(io.StringIO("x"))  # type: ignore[arg-type]


async def test_file_object_returning_str_rejected() -> None:
    class Reader:
        def read(self, n: int) -> str:
            return "oops"

    with pytest.raises(TypeError, match="returned str"):
        await collect(Reader())


async def test_async_iterable_passthrough() -> None:
    data = make_tar({"x": b"async"})

    async def gen() -> AsyncIterator[bytes | bytearray]:
        yield data[:100]
        yield b""
        yield bytearray(data[100:])

    chunks = await collect(gen())
    assert chunks == [data[:100], data[100:]]
    assert all(type(c) is bytes for c in chunks)


async def test_async_iterable_with_bad_items() -> None:
    async def gen() -> AsyncIterator[object]:
        yield "text"

    with pytest.raises(TypeError, match="'str'"):
        await collect(gen())


@pytest.mark.parametrize("bad", [42, 1.5, ["a"], None, {"a": 1}])
def test_unsupported_type(bad: object) -> None:
    with pytest.raises(TypeError, match=f"unsupported build context type '{type(bad).__name__}'"):
        open_context(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, -1, 1.5, True])
def test_bad_chunk_size(size: object) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        open_context(b"", chunk_size=size)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["/abs/Dockerfile", "../Dockerfile", "a/../../Dockerfile", "."])
def test_dockerfile_outside_context(name: str) -> None:
    with pytest.raises(ValueError, match="inside the build context"):
        open_context(b"", dockerfile=name)


# -- path sources ------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
async def test_tar_file_streamed_verbatim(tmp_path: Path, compress: object) -> None:
    raw = make_tar({"Dockerfile": b"FROM scratch\n", "data": os.urandom(5000)})
    data = compress(raw) if callable(compress) else raw
    path = tmp_path / "ctx.tar"
    path.write_bytes(data)
    chunks = await collect(str(path), chunk_size=1024)
    assert max(len(c) for c in chunks) <= 1024
    assert b"".join(chunks) == data
    assert b"".join(await collect(path)) == data  # os.PathLike
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        assert tar.getnames() == ["Dockerfile", "data"]


async def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope") as info:
        await collect(str(missing))
    assert info.value.filename == str(missing)
    with pytest.raises(FileNotFoundError, match="nope"):
        await collect(missing)


async def test_string_is_never_data() -> None:
    with pytest.raises(FileNotFoundError, match="FROM scratch"):
        await collect("FROM scratch\n")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
async def test_special_file_rejected(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="fifo"):
        await collect(fifo)


# -- directory sources -------------------------------------------------------------------


async def test_directory_members(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM scratch\n", "b/z.txt": "z", "b/a.txt": "a", "c": ""})
    (tmp_path / "empty").mkdir()
    os.chmod(tmp_path / "c", 0o751)
    os.utime(tmp_path / "b" / "z.txt", (1_600_000_000.7, 1_600_000_000.7))
    data = b"".join(await collect(tmp_path, chunk_size=777))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["Dockerfile", "b", "b/a.txt", "b/z.txt", "c", "empty"]
    by_name = {m.name: m for m in members}
    assert by_name["b"].isdir() and by_name["empty"].isdir()
    assert by_name["c"].isfile() and by_name["c"].mode == 0o751 and by_name["c"].size == 0
    assert by_name["b/z.txt"].mtime == 1_600_000_000
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in members)
    assert contents(data) == {
        "Dockerfile": b"FROM scratch\n",
        "b/a.txt": b"a",
        "b/z.txt": b"z",
        "c": b"",
    }
    # Raw header: directories carry a trailing slash, like the docker CLI's tars.
    assert b"b/\x00" in data
    assert data.endswith(bytes(1024))


async def test_directory_output_is_deterministic(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "x", "d/e/f": "1", "a b": "2"})
    first = b"".join(await collect(tmp_path, chunk_size=1000))
    assert b"".join(await collect(str(tmp_path), chunk_size=4096)) == first


async def test_directory_chunks_are_exact(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"f{i:03}": "x" * i for i in range(200)})
    chunks = await collect(tmp_path, chunk_size=4096)
    assert all(len(c) == 4096 for c in chunks[:-1])
    assert len(contents(b"".join(chunks))) == 200


async def test_symlinks_stored_not_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "x", "real/file.txt": "data"})
    os.symlink("real/file.txt", tmp_path / "flink")
    os.symlink("real", tmp_path / "dlink")
    os.symlink("/nonexistent/target", tmp_path / "dangling")
    members = await tar_dir(tmp_path)
    assert members["flink"].issym() and members["flink"].linkname == "real/file.txt"
    assert members["dlink"].issym() and members["dlink"].linkname == "real"
    assert members["dangling"].issym() and members["dangling"].linkname == "/nonexistent/target"
    assert not any(name.startswith("dlink/") for name in members)


async def test_long_and_unicode_names(tmp_path: Path) -> None:
    long_dir = "d" * 120
    make_tree(tmp_path, {f"{long_dir}/{'f' * 150}.txt": "long", "héllo wörld.txt": "uni"})
    os.symlink("t" * 200, tmp_path / "longlink")
    data = b"".join(await collect(tmp_path))
    files = contents(data)
    assert files[f"{long_dir}/{'f' * 150}.txt"] == b"long"
    assert files["héllo wörld.txt"] == b"uni"
    assert untar(data)["longlink"].linkname == "t" * 200


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
async def test_special_files_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "x"})
    os.mkfifo(tmp_path / "pipe")
    assert set(await tar_dir(tmp_path)) == {"Dockerfile"}


@pytest.mark.parametrize("change", ["shrink", "grow"])
async def test_file_changing_size_during_stream(tmp_path: Path, change: str) -> None:
    original = os.urandom(100_000)
    (tmp_path / "data.bin").write_bytes(original)
    (tmp_path / "z.txt").write_text("after")
    chunks = []
    async with aclosing(open_context(tmp_path, chunk_size=4096)) as gen:
        async for chunk in gen:
            chunks.append(chunk)
            if len(chunks) == 1:  # the header (with the old size) is already out
                if change == "shrink":
                    os.truncate(tmp_path / "data.bin", 1000)
                else:
                    with open(tmp_path / "data.bin", "ab") as f:  # noqa: ASYNC230
                        f.write(b"!" * 50_000)
    files = contents(b"".join(chunks))
    assert len(files["data.bin"]) == len(original)
    if change == "shrink":
        assert files["data.bin"][:4096] == original[:4096]
        assert files["data.bin"].endswith(bytes(1000))
    else:
        assert files["data.bin"] == original
    assert files["z.txt"] == b"after"


@pytest.mark.parametrize("source", ["dir", "tarfile"])
async def test_bounded_memory_for_big_file(tmp_path: Path, big_context: Path, source: str) -> None:
    out = tmp_path / "out.tar"
    if source == "tarfile":
        with tarfile.open(tmp_path / "big.tar", "w") as tar:
            tar.add(big_context / "big.bin", "big.bin")
    src = big_context if source == "dir" else tmp_path / "big.tar"
    tracemalloc.start()
    try:
        # Warm up first: anyio's lazily imported backend alone traces over 1 MiB.
        async for _ in open_context(big_context / "Dockerfile"):
            pass
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = 0
        with open(out, "wb") as sink:  # noqa: ASYNC230
            async for chunk in open_context(src):
                total += len(chunk)
                sink.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 50 * MiB
    # 64 KiB chunks: the producer holds a few, the consumer one; 1 MiB is a generous bound.
    assert peak - baseline < 1 * MiB, f"peak traced memory grew by {peak - baseline} bytes"
    with tarfile.open(out) as tar:
        member = tar.getmember("big.bin")
        assert member.size == 50 * MiB
        f = tar.extractfile(member)
        assert f is not None
        f.seek(50 * MiB - 6)
        assert f.read() == b"MARKER"


async def test_loop_stays_responsive(big_context: Path) -> None:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    async for _ in open_context(big_context):
        pass
    done.set()
    await task
    assert gaps and max(gaps) < 0.5


# -- early exit: files and threads are released ------------------------------------------


@pytest.mark.skipif(not HAS_PROC_FDS, reason="needs /proc/self/fd")
@pytest.mark.parametrize("source", ["dir", "tarfile", "fileobj"])
async def test_early_break_releases_files(tmp_path: Path, big_context: Path, source: str) -> None:
    tar_path = tmp_path / "ctx.tar"
    tar_path.write_bytes(make_tar({"x": os.urandom(300_000)}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fileobj = open(tar_path, "rb")  # noqa: ASYNC230
        src: object = {"dir": big_context, "tarfile": tar_path, "fileobj": fileobj}[source]
        async with aclosing(open_context(src, chunk_size=1024)) as gen:  # type: ignore[arg-type]
            async for _ in gen:
                break
        fileobj.close()
        await wait_for_no_fds(tmp_path)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.skipif(not HAS_PROC_FDS, reason="needs /proc/self/fd")
async def test_abandoned_generator_is_finalized(big_context: Path) -> None:
    gen = open_context(big_context)
    async for _ in gen:
        break
    assert open_fds_under(big_context)  # the big file is mid-read
    del gen
    gc.collect()
    await wait_for_no_fds(big_context)


@pytest.mark.skipif(not HAS_PROC_FDS, reason="needs /proc/self/fd")
async def test_native_cancellation_releases_files(big_context: Path) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in open_context(big_context, chunk_size=256 * 1024):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()  # most likely lands while a worker thread is reading
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for_no_fds(big_context)


class GatedReader:
    """A binary reader whose read() blocks until released, to cancel mid-read."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def read(self, n: int) -> bytes:
        self.calls += 1
        self.entered.set()
        self.release.wait(5)
        return b"x" * n


async def test_cancel_during_read_stops_producer() -> None:
    reader = GatedReader()

    async def consume() -> None:
        async for _ in open_context(reader):  # type: ignore[arg-type]
            pass

    task = asyncio.create_task(consume())
    await anyio.to_thread.run_sync(reader.entered.wait)
    task.cancel()  # asyncio doesn't wait for the worker thread
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.release.set()
    await asyncio.sleep(0.1)
    assert reader.calls == 1


async def test_generator_closed_after_in_flight_step() -> None:
    entered, release = threading.Event(), threading.Event()
    closed_in: list[str] = []

    def chunks() -> Iterator[bytes]:
        try:
            while True:
                entered.set()
                release.wait(5)
                yield b"chunk"
        finally:
            closed_in.append(threading.current_thread().name)

    gen = context_module._iter_blocking(chunks())
    task = asyncio.create_task(gen.__anext__())
    await anyio.to_thread.run_sync(entered.wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed_in == []  # still running in its worker: closing it is left to that worker
    release.set()
    deadline = time.monotonic() + 5
    while not closed_in:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert closed_in != [threading.current_thread().name]


@pytest.mark.skipif(not HAS_PROC_FDS, reason="needs /proc/self/fd")
async def test_anyio_cancel_scope_releases_files(big_context: Path) -> None:
    chunks = 0
    with anyio.move_on_after(0.05) as scope:
        async for _ in open_context(big_context, chunk_size=4096):
            chunks += 1
    assert scope.cancelled_caught and chunks > 0
    await wait_for_no_fds(big_context)


def test_no_threads_left_behind(big_context: Path) -> None:
    async def scenario() -> None:
        async with aclosing(open_context(big_context)) as gen:
            n = 0
            async for _ in gen:
                n += 1
                if n == 3:
                    break
        task = asyncio.create_task(collect(big_context))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:
            errors.append(exc)

    baseline = threading.active_count()
    # A loop of its own in a thread of its own, so its worker threads are easy to account for.
    runner = threading.Thread(target=run)
    runner.start()
    runner.join()
    assert not errors, errors
    deadline = time.monotonic() + 5
    while threading.active_count() > baseline:
        assert time.monotonic() < deadline, f"threads left: {threading.enumerate()}"
        time.sleep(0.01)
    if HAS_PROC_FDS:
        assert not open_fds_under(big_context)


# -- .dockerignore in directory contexts -------------------------------------------------

TREE = {
    "Dockerfile": "FROM scratch\n",
    "app.py": "print()\n",
    "debug.log": "log",
    "a.tmp": "t",
    "src/main.py": "main",
    "src/trace.log": "log",
    "src/deep/x.tmp": "t",
    "src/deep/y.txt": "y",
    "build/out.bin": "bin",
    "build/keep.txt": "keep",
    "build/sub/z.o": "o",
    "docs/build/readme": "r",
}


def file_names(members: dict[str, tarfile.TarInfo]) -> set[str]:
    return {name for name, member in members.items() if member.isfile()}


@pytest.mark.parametrize(
    ("ignore", "expected_missing"),
    [
        ("*.log", {"debug.log"}),
        ("**/*.log", {"debug.log", "src/trace.log"}),
        ("**/*.tmp", {"a.tmp", "src/deep/x.tmp"}),
        ("build/", {"build/out.bin", "build/keep.txt", "build/sub/z.o"}),
        ("build/\n!build/keep.txt", {"build/out.bin", "build/sub/z.o"}),
        ("# build\n\n   \n*.log", {"debug.log"}),
        ("/build", {"build/out.bin", "build/keep.txt", "build/sub/z.o"}),
        ("./src/deep", {"src/deep/x.tmp", "src/deep/y.txt"}),
        ("**/build", {"build/out.bin", "build/keep.txt", "build/sub/z.o", "docs/build/readme"}),
        ("src/*/y.txt", {"src/deep/y.txt"}),
        ("src/**", {"src/main.py", "src/trace.log", "src/deep/x.tmp", "src/deep/y.txt"}),
        ("*\n!src", set(TREE) - {"Dockerfile"} - {n for n in TREE if n.startswith("src/")}),
        ("**/*.tmp\n!src/deep/x.tmp", {"a.tmp"}),
        ("!build/keep.txt\nbuild", {"build/out.bin", "build/keep.txt", "build/sub/z.o"}),
        ("build\n!build/sub", {"build/out.bin", "build/keep.txt"}),
        ("build\n!**/keep.txt", {"build/out.bin", "build/sub/z.o"}),
        ("[ab]*.*", {"app.py", "a.tmp"}),
        ("?pp.py\nsrc/[^m]*", {"app.py", "src/trace.log", "src/deep/x.tmp", "src/deep/y.txt"}),
    ],
)
async def test_dockerignore_patterns(
    tmp_path: Path, ignore: str, expected_missing: set[str]
) -> None:
    make_tree(tmp_path, TREE)
    (tmp_path / ".dockerignore").write_text(ignore + "\n")
    members = await tar_dir(tmp_path)
    assert ".dockerignore" in members and "Dockerfile" in members
    assert file_names(members) == set(TREE) - expected_missing | {".dockerignore"}


async def test_excluded_directory_entry_omitted(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    (tmp_path / ".dockerignore").write_text("build\n!build/keep.txt\n")
    members = await tar_dir(tmp_path)
    assert "build/keep.txt" in members
    assert "build" not in members and "build/sub" not in members
    assert members["src"].isdir()


async def test_dockerfile_and_dockerignore_always_sent(tmp_path: Path) -> None:
    make_tree(tmp_path, TREE)
    (tmp_path / ".dockerignore").write_text("*\n.dockerignore\nDockerfile\n")
    members = await tar_dir(tmp_path)
    assert set(members) == {".dockerignore", "Dockerfile"}


async def test_custom_dockerfile_kept(tmp_path: Path) -> None:
    make_tree(tmp_path, {**TREE, "docker/app.Dockerfile": "FROM scratch\n", "docker/other": "o"})
    (tmp_path / ".dockerignore").write_text("docker\n*.py\nDockerfile\n")
    members = await tar_dir(tmp_path, dockerfile="./docker/app.Dockerfile")
    assert "docker/app.Dockerfile" in members
    assert "docker/other" not in members and "docker" not in members
    assert "Dockerfile" not in members  # only the chosen Dockerfile is protected
    assert "app.py" not in members


async def test_excluded_directory_not_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, {**TREE, "node_modules/a/b.js": "x"})
    (tmp_path / ".dockerignore").write_text("node_modules\nbuild\n!build/keep.txt\n")
    listed: list[str] = []
    real = context_module._sorted_listdir

    def spy(path: str) -> list[str]:
        listed.append(os.path.relpath(path, tmp_path))
        return real(path)

    monkeypatch.setattr(context_module, "_sorted_listdir", spy)
    members = await tar_dir(tmp_path)
    assert "build/keep.txt" in members
    assert "build" in listed  # an exception reaches inside: walked and filtered
    assert not any(p.startswith("node_modules") for p in listed)
    assert "build/sub" not in listed


async def test_invalid_dockerignore_pattern(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "x", ".dockerignore": "ok\n[abc\n"})
    with pytest.raises(ValueError, match=r"\.dockerignore.*'\[abc'"):
        await collect(tmp_path)
