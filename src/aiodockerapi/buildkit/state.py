"""A BuildKit build's state, folded from its trace messages: what a progress UI draws."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from .trace import BuildTrace, Vertex, VertexStatus, VertexWarning

__all__ = ["BuildState", "Step", "StepState"]

StepState = Literal["queued", "running", "cached", "done", "error"]
"""Where a step is: not started, started, found in the build cache, finished, failed."""

_CANCELED = ("context canceled", "canceled")


@dataclass(slots=True, eq=False)
class Step:
    """One vertex of the build, as last reported, with the tail of its output."""

    digest: str
    name: str = ""
    state: StepState = "queued"
    cached: bool = False
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""
    inputs: list[str] = field(default_factory=list)
    tasks: dict[str, VertexStatus] = field(default_factory=dict)
    """The step's tasks (VertexStatus by id), each as last reported, in the order first seen."""
    warnings: list[VertexWarning] = field(default_factory=list)
    lines: deque[str] = field(default_factory=deque)
    """The last complete lines of the step's output (stdout and stderr interleaved), decoded
    as UTF-8 with bad bytes replaced; `log_tail` adds the line still being written."""
    _partial: dict[int, bytearray] = field(default_factory=dict, repr=False)

    @property
    def duration(self) -> timedelta | None:
        """How long the step ran, once it has completed (None before, or if never started)."""
        if self.started is None or self.completed is None:
            return None
        return self.completed - self.started

    @property
    def canceled(self) -> bool:
        """Failed only because the build was stopped (another step failed, or the client left)."""
        return self.state == "error" and self.error.strip().lower().endswith(_CANCELED)

    def log_tail(self, n: int | None = None) -> list[str]:
        """The last `n` (default: all kept) lines of output, with any unfinished last line."""
        out = list(self.lines)
        out += [bytes(b).decode("utf-8", "replace") for b in self._partial.values() if b]
        if n is not None:
            out = out[-n:] if n > 0 else []
        return out

    def _update(self, v: Vertex) -> None:
        if v.name:
            self.name = v.name
        self.inputs = list(v.inputs)
        self.cached = v.cached
        self.started = v.started
        self.completed = v.completed
        self.error = v.error
        if v.error:
            self.state = "error"
        elif v.cached:
            self.state = "cached"
        elif v.completed is not None:
            self.state = "done"
        elif v.started is not None:
            self.state = "running"
        else:
            self.state = "queued"

    def _write(self, stream: int, data: bytes) -> None:
        buf = self._partial.setdefault(stream, bytearray())
        buf += data
        end = buf.rfind(b"\n")
        if end < 0:
            return
        for raw in bytes(buf[:end]).split(b"\n"):
            self.lines.append(raw.rstrip(b"\r").decode("utf-8", "replace"))
        del buf[: end + 1]


class BuildState:
    """The steps of a build, folded from its traces: feed it each BuildTrace in order.

    `steps` lists them in the order the daemon first reported them; each keeps its last
    `log_lines` lines of output. BuildKit reports a step again each time it changes; the
    latest report wins.
    """

    def __init__(self, *, log_lines: int = 20) -> None:
        if log_lines < 0:
            raise ValueError("log_lines must be 0 or more")
        self.log_lines = log_lines
        self._steps: dict[str, Step] = {}
        self.warnings: list[VertexWarning] = []
        """Every warning reported, in order (each is also on its step)."""
        self.traces = 0
        """How many traces were fed."""

    def _step(self, digest: str) -> Step:
        step = self._steps.get(digest)
        if step is None:
            step = self._steps[digest] = Step(digest, lines=deque(maxlen=self.log_lines))
        return step

    def feed(self, trace: BuildTrace) -> None:
        """Apply one trace: its vertexes, then statuses, logs and warnings."""
        self.traces += 1
        for v in trace.vertexes:
            self._step(v.digest)._update(v)
        for s in trace.statuses:
            self._step(s.vertex).tasks[s.id] = s
        for log in trace.logs:
            self._step(log.vertex)._write(log.stream, log.data)
        for w in trace.warnings:
            self._step(w.vertex).warnings.append(w)
            self.warnings.append(w)

    @property
    def steps(self) -> list[Step]:
        """Every step, in the order the daemon first reported it."""
        return list(self._steps.values())

    def step(self, digest: str) -> Step | None:
        """The step of a vertex digest, if reported."""
        return self._steps.get(digest)

    @property
    def failed(self) -> Step | None:
        """The step that failed the build: the first in error that was not merely canceled
        (else the first in error), or None."""
        errors = [s for s in self._steps.values() if s.state == "error"]
        for step in errors:
            if not step.canceled:
                return step
        return errors[0] if errors else None

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for s in self._steps.values():
            counts[s.state] = counts.get(s.state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in counts.items())
        return f"<BuildState {len(self._steps)} steps: {summary}>"
