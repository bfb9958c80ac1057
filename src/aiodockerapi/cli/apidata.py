"""The API's answers as plain data for templates and JSON: every field of the model under its
API name (a field the daemon left out is null), Go's field names as aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .template import Context

# Go's struct field names where they differ from the JSON names (`.Server.APIVersion`).
_GO_NAMES = {"ApiVersion": "APIVersion", "Id": "ID"}


def api_dict(value: Any) -> Any:
    """A model (nested ones too) as dicts and lists, with every field present."""
    if isinstance(value, msgspec.Struct):
        return {
            f.encode_name: api_dict(getattr(value, f.name)) for f in msgspec.structs.fields(value)
        }
    if isinstance(value, dict):
        return {k: api_dict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [api_dict(v) for v in value]
    return msgspec.to_builtins(value)


def go_context(
    kind: str, data: dict[str, Any], names: Mapping[str, str] | None = None, /, **extra: Any
) -> Context:
    """A template's dot for an API object: its fields, Go's names for some (`names` maps
    more JSON names to Go's), and `extra`."""
    fields = {**data, **extra}
    for json_name, go_name in {**_GO_NAMES, **(names or {})}.items():
        if json_name in data and go_name not in data:
            fields[go_name] = data[json_name]
    return Context(kind, fields, [*data, *extra], sort=False)
