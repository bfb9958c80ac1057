"""The progress display, importable here too: it lives in `aiodockerapi.cli.progress`, with
the rest of the command line's presentation. See there (and docs/progress.md)."""

from __future__ import annotations

from .cli.progress import (
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
