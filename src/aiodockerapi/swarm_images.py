"""The same image on every node of a swarm, without a registry: streamed node to node.

A service whose image is named by id (`sha256:...`) runs only on the nodes that have that
id, and one named by tag makes every node ask its registry. `distribute` copies an image
from one daemon to others: GET /images/{name}/get on the source is piped, chunk by chunk,
into POST /images/load on each target (the image is never whole in memory), and nodes that
already have the id are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import anyio

from .client import Docker
from .errors import DockerError, NotFound

__all__ = ["Distributed", "distribute"]


@dataclass(frozen=True)
class Distributed:
    """What became of one target: "present" (it had the id already), "loaded", or
    "failed" with `error`."""

    host: str
    image_id: str
    outcome: Literal["present", "loaded", "failed"]
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """True when the target now has the image."""
        return self.error is None


async def _has(target: Docker, image_id: str) -> bool:
    try:
        found = await target.images.inspect(image_id)
    except NotFound:
        return False
    return found.id == image_id


async def _copy(source: Docker, name: str, image_id: str, target: Docker) -> Distributed:
    try:
        if await _has(target, image_id):
            return Distributed(target.host, image_id, "present")
        async for _ in target.images.load(source.images.get(name), quiet=True):
            pass
        if not await _has(target, image_id):
            # The name was moved to another image on the source meanwhile.
            raise DockerError(None, f"{target.host} loaded {name} but has no image {image_id}")
    except DockerError as exc:
        return Distributed(target.host, image_id, "failed", exc)
    return Distributed(target.host, image_id, "loaded")


async def distribute(
    source: Docker, ref: str, targets: Sequence[Docker], *, concurrency: int = 4
) -> list[Distributed]:
    """Give every target the image `ref` names on `source`, by the same id, without any
    registry; one result per target, in their order (a failed copy is a result too, not an
    exception).

    Args:
        source: the daemon that has the image.
        ref: the image's name or id on `source`; a name's tags come along.
        targets: the daemons to copy it to (the source among them is "present").
        concurrency: how many targets load at once (each reads its own export).
    """
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"ref must be a non-empty image name or id, not {ref!r}")
    if isinstance(targets, Docker) or not all(isinstance(t, Docker) for t in targets):
        raise TypeError("targets must be a sequence of Docker clients")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive int, not {concurrency!r}")
    image_id = (await source.images.inspect(ref)).id
    if not image_id:
        raise DockerError(None, f"{source.host} gave no id for image {ref}")
    results: list[Distributed | None] = [None] * len(targets)
    limit = anyio.Semaphore(concurrency)

    async def one(index: int, target: Docker) -> None:
        async with limit:
            results[index] = await _copy(source, ref, image_id, target)

    async with anyio.create_task_group() as group:
        for index, target in enumerate(targets):
            group.start_soon(one, index, target)
    return [r for r in results if r is not None]
