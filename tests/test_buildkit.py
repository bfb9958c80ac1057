"""aiodockerapi.buildkit: BuildKit trace decoding, the step fold, run_build, real builds.

The recordings in tests/data/buildkit/ are raw POST /build?version=2 bodies from dockerd 20.10
and 28.5 (made by tests/data/buildkit/record.py, which also holds their Dockerfiles).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiodockerapi import Docker, buildkit
from aiodockerapi.buildkit import (
    BuildFailed,
    BuildState,
    BuildTrace,
    Vertex,
    VertexLog,
    VertexStatus,
    VertexWarning,
    decode_trace,
    run_build,
)
from aiodockerapi.buildkit import trace as trace_module
from aiodockerapi.buildkit.v1 import status_pb2 as pb
from aiodockerapi.errors import DockerStreamError, StreamCut
from aiodockerapi.models import BuildInfo, ImageID

from .conftest import BUSYBOX
from .jsonvalues import check_in_band, json_values
from .sandbox import ENGINE

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "buildkit"
RECORDINGS = sorted(DATA.glob("*.jsonl"))
FLAVOURS = sorted({p.name.split("-")[0] for p in RECORDINGS})
FAILED_STEP = "[stage-1 2/3] RUN sh -c 'echo boom >&2; exit 3'"


def recording(flavour: str, name: str) -> bytes:
    return (DATA / f"{flavour}-{name}.jsonl").read_bytes()


def messages_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line.strip()]


async def aiter_of(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


# --- the generated code ----------------------------------------------------------------------


def test_generated_code_is_current() -> None:
    """tools/genproto.py --check: the committed *_pb2 files are what protoc makes of proto/."""
    pytest.importorskip("grpc_tools", reason="grpcio-tools (the dev extra) regenerates the code")
    done = subprocess.run(
        [sys.executable, "tools/genproto.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_imports_and_runs_without_protobuf() -> None:
    """With google.protobuf unimportable the package imports, run_build still returns the
    image id, a failure still raises with the daemon's message, and decode_trace says what to
    install."""
    script = f"""
import asyncio, json, sys
sys.modules["google.protobuf"] = None
sys.modules["google"] = None
from aiodockerapi import buildkit
assert not buildkit.protobuf_available()
ok = [json.loads(l) for l in open({str(DATA / "28.5-ok.jsonl")!r}, "rb")]
fail = [json.loads(l) for l in open({str(DATA / "28.5-fail.jsonl")!r}, "rb")]
async def it(items):
    for i in items:
        yield i
async def main():
    result = await buildkit.run_build(it(ok))
    assert result.image_id and result.image_id.startswith("sha256:"), result
    assert result.state.steps == []
    raw = buildkit.trace_bytes(ok[0]["aux"])
    assert isinstance(raw, bytes) and raw
    try:
        await buildkit.run_build(it(fail))
    except buildkit.BuildFailed as exc:
        assert "exit code: 3" in str(exc) and exc.step is None, exc
    else:
        raise AssertionError("no error")
    try:
        buildkit.decode_trace(ok[0]["aux"])
    except buildkit.ProtobufUnavailable as exc:
        assert "aiodockerapi[buildkit]" in str(exc), exc
    else:
        raise AssertionError("decoded without protobuf")
asyncio.run(main())
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --- decoding real traces --------------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_decode_recorded_build(flavour: str) -> None:
    traces = [
        decode_trace(m["aux"])
        for m in messages_of(recording(flavour, "ok"))
        if m.get("id") == buildkit.TRACE_ID
    ]
    assert traces and all(isinstance(t, BuildTrace) for t in traces)
    vertexes = [v for t in traces for v in t.vertexes]
    names = {v.name for v in vertexes}
    assert "[one 1/1] RUN echo hello-from-one && echo one > /one" in names
    assert "exporting to image" in names
    assert all(v.digest.startswith("sha256:") for v in vertexes)
    copy = next(v for v in vertexes if v.name == "[stage-3 2/2] COPY --from=two /bin/busybox /two")
    assert len(copy.inputs) == 2
    done = [v for v in vertexes if v.completed is not None]
    assert done and all(
        v.started is not None and v.started <= v.completed and v.completed.tzinfo is timezone.utc
        for v in done
    )
    logs = [log for t in traces for log in t.logs]
    assert {(log.stream, log.data) for log in logs} >= {
        (1, b"hello-from-one\n"),
        (1, b"hey\n"),  # the build arg
        (2, b"to-stderr\n"),
    }
    assert all(log.timestamp is not None for log in logs)
    statuses = [s for t in traces for s in t.statuses]
    assert any(s.id.startswith("writing image sha256:") for s in statuses)
    assert all(s.timestamp is not None for s in statuses)


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_run_build_on_recorded_success(flavour: str) -> None:
    messages = messages_of(recording(flavour, "ok"))
    want = next(m["aux"]["ID"] for m in messages if m.get("id") == buildkit.IMAGE_ID)
    updates: list[int] = []
    result = await run_build(aiter_of(messages), on_update=lambda s: updates.append(s.traces))
    assert result.image_id == want
    assert updates == list(range(1, len(updates) + 1)) and updates[-1] == result.state.traces
    steps = {s.name: s for s in result.state.steps}
    assert all(s.state == "done" for s in steps.values()), result.state
    # Two independent stages both ran, each with its own output.
    one = steps["[one 1/1] RUN echo hello-from-one && echo one > /one"]
    two = next(s for n, s in steps.items() if n.startswith("[two 1/1] RUN --mount=type=cache"))
    assert one.log_tail() == ["hello-from-one"]
    assert sorted(two.log_tail()) == ["hey", "to-stderr"]
    assert one.duration is not None and one.duration >= timedelta(0)
    assert result.state.failed is None


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_run_build_on_recorded_failure(flavour: str) -> None:
    messages = messages_of(recording(flavour, "fail"))
    with pytest.raises(BuildFailed) as caught:
        await run_build(aiter_of(messages))
    exc = caught.value
    assert isinstance(exc, DockerStreamError)
    assert str(exc).startswith(FAILED_STEP + ": ")
    assert "exit code: 3" in str(exc) and "| boom" in str(exc)
    assert exc.step is not None and exc.step.name == FAILED_STEP and exc.step.state == "error"
    assert exc.log == ["boom"]
    assert "exit code: 3" in exc.daemon_message
    assert exc.detail == messages[-1]["errorDetail"]


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_recorded_failure_fold(flavour: str) -> None:
    state = BuildState()
    for m in messages_of(recording(flavour, "fail")):
        if m.get("id") == buildkit.TRACE_ID:
            state.feed(decode_trace(m["aux"]))
    by_name = {s.name: s for s in state.steps}
    assert by_name["[stage-1 1/3] RUN echo before"].state == "done"
    assert by_name[FAILED_STEP].state == "error"
    assert by_name["[stage-1 3/3] RUN touch /never"].state == "queued"
    assert state.failed is by_name[FAILED_STEP]


# --- the stream, as the library decodes it ---------------------------------------------------


async def chunks_of(body: bytes, cuts: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for cut in sorted(set(cuts)):
        yield body[start:cut]
        start = cut
    yield body[start:]


def decoded(body: bytes, cuts: list[int]) -> AsyncIterator[BuildInfo]:
    """The body as images.build decodes it, with BuildInfo's aux typed as proposed."""
    values = json_values(chunks_of(body, cuts), msgspec.json.Decoder(BuildInfo))
    return check_in_band(values)


async def test_build_info_decodes_trace_messages() -> None:
    """images.build's own message type takes a trace's string aux."""
    body = recording(FLAVOURS[-1], "ok")
    values = json_values(chunks_of(body, []), msgspec.json.Decoder(BuildInfo))
    result = await run_build(check_in_band(values))
    assert result.image_id is not None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flavour=st.sampled_from(FLAVOURS),
    name=st.sampled_from(["ok", "fail"]),
    data=st.data(),
)
async def test_any_split_of_the_stream(flavour: str, name: str, data: st.DataObject) -> None:
    """However the HTTP body is cut into chunks, run_build sees the same build."""
    body = recording(flavour, name)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=40))
    if name == "ok":
        result = await run_build(decoded(body, cuts))
        want = await run_build(aiter_of(messages_of(body)))
        assert result.image_id == want.image_id is not None
        assert [(s.name, s.state, s.log_tail()) for s in result.state.steps] == [
            (s.name, s.state, s.log_tail()) for s in want.state.steps
        ]
    else:
        with pytest.raises(BuildFailed) as caught:
            await run_build(decoded(body, cuts))
        assert str(caught.value).startswith(FAILED_STEP) and "boom" in str(caught.value)


# --- protobuf robustness ---------------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def unknown_field(number: int, kind: int, payload: int | bytes) -> bytes:
    """One field in protobuf's wire format: varint (0), 64-bit (1), length-delimited (2) or
    32-bit (5)."""
    tag = varint(number << 3 | kind)
    if kind == 0:
        assert isinstance(payload, int)
        return tag + varint(payload)
    assert isinstance(payload, bytes)
    if kind == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


_unknown = st.lists(
    st.one_of(
        st.tuples(st.integers(9, 2000), st.just(0), st.integers(0, 2**64 - 1)),
        st.tuples(st.integers(9, 2000), st.just(1), st.binary(min_size=8, max_size=8)),
        st.tuples(st.integers(9, 2000), st.just(2), st.binary(max_size=20)),
        st.tuples(st.integers(9, 2000), st.just(5), st.binary(min_size=4, max_size=4)),
    ),
    max_size=4,
).map(lambda fields: b"".join(unknown_field(*f) for f in fields))

_text = st.text(max_size=20)
_stamp = st.tuples(st.integers(0, 4_000_000_000), st.integers(0, 999_999_999))


@st.composite
def status_responses(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A StatusResponse's bytes, and the same with unknown fields added at every level."""
    plain = bytearray()
    noisy = bytearray()

    def add(number: int, message: bytes) -> None:
        plain.extend(unknown_field(number, 2, message))
        noisy.extend(unknown_field(number, 2, message + draw(_unknown)))
        noisy.extend(draw(_unknown))

    for _ in range(draw(st.integers(0, 3))):
        v = pb.Vertex(digest=draw(_text), name=draw(_text), cached=draw(st.booleans()))
        v.inputs.extend(draw(st.lists(_text, max_size=2)))
        if draw(st.booleans()):
            v.started.seconds, v.started.nanos = draw(_stamp)
        v.error = draw(_text)
        add(1, v.SerializeToString())
    for _ in range(draw(st.integers(0, 3))):
        s = pb.VertexStatus(
            id=draw(_text),
            vertex=draw(_text),
            current=draw(st.integers(-(2**63), 2**63 - 1)),
            total=draw(st.integers(0, 2**63 - 1)),
        )
        s.timestamp.seconds, s.timestamp.nanos = draw(_stamp)
        add(2, s.SerializeToString())
    for _ in range(draw(st.integers(0, 3))):
        log = pb.VertexLog(
            vertex=draw(_text), stream=draw(st.integers(1, 2)), msg=draw(st.binary())
        )
        add(3, log.SerializeToString())
    for _ in range(draw(st.integers(0, 2))):
        w = pb.VertexWarning(vertex=draw(_text), level=draw(st.integers(0, 3)), short=b"s")
        w.detail.extend(draw(st.lists(st.binary(max_size=5), max_size=2)))
        # BuildKit's fields 6 (source info) and 7 (ranges), which the .proto leaves out.
        add(4, w.SerializeToString() + unknown_field(6, 2, b"\n\x03Dockerfile"))
    return bytes(plain), bytes(noisy)


@settings(max_examples=200, deadline=None)
@given(pair=status_responses())
def test_unknown_fields_are_ignored(pair: tuple[bytes, bytes]) -> None:
    plain, noisy = pair
    a = decode_trace(base64.b64encode(plain).decode())
    b = decode_trace(base64.b64encode(noisy))
    assert a == b


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_any_bytes_decode_or_raise_stream_error(raw: bytes) -> None:
    try:
        trace = decode_trace(base64.b64encode(raw).decode())
    except DockerStreamError as exc:
        assert "malformed BuildKit trace message" in str(exc)
    else:
        assert isinstance(trace, BuildTrace)


@settings(max_examples=300, deadline=None)
@given(aux=st.one_of(st.text(max_size=60), st.binary(max_size=60)))
def test_any_aux_decodes_or_raises_stream_error(aux: str | bytes) -> None:
    try:
        decode_trace(aux)
    except DockerStreamError as exc:
        assert "malformed BuildKit trace message" in str(exc)


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(-(2**63), 2**63 - 1), nanos=st.integers(-(2**31), 2**31 - 1))
def test_any_timestamp_decodes_or_raises_stream_error(seconds: int, nanos: int) -> None:
    v = pb.Vertex(digest="d")
    v.started.seconds, v.started.nanos = seconds, nanos
    aux = base64.b64encode(pb.StatusResponse(vertexes=[v]).SerializeToString())
    try:
        trace = decode_trace(aux)
    except DockerStreamError as exc:
        assert "timestamp out of range" in str(exc)
    else:
        assert trace.vertexes[0].started is not None


@pytest.mark.parametrize(
    ("aux", "says"),
    [
        ("not base64!", "bad base64"),
        ("QQ", "bad base64"),  # missing padding
        (base64.b64encode(b"\x0a\x05ab").decode(), "not a StatusResponse"),  # cut short
        (base64.b64encode(b"\xff\xff\xff").decode(), "not a StatusResponse"),
        (base64.b64encode(b"\x0a\x02\x0a\x80").decode(), "not a StatusResponse"),
        # a Vertex whose digest (a proto3 string) is not UTF-8
        (base64.b64encode(b"\x0a\x03\x0a\x01\xff").decode(), "not a StatusResponse"),
    ],
)
def test_malformed_trace(aux: str, says: str) -> None:
    with pytest.raises(DockerStreamError, match=says):
        decode_trace(aux)


def test_empty_trace_and_trace_of() -> None:
    assert decode_trace("") == BuildTrace()
    assert buildkit.trace_of({"id": buildkit.TRACE_ID, "aux": ""}) == BuildTrace()
    assert buildkit.trace_of(BuildInfo(id=buildkit.TRACE_ID, aux="")) == BuildTrace()
    assert buildkit.trace_of({"id": buildkit.IMAGE_ID, "aux": {"ID": "sha256:x"}}) is None
    assert buildkit.trace_of(BuildInfo(stream="Step 1/2\n")) is None


def test_protobuf_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trace_module, "_pb", None)
    monkeypatch.setattr(trace_module, "_pb_error", "protobuf is not installed (test)")
    assert not buildkit.protobuf_available()
    with pytest.raises(buildkit.ProtobufUnavailable, match=r"aiodockerapi\[buildkit\]"):
        decode_trace("")
    assert isinstance(buildkit.ProtobufUnavailable("x"), ImportError)
    with pytest.raises(DockerStreamError, match="bad base64"):
        buildkit.trace_bytes("&&")


# --- the fold --------------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def vtx(digest: str, name: str = "", **kw: Any) -> BuildTrace:
    return BuildTrace(vertexes=[Vertex(digest=digest, name=name, **kw)])


def out(digest: str, data: bytes, stream: int = 1) -> BuildTrace:
    return BuildTrace(logs=[VertexLog(vertex=digest, stream=stream, data=data)])


def test_fold_states_in_report_order() -> None:
    state = BuildState()
    state.feed(vtx("b", "[2/2] RUN make"))
    state.feed(vtx("a", "[1/2] COPY . ."))
    assert [(s.name, s.state) for s in state.steps] == [
        ("[2/2] RUN make", "queued"),
        ("[1/2] COPY . .", "queued"),
    ]
    state.feed(vtx("a", "[1/2] COPY . .", cached=True, started=at(0), completed=at(0)))
    state.feed(vtx("b", "[2/2] RUN make", started=at(1)))
    assert [s.state for s in state.steps] == ["running", "cached"]
    assert state.step("b") is not None and state.step("b").duration is None  # type: ignore[union-attr]
    state.feed(vtx("b", "[2/2] RUN make", started=at(1), completed=at(3.5)))
    b = state.steps[0]
    assert b.state == "done" and b.duration == timedelta(seconds=2.5)
    assert state.failed is None and state.traces == 5
    assert "2 steps" in repr(state)


def test_fold_errors_and_cancellation() -> None:
    state = BuildState()
    state.feed(vtx("x", "[one 1/1] RUN sleep 9", started=at(0)))
    state.feed(vtx("y", "[two 1/1] RUN false", started=at(0)))
    state.feed(
        vtx("x", "[one 1/1] RUN sleep 9", started=at(0), completed=at(1), error="context canceled")
    )
    state.feed(
        vtx("y", "[two 1/1] RUN false", started=at(0), completed=at(1), error="exit code: 1")
    )
    x, y = state.steps
    assert x.state == y.state == "error"
    assert x.canceled and not y.canceled
    assert state.failed is y
    only_canceled = BuildState()
    only_canceled.feed(vtx("x", "s", error="context canceled"))
    assert only_canceled.failed is only_canceled.steps[0]


def test_fold_logs_keep_the_last_lines() -> None:
    state = BuildState(log_lines=3)
    state.feed(vtx("a", "[1/1] RUN x", started=at(0)))
    state.feed(out("a", b"one\ntw"))
    state.feed(out("a", b"o\r\nthr", stream=1))
    state.feed(out("a", b"err\n", stream=2))
    a = state.steps[0]
    assert list(a.lines) == ["one", "two", "err"]
    assert a.log_tail() == ["one", "two", "err", "thr"]
    assert a.log_tail(2) == ["err", "thr"]
    assert a.log_tail(0) == []
    state.feed(out("a", b"ee\nfour\nfive\n\xff\n"))
    assert list(a.lines) == ["four", "five", "\ufffd"]
    zero = BuildState(log_lines=0)
    zero.feed(out("z", b"a\nb\n"))
    assert zero.steps[0].log_tail() == [] and zero.steps[0].name == ""
    with pytest.raises(ValueError):
        BuildState(log_lines=-1)


def test_fold_tasks_and_warnings() -> None:
    state = BuildState()
    state.feed(vtx("e", "exporting to image", started=at(0)))
    state.feed(
        BuildTrace(
            statuses=[
                VertexStatus(id="layers", vertex="e", name="exporting layers", current=1),
                VertexStatus(id="img", vertex="e", name="writing image", current=0),
            ],
            warnings=[VertexWarning(vertex="e", level=1, short=b"deprecated")],
        )
    )
    state.feed(BuildTrace(statuses=[VertexStatus(id="layers", vertex="e", current=5, total=5)]))
    e = state.steps[0]
    assert list(e.tasks) == ["layers", "img"]
    assert (e.tasks["layers"].current, e.tasks["layers"].total) == (5, 5)
    assert [w.short for w in e.warnings] == [b"deprecated"] and state.warnings == e.warnings


# --- run_build on other message shapes -------------------------------------------------------


async def test_run_build_classic_builder() -> None:
    messages = [
        BuildInfo(stream="Step 1/2 : FROM scratch\n"),
        BuildInfo(stream=" ---> Running in 0123\n"),
        BuildInfo(aux=ImageID(id="sha256:" + "a" * 64)),
        BuildInfo(stream="Successfully built aaaaaaaaaaaa\n"),
    ]
    result = await run_build(aiter_of(messages))
    assert result.image_id == "sha256:" + "a" * 64
    assert result.output.startswith("Step 1/2") and result.state.steps == []
    # An old daemon's only word of the image: its short id.
    plain = [
        {"stream": "Step 1/1 : FROM scratch\n"},
        {"stream": "Successfully built 0123456789ab\n"},
    ]
    assert (await run_build(aiter_of(plain))).image_id == "0123456789ab"
    assert (await run_build(aiter_of([]))).image_id is None


async def test_run_build_errors_without_a_step() -> None:
    # The daemon's error as a message (mapping), and as the stream's own DockerStreamError.
    with pytest.raises(BuildFailed, match=r"^dockerfile parse error") as caught:
        await run_build(aiter_of([{"errorDetail": {"message": "dockerfile parse error"}}]))
    assert caught.value.step is None and caught.value.log == []

    async def raising(exc: Exception) -> AsyncIterator[Any]:
        yield {"stream": "x"}
        raise exc

    detail = {"message": "no such file"}
    with pytest.raises(BuildFailed, match="no such file") as failed:
        await run_build(raising(DockerStreamError("no such file", detail)))
    assert failed.value.detail is detail
    # Not the build's error: passed on untouched.
    cut = StreamCut("the connection broke")
    with pytest.raises(StreamCut) as passed:
        await run_build(raising(cut))
    assert passed.value is cut
    malformed = DockerStreamError("malformed JSON in the stream")
    with pytest.raises(DockerStreamError) as same:
        await run_build(raising(malformed))
    assert same.value is malformed


async def test_run_build_malformed_trace() -> None:
    with pytest.raises(DockerStreamError, match="bad base64"):
        await run_build(aiter_of([{"id": buildkit.TRACE_ID, "aux": "%%"}]))


async def test_run_build_closes_the_stream() -> None:
    closed = asyncio.Event()

    async def stream() -> AsyncIterator[dict[str, Any]]:
        try:
            yield {"id": buildkit.TRACE_ID, "aux": "%%"}
            yield {"stream": "never read"}
        finally:
            closed.set()

    with pytest.raises(DockerStreamError):
        await run_build(stream())
    assert closed.is_set()


# --- real builds -----------------------------------------------------------------------------

daemon = pytest.mark.daemon
needs_buildkit = pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit")

MULTI_STAGE = """\
FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM base AS one
RUN echo from-one > /one && cat /one

FROM base AS two
ARG GREETING=unset
RUN echo "greeting=$GREETING" | tee /two

FROM base
COPY --from=one /one /one
COPY --from=two /two /two
"""


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(BUSYBOX, ctx / "busybox")
    return ctx


@pytest.fixture
async def tag(docker: Docker) -> AsyncIterator[str]:
    name = f"aiodockerapi-test/buildkit-{uuid.uuid4().hex[:10]}"
    yield name
    for image in await docker.images.list(filters={"reference": [name]}):
        await docker.images.delete(image.id, force=True)


def by_name(state: BuildState) -> dict[str, buildkit.Step]:
    return {s.name: s for s in state.steps}


@daemon
@needs_buildkit
async def test_real_multi_stage_build(docker: Docker, context_dir: Path, tag: str) -> None:
    (context_dir / "Dockerfile").write_text(MULTI_STAGE)
    label = uuid.uuid4().hex
    result = await run_build(
        docker.images.build(
            context_dir,
            version="2",
            networkmode="none",
            t=tag,
            buildargs={"GREETING": "hello-arg"},
            labels={"test.buildkit": label},
        )
    )
    assert result.image_id is not None and result.image_id.startswith("sha256:")
    steps = by_name(result.state)
    one = steps["[one 1/1] RUN echo from-one > /one && cat /one"]
    # The name shows the build arg's value (dockerd 20.10) or the variable (newer ones).
    two = next(s for name, s in steps.items() if name.startswith("[two 1/1] RUN echo"))
    # Two independent stages, both run (or found in the cache of an earlier run).
    assert one.state in ("done", "cached") and two.state in ("done", "cached")
    if two.state == "done":
        assert two.log_tail() == ["greeting=hello-arg"]
        assert two.started is not None and two.completed is not None
    assert "exporting to image" in steps and all(
        s.state in ("done", "cached") for s in result.state.steps
    )
    inspected = await docker.images.inspect(tag)
    assert inspected.id == result.image_id
    assert inspected.config is not None
    assert (inspected.config.labels or {}).get("test.buildkit") == label


@daemon
@needs_buildkit
async def test_real_target_stage(docker: Docker, context_dir: Path, tag: str) -> None:
    (context_dir / "Dockerfile").write_text(MULTI_STAGE)
    result = await run_build(
        docker.images.build(context_dir, version="2", networkmode="none", t=tag, target="one")
    )
    names = [s.name for s in result.state.steps]
    assert any(n.startswith("[one 1/1]") for n in names)
    assert not any(n.startswith("[two") or n.startswith("[stage-3") for n in names), names
    assert (await docker.images.inspect(tag)).id == result.image_id


@daemon
@needs_buildkit
async def test_real_cache_mount_is_reused(docker: Docker, context_dir: Path, tag: str) -> None:
    """The same RUN --mount=type=cache step twice: the second build finds it in the build
    cache; a changed step that mounts the same cache sees what the first one left there."""
    cache = uuid.uuid4().hex

    async def build(word: str) -> buildkit.Step:
        run = (
            f"RUN --mount=type=cache,id={cache},target=/cache "
            f"sh -c 'echo {word} >> /cache/runs; wc -l < /cache/runs'"
        )
        (context_dir / "Dockerfile").write_text(
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n' + run + "\n"
        )
        result = await run_build(
            docker.images.build(context_dir, version="2", networkmode="none", t=tag)
        )
        # "[stage-0 3/3] RUN ..." (dockerd 20.10) or "[3/3] RUN ..."
        (found,) = [s for name, s in by_name(result.state).items() if name.endswith(f"3/3] {run}")]
        return found

    first = await build("one")
    assert first.state == "done" and [line.strip() for line in first.log_tail()] == ["1"]
    again = await build("one")
    assert again.state == "cached" and again.log_tail() == []
    other = await build("two")
    assert other.state == "done" and [line.strip() for line in other.log_tail()] == ["2"]


@daemon
@needs_buildkit
async def test_real_failing_step(docker: Docker, context_dir: Path, tag: str) -> None:
    (context_dir / "Dockerfile").write_text(
        "FROM scratch AS base\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "FROM base AS stage-1\nRUN echo before\nRUN sh -c 'echo boom >&2; exit 3'\n"
        "RUN touch /never\n"
    )
    with pytest.raises(DockerStreamError) as caught:
        await run_build(docker.images.build(context_dir, version="2", networkmode="none", t=tag))
    exc = caught.value
    assert isinstance(exc, BuildFailed)
    assert str(exc).startswith(FAILED_STEP + ": ") and "exit code: 3" in str(exc)
    assert exc.log == ["boom"] and "boom" in str(exc)
    assert await docker.images.list(filters={"reference": [tag]}) == []


@daemon
@needs_buildkit
async def test_real_cancellation_stops_the_build(
    docker: Docker, context_dir: Path, tag: str
) -> None:
    """Leaving the stream once the sleeping step runs closes the connection; the daemon
    cancels the build: the step never completes, no image is tagged."""
    marker = uuid.uuid4().hex
    (context_dir / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        f"RUN echo {marker} && sleep 4 && touch /done\n"
    )
    state = BuildState()
    stream = docker.images.build(context_dir, version="2", networkmode="none", t=tag)
    running = False
    async for message in stream:
        trace = buildkit.trace_of(message)
        if trace is not None:
            state.feed(trace)
        steps = [s for s in state.steps if marker in s.name]
        if steps and steps[0].state == "running" and steps[0].log_tail():
            running = True
            break
    await stream.aclose()
    assert running, state
    await asyncio.sleep(6)  # past the sleep: a build still running would have tagged by now
    assert await docker.images.list(filters={"reference": [tag]}) == []


# --- the long recording the trace benchmark decodes ------------------------------------------


async def test_recorded_line_stream_for_the_benchmark() -> None:
    """tests/data/buildkit/20.10-lines.jsonl.gz (record.py --lines): a real build whose RUN
    step printed 52,000 lines, nearly one trace message each; small in the repository."""
    path = DATA / "20.10-lines.jsonl.gz"
    assert path.stat().st_size < 1_000_000
    messages = messages_of(gzip.decompress(path.read_bytes()))
    traces = [m for m in messages if m.get("id") == buildkit.TRACE_ID]
    assert len(traces) >= 50_000
    result = await run_build(aiter_of(messages))
    assert result.image_id is not None and result.image_id.startswith("sha256:")
    assert result.state.traces == len(traces)
    (run,) = [s for s in result.state.steps if "while [ $i -lt 52000 ]" in s.name]
    assert run.state == "done"
    assert run.log_tail(2) == ["line 51999", "line 52000"]
    logs = sum(len(t.logs) for t in map(buildkit.trace_of, traces) if t is not None)
    assert logs >= 50_000  # the lines came one (or a few) to a message, not in bulk


def test_trace_benchmark_quick() -> None:
    from benchmarks import buildkit_trace

    samples = buildkit_trace.measure(300, 1)
    assert samples["messages"] == [300.0]
    text, held = buildkit_trace.report(samples)
    assert held
    assert "300 trace messages" in text and "messages/s" in text
    assert "| floor: the JSON messages only |" in text
