"""Consume a build's message stream: the image it built, or an error that names the step."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DockerStreamError, StreamCut
from .state import BuildState, Step
from .trace import IMAGE_ID, TRACE_ID, decode_trace, protobuf_available

__all__ = ["BuildFailed", "BuildResult", "run_build"]

# The classic builder's last line (the short id) when it sent no aux {"ID": ...}.
_SUCCESSFULLY_BUILT = re.compile(r"^Successfully built ([0-9a-f]{12,64})\s*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a finished build left: the image id (None when the build exported no image, as
    with `outputs=`), the steps BuildKit reported, and the classic builder's text output."""

    image_id: str | None
    state: BuildState
    output: str = ""
    """The `stream` text of the build's messages (the classic builder's log; BuildKit sends
    only "Successfully tagged ..." there)."""


class BuildFailed(DockerStreamError):
    """A build failed. The message names the failed step and ends with its last lines of
    output; `step` is that step (None when the failure is no step's, or traces could not be
    decoded), `daemon_message` the daemon's one-line error, `detail` its errorDetail."""

    def __init__(
        self, daemon_message: str, detail: object = None, step: Step | None = None, lines: int = 10
    ) -> None:
        self.daemon_message = daemon_message
        self.step = step
        self.log = step.log_tail(lines) if step is not None else []
        message = daemon_message
        if step is not None:
            name = step.name or step.digest
            message = f"{name}: {step.error or daemon_message}"
            if self.log:
                message += "\n" + "\n".join(f"  | {line}" for line in self.log)
        super().__init__(message, detail)


def _fields(message: Any) -> tuple[Any, Any, Any, Any, Any]:
    """id, aux, stream, error, errorDetail of a BuildInfo or of a message's JSON mapping."""
    if isinstance(message, Mapping):
        return (
            message.get("id"),
            message.get("aux"),
            message.get("stream"),
            message.get("error"),
            message.get("errorDetail"),
        )
    return (
        getattr(message, "id", None),
        getattr(message, "aux", None),
        getattr(message, "stream", None),
        getattr(message, "error", None),
        getattr(message, "error_detail", None),
    )


def _image_id(aux: Any) -> str | None:
    """The ID of an aux object: {"ID": ...} as a mapping, or an ImageID struct."""
    value = aux.get("ID") if isinstance(aux, Mapping) else getattr(aux, "id", None)
    return value if isinstance(value, str) and value else None


def _detail_message(detail: Any) -> str | None:
    value = (
        detail.get("message") if isinstance(detail, Mapping) else getattr(detail, "message", None)
    )
    return value if isinstance(value, str) and value else None


async def run_build(
    messages: AsyncIterable[Any],
    *,
    state: BuildState | None = None,
    on_update: Callable[[BuildState], object] | None = None,
    log_lines: int = 10,
) -> BuildResult:
    """Consume a build's messages (`docker.images.build(...)`, BuildInfo values, or their JSON
    as mappings) and return the built image's id with the build's final state.

    BuildKit traces are folded into `state` (a fresh BuildState unless given), calling
    `on_update(state)` after each; without protobuf installed they are skipped. A failed build
    raises BuildFailed (a DockerStreamError) naming the failed step with its last `log_lines`
    lines of output, whether the daemon's error came as a message or was raised by the stream.
    The stream is closed on the way out (an early exit or cancellation stops the build).
    """
    state = state if state is not None else BuildState(log_lines=max(log_lines, 20))
    decode = protobuf_available()
    image_id: str | None = None
    output: list[str] = []

    def failed(message: str, detail: object) -> BuildFailed:
        return BuildFailed(message, detail, state.failed, log_lines)

    stream = aiter(messages)
    try:
        while True:
            try:
                message = await anext(stream)
            except StopAsyncIteration:
                break
            except StreamCut:
                raise
            except DockerStreamError as exc:
                # The stream raises the daemon's in-band error itself (BuildInfo streams do);
                # a stream that could not be decoded (no errorDetail, no failed step) is
                # passed on as it is.
                if exc.detail is None and state.failed is None:
                    raise
                raise failed(exc.message, exc.detail) from exc
            ident, aux, text, error, detail = _fields(message)
            if error or detail is not None:
                raise failed(str(error or _detail_message(detail) or "the build failed"), detail)
            if ident == TRACE_ID and isinstance(aux, str | bytes):
                if decode:
                    state.feed(decode_trace(aux))
                    if on_update is not None:
                        on_update(state)
                continue
            if aux is not None and ident in (None, IMAGE_ID):
                image_id = _image_id(aux) or image_id
            if isinstance(text, str) and text:
                output.append(text)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    text = "".join(output)
    if image_id is None and (found := _SUCCESSFULLY_BUILT.findall(text)):
        image_id = found[-1]
    return BuildResult(image_id=image_id, state=state, output=text)
