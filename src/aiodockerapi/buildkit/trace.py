"""BuildKit's trace messages (`{"id": "moby.buildkit.trace", "aux": "<base64>"}`), decoded.

Each carries one protobuf StatusResponse of BuildKit's control API: vertexes (build steps),
statuses (progress of a task inside a step), logs (a step's output) and warnings. The
protobuf runtime is the optional `buildkit` extra (`pip install 'aiodockerapi[buildkit]'`);
without it this module still imports, `trace_bytes` still hands out the raw message, and
`decode_trace` raises ProtobufUnavailable.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import DockerStreamError

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

    from .v1 import status_pb2

__all__ = [
    "IMAGE_ID",
    "TRACE_ID",
    "BuildTrace",
    "ProgressGroup",
    "ProtobufUnavailable",
    "Vertex",
    "VertexLog",
    "VertexStatus",
    "VertexWarning",
    "decode_trace",
    "protobuf_available",
    "trace_bytes",
    "trace_of",
]

TRACE_ID = "moby.buildkit.trace"
"""The `id` of a build message whose `aux` is a base64 StatusResponse."""
IMAGE_ID = "moby.image.id"
"""The `id` of the build message whose `aux` is `{"ID": "sha256:..."}`, the built image."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ProtobufUnavailable(ImportError):
    """decode_trace needs the protobuf runtime (`pip install 'aiodockerapi[buildkit]'`)."""


class ProgressGroup(msgspec.Struct, kw_only=True, gc=False):
    """Vertexes a UI may show as one (the stages of a multi-platform build, say)."""

    id: str
    name: str = ""
    weak: bool = False


class Vertex(msgspec.Struct, kw_only=True, gc=False):
    """One step of the build graph as last reported. A step is reported again as it moves
    (first with only its name, then started, then completed or with an error); a later report
    of the same digest replaces the earlier ones."""

    digest: str
    name: str = ""
    inputs: list[str] = msgspec.field(default_factory=list)
    """The digests of the vertexes this one depends on."""
    cached: bool = False
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""
    progress_group: ProgressGroup | None = None
    """The group the vertex is shown in, if any (BuildKit 0.10 and later)."""


class VertexStatus(msgspec.Struct, kw_only=True, gc=False):
    """Progress of one task inside a vertex: a layer being exported, a file being sent.
    `total` is 0 when unknown."""

    id: str
    vertex: str
    name: str = ""
    current: int = 0
    total: int = 0
    timestamp: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None


class VertexLog(msgspec.Struct, kw_only=True, gc=False):
    """A piece of a vertex's process output, as it was written (not cut at line ends).
    `stream` is 1 for stdout, 2 for stderr."""

    vertex: str
    stream: int
    data: bytes
    timestamp: datetime | None = None


class VertexWarning(msgspec.Struct, kw_only=True, gc=False):
    """A warning about a vertex (BuildKit 0.11 and later: deprecated syntax and the like)."""

    vertex: str
    level: int = 0
    short: bytes = b""
    detail: list[bytes] = msgspec.field(default_factory=list)
    url: str = ""


class BuildTrace(msgspec.Struct, kw_only=True, gc=False):
    """One trace message: the vertexes, statuses, logs and warnings it reports."""

    vertexes: list[Vertex] = msgspec.field(default_factory=list)
    statuses: list[VertexStatus] = msgspec.field(default_factory=list)
    logs: list[VertexLog] = msgspec.field(default_factory=list)
    warnings: list[VertexWarning] = msgspec.field(default_factory=list)


_pb: ModuleType | None = None
_pb_error: str | None = None


def _status_pb2() -> ModuleType:
    """The generated message classes, imported on first use."""
    global _pb, _pb_error
    if _pb is not None:
        return _pb
    if _pb_error is None:
        try:
            from .v1 import status_pb2 as module
        except ImportError as exc:
            _pb_error = f"protobuf is not installed ({exc})"
        except Exception as exc:  # google.protobuf.runtime_version.VersionError
            _pb_error = f"the installed protobuf cannot load the generated code: {exc}"
        else:
            _pb = module
            return module
    raise ProtobufUnavailable(
        f"decoding BuildKit traces needs protobuf: {_pb_error}; "
        "install it with `pip install 'aiodockerapi[buildkit]'`"
    )


def protobuf_available() -> bool:
    """Whether decode_trace can work: the protobuf runtime is installed and new enough."""
    try:
        _status_pb2()
    except ProtobufUnavailable:
        return False
    return True


def trace_bytes(aux: str | bytes) -> bytes:
    """The raw StatusResponse of a trace message's `aux` (base64); no protobuf needed."""
    try:
        return b64decode(aux, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DockerStreamError(f"malformed BuildKit trace message: bad base64 ({exc})") from None


def decode_trace(aux: str | bytes) -> BuildTrace:
    """A trace message's `aux` (the base64 of a protobuf StatusResponse) as a BuildTrace.

    Fields this client does not know are skipped. Bad base64 or protobuf raises
    DockerStreamError; a missing protobuf runtime raises ProtobufUnavailable (an ImportError).
    """
    pb = _status_pb2()
    raw = trace_bytes(aux)
    try:
        msg: status_pb2.StatusResponse = pb.StatusResponse.FromString(raw)
    except Exception as exc:  # google.protobuf.message.DecodeError, whatever the backend
        raise DockerStreamError(
            f"malformed BuildKit trace message: not a StatusResponse ({exc})"
        ) from None
    try:
        return _convert(msg)
    except (OverflowError, ValueError, OSError) as exc:
        raise DockerStreamError(
            f"malformed BuildKit trace message: a timestamp out of range ({exc})"
        ) from None


def trace_of(message: Any) -> BuildTrace | None:
    """The decoded trace of a build message (a BuildInfo or its JSON as a mapping), or None
    when it is not a trace. Needs protobuf, like decode_trace."""
    if isinstance(message, Mapping):
        ident, aux = message.get("id"), message.get("aux")
    else:
        ident, aux = getattr(message, "id", None), getattr(message, "aux", None)
    if ident != TRACE_ID or not isinstance(aux, str | bytes):
        return None
    return decode_trace(aux)


def _time(msg: Any, field: str) -> datetime | None:
    if not msg.HasField(field):
        return None
    ts: Timestamp = getattr(msg, field)
    return _EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _group(v: status_pb2.Vertex) -> ProgressGroup | None:
    if not v.HasField("progress_group"):
        return None
    g = v.progress_group
    return ProgressGroup(id=g.id, name=g.name, weak=g.weak)


def _convert(msg: status_pb2.StatusResponse) -> BuildTrace:
    return BuildTrace(
        vertexes=[
            Vertex(
                digest=v.digest,
                name=v.name,
                inputs=list(v.inputs),
                cached=v.cached,
                started=_time(v, "started"),
                completed=_time(v, "completed"),
                error=v.error,
                progress_group=_group(v),
            )
            for v in msg.vertexes
        ],
        statuses=[
            VertexStatus(
                id=s.id,
                vertex=s.vertex,
                name=s.name,
                current=s.current,
                total=s.total,
                timestamp=_time(s, "timestamp"),
                started=_time(s, "started"),
                completed=_time(s, "completed"),
            )
            for s in msg.statuses
        ],
        logs=[
            VertexLog(
                vertex=log.vertex,
                stream=log.stream,
                data=log.msg,
                timestamp=_time(log, "timestamp"),
            )
            for log in msg.logs
        ],
        warnings=[
            VertexWarning(
                vertex=w.vertex,
                level=w.level,
                short=w.short,
                detail=list(w.detail),
                url=w.url,
            )
            for w in msg.warnings
        ],
    )
