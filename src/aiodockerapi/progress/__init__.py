"""The progress display of pull, push and build streams: per-layer bars on a terminal (with
rich, the cli extra), plain lines otherwise; see docs/progress.md. The command line draws
with it too.

`display` folds a stream's messages into per-layer state and shows it; `render` draws;
`build` is a BuildKit build's part.
"""

from __future__ import annotations

from .display import (
    ERROR_LINES,
    LOG_LINES,
    ProgressDisplay,
    ProgressMessage,
    ProgressSummary,
    show_progress,
)

__all__ = [
    "ERROR_LINES",
    "LOG_LINES",
    "ProgressDisplay",
    "ProgressMessage",
    "ProgressSummary",
    "show_progress",
]
