"""prune: stopped containers, unused networks, dangling images and the build cache."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..client import Docker
from .args import filters as parse_filters
from .formats import CliError, human_size, out


def confirm_prune(args: argparse.Namespace) -> None:
    if args.force:
        return
    if not sys.stdin.isatty():
        raise CliError("prune removes data: confirm with --force when stdin is not a terminal")
    what = [
        "all stopped containers",
        "all networks not used by at least one container",
        *(["all volumes not used by at least one container"] if args.volumes else []),
        "all images without at least one container" if args.all else "all dangling images",
        "all build cache" if args.all else "unused build cache",
    ]
    print("WARNING! This will remove:", *(f"  - {w}" for w in what), sep="\n", file=sys.stderr)
    answer = input("Are you sure you want to continue? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise CliError("prune cancelled")


async def cmd_prune(docker: Docker, args: argparse.Namespace) -> int:
    """prune: stopped containers, unused networks, dangling images, build cache."""
    filters = parse_filters(args.filter)
    containers = await docker.containers.prune(filters=filters)
    networks = await docker.networks.prune(filters=filters)
    volumes = None
    if args.volumes:
        volume_filters = {k: v for k, v in filters.items() if k != "until"}
        volumes = await docker.volumes.prune(filters=volume_filters)
    image_filters = {**filters, "dangling": ["false"]} if args.all else filters
    images = await docker.images.prune(filters=image_filters)
    # The build cache has no labels: with other filters than `until`, it is left alone.
    cache_filters = {k: v for k, v in filters.items() if k == "until"}
    cache = None
    if cache_filters or not filters:
        cache = await docker.images.build_prune(all=args.all, filters=cache_filters or None)
    sections: list[tuple[str, Sequence[str]]] = [
        ("Deleted Containers", containers.containers_deleted or []),
        ("Deleted Networks", networks.networks_deleted or []),
        ("Deleted Volumes", (volumes.volumes_deleted or []) if volumes else []),
        (
            "Deleted Images",
            [
                f"untagged: {i.untagged}" if i.untagged else f"deleted: {i.deleted}"
                for i in images.images_deleted or []
            ],
        ),
        ("Deleted build cache objects", (cache.caches_deleted or []) if cache else []),
    ]
    for title, items in sections:
        if items:
            out(f"{title}:")
            for item in items:
                out(item)
            out()
    reclaimed = sum(
        r.space_reclaimed or 0 for r in (containers, volumes, images, cache) if r is not None
    )
    out(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0
