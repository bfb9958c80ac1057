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
Decoding its steps needs protobuf (``pip install aiodockerapi[buildkit]``). The build's part
of the display is in build.py; render.py draws both.

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
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from ..buildkit.run import BuildFailed
from ..buildkit.state import BuildState
from ..buildkit.trace import TRACE_ID
from ..errors import DockerStreamError, StreamCut
from ..models import ProgressDetail
from .build import BuildProgress
from .render import ANSI, ERROR_LINES, LOG_LINES, Layer, console, live, render_layers

if TYPE_CHECKING:
    from rich.console import Console
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
# The line that ends a push: "TAG: digest: sha256:... size: N". The classic image store
# repeats the digest in a last aux message; containerd's image store sends only this line.
_PUSHED = re.compile(r"\S+: digest: (?P<digest>[a-z0-9]+:[0-9a-f]+) size: \d+")


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
        self._console: Console | None = console(self._file) if tty else None
        self._interval = refresh_interval
        self._layers: dict[str, Layer] = {}  # the block of layer lines being redrawn
        self._plain_status: dict[str, str] = {}
        self._live: Live | None = None
        self._partial = ""
        self._last_draw = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._build: BuildProgress | None = None  # a BuildKit build, once a trace came
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
        return self._build.state if self._build is not None else None

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
            if self._build is None:
                self._build = BuildProgress(
                    self._console,
                    write_line=self._write_line,
                    end_layers=self._end_block,
                    interval=self._interval,
                )
            self._build.feed(aux)
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
        if self._build is None or isinstance(error, BuildFailed | StreamCut):
            return error
        return self._build.failure(error)

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
        if self._build is not None:
            self._build.close()

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
            self._file.write(ANSI.sub("", line) + "\n")
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
        state = Layer(status, current, total if total and total > 0 else None, message.progress)
        old = self._layers.get(layer)
        self._layers[layer] = state
        if self._live is None:
            assert self._console is not None
            self._live = live(self._console)
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
            self._live.update(render_layers(self._layers), refresh=True)
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
