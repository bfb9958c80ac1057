"""BuildKit trace decoding: a recorded build stream decoded and folded, against the floor.

The stream is tests/data/buildkit/20.10-lines.jsonl.gz, recorded from dockerd 20.10 by
`python -m tests.data.buildkit.record --lines`: a real `POST /build?version=2` whose RUN step
prints 50,000 lines slowly enough that BuildKit sends one trace message for each (not a
hand-written stream). Both sides split the body into its JSON messages with the BuildInfo
decoder `images.build` uses; aiodockerapi then decodes each trace (`trace_of`: base64, protobuf,
BuildTrace Structs) and folds it into a BuildState; the floor stops at the JSON. Timed in this
process, the two taking turns; the table gives medians.
"""

from __future__ import annotations

import gzip
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

RECORDING = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "buildkit" / "20.10-lines.jsonl.gz"
)


def load(limit: int | None = None) -> list[bytes]:
    """The recorded body's messages (one JSON text each), the first `limit` traces' worth."""
    lines = [line for line in gzip.decompress(RECORDING.read_bytes()).splitlines() if line]
    if limit is None:
        return lines
    out: list[bytes] = []
    traces = 0
    for line in lines:
        if b'"moby.buildkit.trace"' in line:
            if traces == limit:
                break
            traces += 1
        out.append(line)
    return out


def count_traces(lines: Sequence[bytes]) -> int:
    return sum(b'"moby.buildkit.trace"' in line for line in lines)


def run_ours(lines: Sequence[bytes]) -> tuple[float, int]:
    """Seconds to decode every message, decode its trace and fold it; the traces folded."""
    from aiodockerapi import buildkit
    from aiodockerapi.models import BuildInfo

    decoder = msgspec.json.Decoder(BuildInfo)
    started = time.perf_counter()
    state = buildkit.BuildState()
    for line in lines:
        trace = buildkit.trace_of(decoder.decode(line))
        if trace is not None:
            state.feed(trace)
    seconds = time.perf_counter() - started
    return seconds, state.traces


def run_floor(lines: Sequence[bytes]) -> tuple[float, int]:
    """Seconds to split the stream into its JSON messages only; the trace messages seen."""
    from aiodockerapi.buildkit import TRACE_ID
    from aiodockerapi.models import BuildInfo

    decoder = msgspec.json.Decoder(BuildInfo)
    started = time.perf_counter()
    traces = 0
    for line in lines:
        if decoder.decode(line).id == TRACE_ID:
            traces += 1
    seconds = time.perf_counter() - started
    return seconds, traces


def measure(limit: int | None, rounds: int) -> dict[str, list[float]]:
    """Seconds per round of each side, taking turns (one untimed warm-up of each first)."""
    lines = load(limit)
    expected = count_traces(lines)
    run_ours(lines[:200])
    run_floor(lines[:200])
    samples: dict[str, list[float]] = {"ours": [], "floor": [], "messages": [float(expected)]}
    for r in range(rounds):
        order = (("ours", run_ours), ("floor", run_floor))
        for key, fn in order if r % 2 == 0 else order[::-1]:
            seconds, traces = fn(lines)
            if traces != expected:
                raise RuntimeError(f"{key} saw {traces} traces, not {expected}")
            samples[key].append(seconds)
    return samples


def report(samples: dict[str, list[float]]) -> tuple[str, bool]:
    """A Markdown table of the two rates and their ratio."""
    messages = int(samples["messages"][0])
    rounds = len(samples["ours"])
    ours = statistics.median(samples["ours"])
    floor = statistics.median(samples["floor"])
    ratio = statistics.median(
        f / max(o, 1e-9) for o, f in zip(samples["ours"], samples["floor"], strict=True)
    )
    lines = [
        f"BuildKit traces: a recorded build's {messages:,} trace messages decoded and folded "
        f"into a BuildState (tests/data/buildkit/20.10-lines.jsonl.gz; median of {rounds} "
        "rounds, in this process):",
        "",
        "| | messages/s | ms | rate as a multiple of the floor's |",
        "| --- | ---: | ---: | ---: |",
        f"| aiodockerapi: `trace_of` + `BuildState.feed` | {messages / ours:,.0f} "
        f"| {ours * 1000:.1f} | {ratio:.3f}x |",
        f"| floor: the JSON messages only | {messages / floor:,.0f} | {floor * 1000:.1f} | 1x |",
    ]
    return "\n".join(lines) + "\n", True
