"""A build's `output=`: BuildKit's `outputs` parameter and the session service that receives
the export (FileSend), checked before any request."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from .connection import Servable

__all__ = ["OUTPUT_TYPES", "exporter"]

OUTPUT_TYPES = ("local", "tar")


def exporter(output: Mapping[str, Any]) -> tuple[str, Servable]:
    """The `outputs` JSON for /build and the service that writes what the daemon sends."""
    if not isinstance(output, Mapping):
        raise TypeError("output must be a mapping such as {'type': 'local', 'dest': DIR}")
    unknown = sorted(set(output) - {"type", "dest"})
    if unknown:
        raise ValueError(f"output: unknown key(s) {', '.join(map(repr, unknown))}")
    kind, dest = output.get("type"), output.get("dest")
    if kind not in OUTPUT_TYPES:
        raise ValueError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {kind!r}")
    if dest is None:
        raise ValueError(f"output type {kind}: give a dest")
    if kind == "local" and not isinstance(dest, (str, os.PathLike)):
        raise TypeError(f"output type local: dest is a directory's path, not {type(dest).__name__}")
    if kind == "tar" and not isinstance(dest, (str, os.PathLike)) and not hasattr(dest, "write"):
        raise TypeError(
            f"output type tar: dest is a file's path or a binary file, not {type(dest).__name__}"
        )
    outputs = json.dumps([{"Type": kind, "Attrs": {}}])
    raise NotImplementedError(
        f"output type {kind}: the session's FileSend service (the filesync branch) is not "
        f"merged yet; {outputs} cannot be received"
    )
