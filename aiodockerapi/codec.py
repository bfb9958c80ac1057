"""JSON encoding of request bodies and cached msgspec decoders for results."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["decoder", "encode"]

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
