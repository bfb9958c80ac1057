"""JSON encoding of request bodies and cached msgspec decoders for results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from ..http.base import Body

__all__ = ["decoder", "encode", "json_body"]

_encoder = msgspec.json.Encoder()


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder(result: Any) -> msgspec.json.Decoder[Any]:
    """The decoder for a result type, built once per type."""
    found = _decoders.get(result)
    if found is None:
        found = _decoders[result] = msgspec.json.Decoder(result)
    return found


def encode(body: Any) -> bytes:
    """A mapping or Struct as JSON; the API's own field names on the wire."""
    try:
        return _encoder.encode(body)
    except (TypeError, msgspec.EncodeError) as exc:
        raise TypeError(f"cannot send {type(body).__name__} as a JSON body: {exc}") from None


def json_body(
    body: Any, data: Body, headers: Mapping[str, str] | None
) -> tuple[Body, Mapping[str, str] | None]:
    """The data and headers of a request: `body` (a mapping, Struct or list) as JSON with its
    Content-Type, or `data` (raw bytes or an async iterable) as given."""
    if body is None:
        return data, headers
    if data is not None:
        raise TypeError("give either body= (JSON) or data= (raw), not both")
    if not isinstance(body, Mapping | msgspec.Struct | list | tuple):
        raise TypeError(
            f"a request body must be a mapping or a model Struct, not {type(body).__name__}"
        )
    return encode(body), {**(headers or {}), "Content-Type": "application/json"}
