"""A build's `output=`: BuildKit's `outputs` parameter and the export the session's FileSend
service receives, checked before any request."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from .filesend import LocalExport, TarExport

__all__ = ["OUTPUT_TYPES", "export_of"]

OUTPUT_TYPES = ("local", "tar")


def export_of(output: Mapping[str, Any]) -> tuple[str, LocalExport | TarExport]:
    """The `outputs` JSON for /build and the export that writes what the daemon sends.

    `{"type": "local", "dest": DIR}` (a missing or empty directory, or any with
    `"replace": True`) or `{"type": "tar", "dest": a file's path or a binary writer}`.
    """
    if not isinstance(output, Mapping):
        raise TypeError("output must be a mapping such as {'type': 'local', 'dest': DIR}")
    unknown = sorted(set(output) - {"type", "dest", "replace"})
    if unknown:
        raise ValueError(f"output: unknown key(s) {', '.join(map(repr, unknown))}")
    kind, dest = output.get("type"), output.get("dest")
    if kind not in OUTPUT_TYPES:
        raise ValueError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {kind!r}")
    if dest is None:
        raise ValueError(f"output type {kind}: give a dest")
    export: LocalExport | TarExport
    if kind == "local":
        if not isinstance(dest, (str, os.PathLike)):
            raise TypeError(
                f"output type local: dest is a directory's path, not {type(dest).__name__}"
            )
        export = LocalExport(dest, replace=bool(output.get("replace", False)))
    else:
        if "replace" in output:
            raise ValueError("output type tar: replace is for a local export")
        if not isinstance(dest, (str, os.PathLike)) and not callable(getattr(dest, "write", None)):
            what = type(dest).__name__
            raise TypeError(f"output type tar: dest is a file's path or a binary file, not {what}")
        export = TarExport(dest)
    return json.dumps([{"Type": kind, "Attrs": {}}]), export
