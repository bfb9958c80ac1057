"""BuildKit builds through the Engine API (`docker.images.build(..., version="2")`), without a
session: decode the build's trace messages, fold them into per-step state for a progress UI,
and run a build to its image id or to an error that names the failed step.

    from aiodockerapi import buildkit

    result = await buildkit.run_build(
        docker.images.build(context, version="2", networkmode="none")
    )
    print(result.image_id)
    for step in result.state.steps:
        print(step.state, step.duration, step.name)

Decoding needs the protobuf runtime: `pip install 'aiodockerapi[buildkit]'`. Without it this
package imports, `trace_bytes` returns a trace's raw protobuf, and `run_build` returns the
image id (an error then carries only the daemon's message). See docs/buildkit.md.
"""

from .run import BuildFailed, BuildResult, run_build
from .state import BuildState, Step, StepState
from .trace import (
    IMAGE_ID,
    TRACE_ID,
    BuildTrace,
    ProgressGroup,
    ProtobufUnavailable,
    Vertex,
    VertexLog,
    VertexStatus,
    VertexWarning,
    decode_trace,
    protobuf_available,
    trace_bytes,
    trace_of,
)

__all__ = [
    "IMAGE_ID",
    "TRACE_ID",
    "BuildFailed",
    "BuildResult",
    "BuildState",
    "BuildTrace",
    "ProgressGroup",
    "ProtobufUnavailable",
    "Step",
    "StepState",
    "Vertex",
    "VertexLog",
    "VertexStatus",
    "VertexWarning",
    "decode_trace",
    "protobuf_available",
    "run_build",
    "trace_bytes",
    "trace_of",
]
