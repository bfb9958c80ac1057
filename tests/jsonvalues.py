"""The library's JSON stream pieces as the tests drive them: one value at a time.

The library hands values on in batches (jsonstream.json_batches) and checks in-band errors
as Transport.stream_json relays them; these two put that back together over any chunks.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import TypeVar

import msgspec

from aiodockerapi.bodies.jsonstream import in_band_error, json_batches

T = TypeVar("T")


async def json_values(
    chunks: AsyncIterable[bytes], decoder: msgspec.json.Decoder[T]
) -> AsyncGenerator[T, None]:
    """Every JSON value of `chunks`, as json_batches decodes them."""
    batches = json_batches(chunks, decoder)
    try:
        async for batch in batches:
            for value in batch:
                yield value
    finally:
        await batches.aclose()


async def check_in_band(items: AsyncIterable[T]) -> AsyncGenerator[T, None]:
    """`items`, raising DockerStreamError at one that reports an error (as stream_json does)."""
    async for item in items:
        error = in_band_error(item)
        if error is not None:
            raise error
        yield item
