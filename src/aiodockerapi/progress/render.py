"""Drawing for the progress display (aiodockerapi.progress.display): a BuildKit build's steps
as buildx draws them, plain or on a terminal, and the layers of a pull or push (rich)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, TextIO

from ..buildkit.state import BuildState, Step
from ..buildkit.trace import BuildTrace, VertexStatus, protobuf_available

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

LOG_LINES = 6
"""How many of a running BuildKit step's last lines of output the terminal display shows."""
ERROR_LINES = 10
"""How many of a failed BuildKit step's last lines of output its BuildFailed carries."""

_DONE_WORDS = ("complete", "exists", "pushed", "mounted from", "loaded")
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@dataclass
class Layer:
    status: str
    current: int | None = None
    total: int | None = None
    text: str | None = None  # the daemon's own progress text, when it gives no numbers


_NEVER = datetime.max.replace(tzinfo=timezone.utc)
_STEP_STYLE = {"running": "", "done": "blue", "cached": "blue", "error": "red", "queued": ""}


@dataclass(eq=False)
class BuildView:
    """A BuildKit build being shown: its fold, its clocks and what the plain lines told."""

    state: BuildState = field(default_factory=lambda: BuildState(log_lines=ERROR_LINES))
    decode: bool = field(default_factory=lambda: protobuf_available())
    said_why: bool = False
    failed: bool = False
    began: float = field(default_factory=time.monotonic)
    ended: float | None = None
    skew: timedelta | None = None  # the local clock minus the daemon's
    stopped_at: datetime | None = None
    # plain lines
    numbers: dict[str, int] = field(default_factory=dict)
    numbers_printed: bool = False
    current: str | None = None
    ended_steps: set[str] = field(default_factory=set)
    done_tasks: set[tuple[str, str]] = field(default_factory=set)
    partial: dict[tuple[str, int], tuple[bytearray, datetime | None]] = field(default_factory=dict)

    def feed(self, trace: BuildTrace) -> bool:
        """Fold a trace; whether a step appeared or changed state."""
        before = {s.digest: s.state for s in self.state.steps}
        self.state.feed(trace)
        if self.skew is None:
            for v in trace.vertexes:
                if v.started is not None:
                    self.skew = datetime.now(timezone.utc) - v.started
                    break
        return any(before.get(v.digest) != self.state._step(v.digest).state for v in trace.vertexes)

    def now(self) -> datetime:
        """The daemon's clock, as far as the local one tells."""
        if self.stopped_at is not None:
            return self.stopped_at
        return datetime.now(timezone.utc) - (self.skew or timedelta(0))

    def stop(self) -> None:
        if self.ended is None:
            self.ended = time.monotonic()
            self.stopped_at = self.now()

    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.began

    def seconds(self, started: datetime | None, completed: datetime | None) -> float:
        if started is None:
            return 0.0
        end = completed if completed is not None else self.now()
        return max((end - started).total_seconds(), 0.0)

    def log_lines(self, step: Step, stream: int, data: bytes, at: datetime | None) -> list[str]:
        """`0.123 <line>` for each line the output completes (seconds since the step began)."""
        buf, first = self.partial.pop((step.digest, stream), (bytearray(), None))
        if not buf:
            first = at
        buf += data
        *complete, rest = bytes(buf).split(b"\n")
        out = []
        for raw in complete:
            out.append(self._log_line(step, raw, first))
            first = at
        if rest:
            self.partial[(step.digest, stream)] = (bytearray(rest), first)
        return out

    def _log_line(self, step: Step, raw: bytes, at: datetime | None) -> str:
        offset = self.seconds(step.started, at) if at is not None else 0.0
        text = raw.rstrip(b"\r").decode("utf-8", "replace")
        return f"{offset:.3f} {text}"

    def flush(self, step: Step) -> list[str]:
        """Output left without its last newline, as whole lines."""
        out = []
        for key in [k for k in self.partial if k[0] == step.digest]:
            raw, at = self.partial.pop(key)
            out.append(self._log_line(step, bytes(raw), at))
        return out

    def end_line(self, step: Step, *, closing: bool = False) -> str | None:
        """`DONE 0.4s`, `CACHED`, `ERROR: ...` or `CANCELED` once a step has ended (and its
        tasks too, unless the display is closing); None before, and once said."""
        if step.digest in self.ended_steps or step.state in ("queued", "running"):
            return None
        if step.state == "done" and not closing:
            if any(t.completed is None for t in step.tasks.values()):
                return None  # "naming to ..." may still come: the step's end waits for it
        self.ended_steps.add(step.digest)
        if step.state == "error":
            return "CANCELED" if step.canceled else f"ERROR: {step.error}"
        if step.state == "cached":
            return "CACHED"
        return f"DONE {self.seconds(step.started, step.completed):.1f}s"

    def plain_trace(self, trace: BuildTrace) -> list[str]:
        """buildx's --progress=plain for a trace: `#N name`, then `#N <output>`, `#N DONE 0.4s`."""
        out: list[str] = []
        touched = [v.digest for v in trace.vertexes]
        touched += [s.vertex for s in trace.statuses] + [log.vertex for log in trace.logs]
        for digest in dict.fromkeys(touched):
            step = self.state.step(digest)
            if step is None:
                continue
            lines: list[str] = []
            for log in trace.logs:
                if log.vertex == digest:
                    lines += self.log_lines(step, log.stream, log.data, log.timestamp)
            for task in trace.statuses:
                if task.vertex == digest and task.completed is not None:
                    if (digest, task.id) not in self.done_tasks:
                        self.done_tasks.add((digest, task.id))
                        lines.append(_task_plain(task))
            end = self.end_line(step)
            if end is not None:
                lines += self.flush(step)
            if lines or end is not None or (step.state == "running" and digest not in self.numbers):
                out += self._plain_block(step, lines, end)
        return out

    def plain_close(self) -> list[str]:
        """The last plain lines: steps that ended with tasks still open, and output without
        its last newline."""
        out: list[str] = []
        for step in self.state.steps:
            lines = self.flush(step)
            end = self.end_line(step, closing=True)
            if lines or end:
                out += self._plain_block(step, lines, end)
        return out

    def _plain_block(self, step: Step, lines: list[str], end: str | None) -> list[str]:
        out: list[str] = []
        number = self.numbers.setdefault(step.digest, len(self.numbers) + 1)
        if self.current != step.digest:
            if self.numbers_printed:
                out.append("")
            out.append(f"#{number} {step.name or step.digest}")
            self.current = step.digest
            self.numbers_printed = True
        out += [f"#{number} {line}" for line in lines]
        if end is not None:
            out.append(f"#{number} {end}")
            self.current = None
        return out


def _size(n: int) -> str:
    """Bytes as BuildKit prints them: 2 decimals, powers of 1000."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.2f}{unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _task_text(task: VertexStatus) -> str:
    text = task.name or task.id
    if task.total:
        text += f" {_size(task.current)} / {_size(task.total)}"
    elif task.current:
        text += f" {_size(task.current)}"
    return text


def _task_plain(task: VertexStatus) -> str:
    """A finished task as buildx's plain output says it: `writing image sha256:... done`."""
    line = _task_text(task)
    if task.started is not None and task.completed is not None:
        seconds = (task.completed - task.started).total_seconds()
        if seconds > 0.01:
            line += f" {seconds:.1f}s"
    return line + " done"


def _clean(line: str) -> str:
    """A line of a step's output for one row: no escape sequences or control characters."""
    return "".join(c if c.isprintable() else " " for c in ANSI.sub("", line)).rstrip()


def render_build(view: BuildView, *, final: bool, height: int | None) -> RenderableType:
    """buildx's terminal display: the header, then a line per started step with its time;
    under a step its tasks, and under a running step its last lines of output."""
    from rich.table import Table
    from rich.text import Text

    steps = view.state.steps
    finished = sum(s.state in ("done", "cached") for s in steps)
    failed = view.failed or view.state.failed is not None
    header = f"[+] Building {view.elapsed():.1f}s ({finished}/{len(steps)})"
    if final and not failed:
        header += " FINISHED"
    blocks: list[tuple[Step, list[tuple[Text, str]]]] = []
    # In the order they started (daemons report the whole graph first, last step first).
    started = [s for s in steps if s.state != "queued"]
    started.sort(key=lambda s: s.started or _NEVER)
    for step in started:
        style = "yellow" if step.canceled else _STEP_STYLE[step.state]
        mark = {"cached": "CACHED ", "error": "CANCELED " if step.canceled else "ERROR "}
        seconds = 0.0 if step.state == "cached" else view.seconds(step.started, step.completed)
        name = f" => {mark.get(step.state, '')}{step.name or step.digest}"
        shown = [(Text(name, style), f"{seconds:.1f}s")]
        for task in step.tasks.values():
            took = view.seconds(task.started, task.completed)
            shown.append((Text(f" => => {_task_text(task)}", style), f"{took:.1f}s"))
        if step.state == "running" and not final:
            for line in step.log_tail(LOG_LINES):
                shown.append((Text(f" => => # {_clean(line)}", "dim"), ""))
        blocks.append((step, shown))
    if height is not None:
        # Too tall for the terminal: the steps that ended first make room, as with buildx.
        while sum(len(rows) for _, rows in blocks) > height - 1:
            ended = next((i for i, (s, _) in enumerate(blocks) if s.state != "running"), None)
            if ended is None:
                break
            del blocks[ended]
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    grid.add_column(no_wrap=True, justify="right")
    head_style = ("red" if failed else "blue") if final else ""
    grid.add_row(Text(header, head_style), "")
    for _, rows in blocks:
        for text, clock in rows:
            grid.add_row(text, Text(clock, text.style))
    return grid


def console(file: TextIO) -> Console | None:
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=file, force_terminal=True, highlight=False, soft_wrap=False)


def live(on: Console) -> Live:
    """A started Live display on `on` that redraws only when told to."""
    from rich.live import Live

    display = Live(
        console=on,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    display.start()
    return display


def render_layers(layers: dict[str, Layer]) -> RenderableType:
    from rich.filesize import decimal
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, width=30)
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(no_wrap=True, justify="right")
    for layer, state in layers.items():
        done = any(word in state.status.lower() for word in _DONE_WORDS)
        label = Text.assemble((f"{layer}:", "bold"), " ", (state.status, "green" if done else ""))
        bar: RenderableType = ""
        size = ""
        percent = ""
        if state.total is not None and state.current is not None:
            current = min(state.current, state.total)
            bar = ProgressBar(total=state.total, completed=current, width=30)
            size = f"{decimal(current)}/{decimal(state.total)}"
            percent = f"{current * 100 // state.total}%"
        elif state.current:
            size = decimal(state.current)
        elif state.text:
            size = state.text
        grid.add_row(label, bar, size, percent)
    return grid
