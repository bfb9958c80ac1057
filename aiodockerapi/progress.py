"""Show the progress of a pull, push, build or load the way the docker CLI shows it.

On a terminal every layer gets a line that is redrawn in place, with a progress bar, the
bytes done and a percentage (this needs rich: ``pip install aiodockerapi[cli]``). Anywhere
else, and on a terminal when rich is missing, it writes plain lines: a layer's line each
time its status changes, never one per progress update. Build output and status lines
without a layer are written as they come in both modes.

A BuildKit build (``version="2"``) is drawn the way ``docker buildx build`` draws it: on a
terminal, its steps redrawn in place with their timings under a ``[+] Building 3.2s (5/7)``
header, the running steps' last lines of output under them; elsewhere buildx's
``--progress=plain`` lines (``#5 [2/3] RUN make``, ``#5 0.123 <output>``, ``#5 DONE 0.4s``).
Decoding its steps needs protobuf (``pip install aiodockerapi[buildkit]``).

```python
from aiodockerapi.progress import show_progress

summary = await show_progress(docker.images.pull("127.0.0.1:5000/app:1"))
summary = await show_progress(docker.images.build("ctx/", t="app:dev"))
print(summary.image_id)
```
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from .buildkit.run import BuildFailed
from .buildkit.state import BuildState, Step
from .buildkit.trace import TRACE_ID, BuildTrace, VertexStatus, decode_trace, protobuf_available
from .errors import DockerStreamError, StreamCut
from .models import ProgressDetail

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

__all__ = [
    "ERROR_LINES",
    "LOG_LINES",
    "ProgressDisplay",
    "ProgressMessage",
    "ProgressSummary",
    "show_progress",
]

REFRESH_INTERVAL = 0.1
"""Seconds between two redraws of the terminal display, at most."""
LOG_LINES = 6
"""How many of a running BuildKit step's last lines of output the terminal display shows."""
ERROR_LINES = 10
"""How many of a failed BuildKit step's last lines of output its BuildFailed carries."""

_DONE_WORDS = ("complete", "exists", "pushed", "mounted from", "loaded")
# The line that ends a push: "TAG: digest: sha256:... size: N". The classic image store
# repeats the digest in a last aux message; containerd's image store sends only this line.
_PUSHED = re.compile(r"\S+: digest: (?P<digest>[a-z0-9]+:[0-9a-f]+) size: \d+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class ProgressMessage(Protocol):
    """What the display reads from a message: BuildInfo, CreateImageInfo and PushImageInfo
    all fit. `stream` and `aux` are read when a message has them."""

    @property
    def id(self) -> str | None:
        """The layer (or tag) the message is about."""

    @property
    def status(self) -> str | None:
        """What is happening to it: "Downloading", "Pull complete"..."""

    @property
    def progress(self) -> str | None:
        """The daemon's own text rendering of the progress."""

    @property
    def progress_detail(self) -> ProgressDetail | None:
        """Bytes done, and the total."""

    @property
    def error(self) -> str | None:
        """An error the daemon reports inside the stream."""


@dataclass(frozen=True)
class ProgressSummary:
    """What a finished stream told besides its progress."""

    image_id: str | None
    """The image a build made (its last `aux.ID`), if it said."""
    digest: str | None
    """The manifest digest a push or pull reported, if it did."""
    messages: int
    """How many messages the stream carried."""


@dataclass
class _Layer:
    status: str
    current: int | None = None
    total: int | None = None
    text: str | None = None  # the daemon's own progress text, when it gives no numbers


class ProgressDisplay:
    """Renders progress messages fed to `update`; `close` (or leaving `with`) ends it.

    `file` defaults to sys.stdout; `tty` (default: whether `file` is a terminal) picks the
    redrawn display over plain lines.
    """

    def __init__(
        self,
        file: TextIO | None = None,
        *,
        tty: bool | None = None,
        refresh_interval: float = REFRESH_INTERVAL,
    ) -> None:
        self._file = file if file is not None else sys.stdout
        if tty is None:
            isatty = getattr(self._file, "isatty", None)
            tty = bool(isatty()) if isatty is not None else False
        self._console: Console | None = _console(self._file) if tty else None
        self._interval = refresh_interval
        self._layers: dict[str, _Layer] = {}  # the block of layer lines being redrawn
        self._plain_status: dict[str, str] = {}
        self._live: Live | None = None
        self._partial = ""
        self._last_draw = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._build: _BuildView | None = None  # a BuildKit build's steps, once a trace came
        self._build_live: Live | None = None
        self._ticking: asyncio.TimerHandle | None = None
        self._closed = False
        self.image_id: str | None = None
        self.digest: str | None = None
        self.messages = 0

    @property
    def live(self) -> bool:
        """Whether layers are redrawn in place (a terminal, and rich is installed)."""
        return self._console is not None

    @property
    def build(self) -> BuildState | None:
        """A BuildKit build's steps as its traces told them so far (None before any trace, and
        when protobuf is missing)."""
        return self._build.state if self._build is not None and self._build.decode else None

    def update(self, message: ProgressMessage) -> None:
        """Show one message; one that carries an error raises DockerStreamError (BuildFailed,
        naming the failed step, for a BuildKit build)."""
        if self._closed:
            raise RuntimeError("the progress display is closed")
        self.messages += 1
        if message.error:
            detail = getattr(message, "error_detail", None)
            raise self.failure(DockerStreamError(message.error, detail))
        aux = getattr(message, "aux", None)
        if message.id == TRACE_ID and isinstance(aux, str | bytes):
            self._trace(aux)
            return
        self._note_aux(aux)
        text: str | None = getattr(message, "stream", None)
        if text:
            self._write_text(text)
        layer, status = message.id, message.status
        if status and status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
        elif status and not layer and (pushed := _PUSHED.fullmatch(status.strip())):
            self.digest = pushed["digest"]
        if layer and status:
            if self._console is None:
                self._plain_layer(layer, status)
            else:
                self._live_layer(layer, status, message)
        elif status:
            self._write_line(f"{layer}: {status}" if layer else status)

    def failure(self, error: DockerStreamError) -> DockerStreamError:
        """What to raise for an error the stream reported: during a BuildKit build, a
        BuildFailed that names the failed step and carries its last lines of output; any
        other error as it is."""
        view = self._build
        if view is None or isinstance(error, BuildFailed | StreamCut):
            return error
        view.failed = True
        if error.detail is None and view.state.failed is None:
            return error  # not the build's own error: a stream that could not be decoded
        return BuildFailed(error.message, error.detail, view.state.failed, ERROR_LINES)

    def close(self) -> None:
        """Finish the display: the last state of the layers (or of a BuildKit build's steps)
        stays on the screen."""
        if self._closed:
            return
        self._closed = True
        if self._partial:
            partial, self._partial = self._partial, ""
            self._write_line(partial)
        self._end_block()
        self._end_build()

    def summary(self) -> ProgressSummary:
        """What the messages so far said besides their progress."""
        return ProgressSummary(image_id=self.image_id, digest=self.digest, messages=self.messages)

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- both modes ----------------------------------------------------------------------

    def _note_aux(self, aux: Any) -> None:
        if aux is None:
            return
        image_id = getattr(aux, "id", None)
        if isinstance(image_id, str) and image_id:
            self.image_id = image_id
        digest = getattr(aux, "digest", None)
        if isinstance(digest, str) and digest:
            self.digest = digest

    def _write_text(self, text: str) -> None:
        """Build output: whole lines go out at once, a partial one waits for its end."""
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._write_line(line)

    def _write_line(self, line: str) -> None:
        if self._console is None:
            self._file.write(_ANSI.sub("", line) + "\n")
            self._file.flush()
            return
        from rich.text import Text

        self._end_block()  # a BuildKit build's steps stay below: rich prints above them
        self._console.print(Text.from_ansi(line), highlight=False, soft_wrap=True)

    # -- plain lines ---------------------------------------------------------------------

    def _plain_layer(self, layer: str, status: str) -> None:
        if self._plain_status.get(layer) != status:
            self._plain_status[layer] = status
            self._write_line(f"{layer}: {status}")

    # -- the redrawn display -------------------------------------------------------------

    def _live_layer(self, layer: str, status: str, message: ProgressMessage) -> None:
        detail = message.progress_detail
        current = detail.current if detail is not None else None
        total = detail.total if detail is not None else None
        state = _Layer(status, current, total if total and total > 0 else None, message.progress)
        old = self._layers.get(layer)
        self._layers[layer] = state
        if self._live is None:
            from rich.live import Live

            assert self._console is not None
            self._live = Live(
                console=self._console,
                auto_refresh=False,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
            self._draw()
        elif old is None or old.status != status:
            self._draw()  # a new layer or a new status shows at once, bytes may wait
        else:
            self._draw_soon()

    def _draw(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._live is not None:
            self._live.update(_render(self._layers), refresh=True)
            self._last_draw = time.monotonic()

    def _draw_soon(self) -> None:
        wait = self._last_draw + self._interval - time.monotonic()
        if wait <= 0:
            self._draw()
            return
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # used without a loop: the next update or close draws it
        self._pending = loop.call_later(wait, self._draw)

    def _end_block(self) -> None:
        """Leave the current layer lines on the screen as they are; new ones start below."""
        if self._live is None:
            return
        self._draw()
        self._live.stop()
        self._live = None
        self._layers = {}

    # -- a BuildKit build ----------------------------------------------------------------

    def _trace(self, aux: str | bytes) -> None:
        if self._build is None:
            self._build = _BuildView()
        view = self._build
        if not view.decode:
            if not view.said_why:
                view.said_why = True
                self._write_line(
                    "(BuildKit build: showing its steps needs protobuf, "
                    "pip install 'aiodockerapi[buildkit]')"
                )
            return
        trace = decode_trace(aux)
        changed = view.feed(trace)
        if self._console is None:
            self._plain_trace(trace)
        elif self._build_live is None:
            from rich.live import Live

            self._end_block()
            self._build_live = Live(
                console=self._console,
                auto_refresh=False,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._build_live.start()
            self._draw_build()
            self._tick()
        elif changed or time.monotonic() - self._last_draw >= self._interval:
            self._draw_build()  # a step appeared or moved; more output waits for the clock

    def _draw_build(self, *, final: bool = False) -> None:
        if self._build_live is None or self._build is None or self._console is None:
            return
        height = None if final else self._console.size.height - 1
        self._build_live.update(_render_build(self._build, final=final, height=height))
        if not final:
            self._build_live.refresh()
        self._last_draw = time.monotonic()

    def _tick(self) -> None:
        """Redraw the steps every refresh interval while the build runs: the clocks move."""
        self._ticking = None
        if self._build_live is None:
            return
        if time.monotonic() - self._last_draw >= self._interval * 0.9:
            self._draw_build()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # used without a loop: each update draws
        self._ticking = loop.call_later(self._interval, self._tick)

    def _end_build(self) -> None:
        view = self._build
        if view is None:
            return
        view.stop()
        if self._ticking is not None:
            self._ticking.cancel()
            self._ticking = None
        if self._build_live is not None:
            self._draw_build(final=True)
            self._build_live.stop()  # draws the whole last frame, however tall
            self._build_live = None
        elif self._console is None and view.decode:
            # Steps that ended with tasks still open, and output without its last newline.
            for step in view.state.steps:
                lines = view.flush(step)
                end = view.end_line(step, closing=True)
                if lines or end:
                    self._plain_block(step, lines, end)

    def _plain_trace(self, trace: BuildTrace) -> None:
        """buildx's --progress=plain: `#N name`, then `#N <output>`, `#N DONE 0.4s`."""
        view = self._build
        assert view is not None
        touched = [v.digest for v in trace.vertexes]
        touched += [s.vertex for s in trace.statuses] + [log.vertex for log in trace.logs]
        for digest in dict.fromkeys(touched):
            step = view.state.step(digest)
            if step is None:
                continue
            lines: list[str] = []
            for log in trace.logs:
                if log.vertex == digest:
                    lines += view.log_lines(step, log.stream, log.data, log.timestamp)
            for task in trace.statuses:
                if task.vertex == digest and task.completed is not None:
                    if (digest, task.id) not in view.done_tasks:
                        view.done_tasks.add((digest, task.id))
                        lines.append(_task_plain(task))
            end = view.end_line(step)
            if end is not None:
                lines += view.flush(step)
            if lines or end is not None or (step.state == "running" and digest not in view.numbers):
                self._plain_block(step, lines, end)

    def _plain_block(self, step: Step, lines: list[str], end: str | None) -> None:
        view = self._build
        assert view is not None
        number = view.numbers.setdefault(step.digest, len(view.numbers) + 1)
        if view.current != step.digest:
            if view.numbers_printed:
                self._write_line("")
            self._write_line(f"#{number} {step.name or step.digest}")
            view.current = step.digest
            view.numbers_printed = True
        for line in lines:
            self._write_line(f"#{number} {line}")
        if end is not None:
            self._write_line(f"#{number} {end}")
            view.current = None


_NEVER = datetime.max.replace(tzinfo=timezone.utc)
_STEP_STYLE = {"running": "", "done": "blue", "cached": "blue", "error": "red", "queued": ""}


@dataclass(eq=False)
class _BuildView:
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
    return "".join(c if c.isprintable() else " " for c in _ANSI.sub("", line)).rstrip()


def _render_build(view: _BuildView, *, final: bool, height: int | None) -> RenderableType:
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


def _console(file: TextIO) -> Console | None:
    try:
        from rich.console import Console
    except ImportError:
        return None
    return Console(file=file, force_terminal=True, highlight=False, soft_wrap=False)


def _render(layers: dict[str, _Layer]) -> RenderableType:
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


async def show_progress(
    messages: AsyncIterable[ProgressMessage],
    file: TextIO | None = None,
    *,
    tty: bool | None = None,
    on_message: Callable[[ProgressMessage], None] | None = None,
) -> ProgressSummary:
    """Render a pull, push, build or load stream to `file` (stdout) until it ends.

    An error in the stream is raised (DockerStreamError) after the display is finished: for
    a BuildKit build, a BuildFailed that names the failed step with its last lines of output.
    Leaving early (cancellation) closes the stream. `on_message` sees every message too.
    """
    with ProgressDisplay(file, tty=tty) as display:
        iterator = aiter(messages)
        try:
            async for message in iterator:
                if on_message is not None:
                    on_message(message)
                display.update(message)
        except DockerStreamError as exc:
            # The stream raises the daemon's in-band error itself: during a BuildKit build
            # it becomes a BuildFailed naming the step.
            failure = display.failure(exc)
            if failure is exc:
                raise
            raise failure from exc
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
    return display.summary()
