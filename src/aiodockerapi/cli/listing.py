"""The commands that run on every host given at once: info, ps, images, events.

With one host they print as the docker CLI does. With several (-H/--context repeated) they
ask every host at once through a Fleet: a HOST column (a "host" field in JSON lines), and a
host that fails is one line on stderr while the others print; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import TypeVar

from ..client import Docker
from ..fleet import Fleet
from ..models import ContainerSummary, EventMessage, ImageSummary
from .apidata import api_dict, go_context
from .args import PROG, filters
from .formats import CliError, describe, event_line, json_line, out, short_id
from .output import Formatter
from .rows import (
    DEFAULT_IMAGES,
    DEFAULT_IMAGES_DIGESTS,
    DEFAULT_PS,
    IMAGE_HEADERS,
    PS_HEADERS,
    container_context,
    header_context,
    image_contexts,
)
from .template import Context, GoMap

T = TypeVar("T")


def _many(fleet: Fleet) -> bool:
    return len(fleet.clients) > 1


def host_failed(host: str, exc: BaseException) -> None:
    print(f"{PROG}: error: {host}: {describe(exc)}", file=sys.stderr, flush=True)


async def on_every_host(
    fleet: Fleet, work: Callable[[Docker], Awaitable[T]]
) -> tuple[list[tuple[str, T]], bool]:
    """Each host's answer, in the order the hosts were given, and whether any failed (each
    failure said on stderr). With one host its error is raised as it is."""
    results = await fleet.run(work)
    answers: list[tuple[str, T]] = []
    failed = False
    for result in results.values():
        if result.error is not None:
            if not _many(fleet):
                raise result.error
            host_failed(result.host, result.error)
            failed = True
        else:
            answers.append((result.host, result.value))  # type: ignore[arg-type]  # T, not None
    return answers, failed


def _formatter(
    args: argparse.Namespace, default: str, kind: str, headers: dict[str, str], many: bool
) -> Formatter | None:
    """The --format (docker's default table without one), checked before any request."""
    if args.format is not None and args.json:
        raise CliError("--format goes without --json", status=125)
    if args.json or args.quiet:
        return None
    return Formatter(args.format, default, header_context(kind, headers), many=many)


async def cmd_ps(fleet: Fleet, args: argparse.Namespace) -> int:
    """ps: containers, as a table, ids, --format lines or JSON lines."""
    many = _many(fleet)
    default = DEFAULT_PS + ("\t{{.Size}}" if args.size else "")
    formatter = _formatter(args, default, "container", PS_HEADERS, many)
    # As docker: sizes are asked for when the template reads them ({{json .}} reads all).
    size = args.size or bool(re.search(r"\.Size\b|json\s+\.\s*}}", args.format or ""))
    last = 1 if args.latest else args.last

    async def ask(docker: Docker) -> list[ContainerSummary]:
        return list(
            await docker.containers.list(
                all=args.all or last is not None,
                limit=last,
                size=size,
                filters=filters(args.filter),
            )
        )

    answers, failed = await on_every_host(fleet, ask)
    found = [(host, c) for host, containers in answers for c in containers]
    if formatter is not None:
        trunc = not args.no_trunc
        formatter.write(container_context(c, trunc=trunc, host=h, many=many) for h, c in found)
    elif args.quiet:
        for _, c in found:
            out(short_id(c.id, args.no_trunc))
    else:
        for host, c in found:
            json_line(c, host=host if many else None)
    return 1 if failed else 0


async def cmd_images(fleet: Fleet, args: argparse.Namespace) -> int:
    """images: images, one line per tag."""
    many = _many(fleet)
    default = DEFAULT_IMAGES_DIGESTS if args.digests else DEFAULT_IMAGES
    formatter = _formatter(args, default, "image", IMAGE_HEADERS, many)
    digests = args.digests or "{{.Digest}}" in (args.format or "").replace(" ", "")
    wanted = filters(args.filter)
    if args.reference:
        wanted.setdefault("reference", []).append(args.reference)

    async def ask(docker: Docker) -> list[ImageSummary]:
        return list(await docker.images.list(all=args.all, filters=wanted))

    answers, failed = await on_every_host(fleet, ask)
    found = [(host, image) for host, images in answers for image in images]
    if formatter is not None:
        formatter.write(
            row
            for host, image in found
            for row in image_contexts(
                image, trunc=not args.no_trunc, digests=digests, host=host, many=many
            )
        )
    elif args.quiet:
        seen: set[tuple[str, str]] = set()
        for host, image in found:
            short = short_id(image.id, args.no_trunc)
            if (host, short) not in seen:
                seen.add((host, short))
                out(short)
    else:
        for host, image in found:
            json_line(image, host=host if many else None)
    return 1 if failed else 0


EVENT_GO_NAMES = {
    "status": "Status",
    "id": "ID",
    "from": "From",
    "scope": "Scope",
    "time": "Time",
    "timeNano": "TimeNano",
}


def event_context(event: EventMessage, host: str | None) -> Context:
    """An event as docker's templates see it: the deprecated status, id and from first (when
    the daemon sent them), its attributes a Go map (a missing one is "<no value>")."""
    data = api_dict(event)
    if isinstance(data.get("Actor"), dict):
        data["Actor"]["Attributes"] = GoMap(data["Actor"].get("Attributes") or {})
    old = {k: data.pop(k) for k in ("status", "id", "from") if k in data}
    data = {**{k: v for k, v in old.items() if v is not None}, **data}
    fields = go_context("event", data, EVENT_GO_NAMES, **({"Host": host} if host else {}))
    for name in ("Status", "ID", "From"):
        fields.fields.setdefault(name, "")
    return fields


class _EventPrinter:
    """An event as a line: docker's, --json, or --format's (a "host" field with many)."""

    def __init__(self, args: argparse.Namespace, many: bool) -> None:
        if args.format is not None and args.json:
            raise CliError("--format goes without --json", status=125)
        self.args, self.many = args, many
        self.formatter = None
        if args.format is not None:
            self.formatter = Formatter(args.format, "", Context("event", {}, []), check=False)

    def __call__(self, event: EventMessage, host: str) -> None:
        if self.formatter is not None:
            self.formatter.write([event_context(event, host if self.many else None)])
        elif self.args.json:
            json_line(event, host=host if self.many else None)
        else:
            out(f"{host} {event_line(event)}" if self.many else event_line(event))


async def cmd_events(fleet: Fleet, args: argparse.Namespace) -> int:
    """events: follow the daemons' events until --until or Ctrl-C."""
    wanted = filters(args.filter)
    show = _EventPrinter(args, _many(fleet))
    if not _many(fleet):
        [(host, docker)] = fleet.clients.items()
        events = docker.system.events(since=args.since, until=args.until, filters=wanted)
        async with aclosing(events):
            async for event in events:
                show(event, host)
        return 0
    failed = False
    async with fleet.events(since=args.since, until=args.until, filters=wanted) as merged:
        async for item in merged:
            if item.error is not None:
                host_failed(item.host, item.error)
                failed = True
            elif item.event is not None:
                show(item.event, item.host)
    return 1 if failed else 0
