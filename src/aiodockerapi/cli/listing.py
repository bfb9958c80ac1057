"""The commands that run on every host given at once: info, ps, images, events.

With one host they print as the docker CLI does. With several (-H/--context repeated) they
ask every host at once through a Fleet: a HOST column (a "host" field in JSON lines), and a
host that fails is one line on stderr while the others print; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import NoReturn, TypeVar

from ..client import Docker
from ..fleet import Fleet
from ..models import ContainerSummary, ImageSummary, SystemInfo
from .formats import (
    CONTAINER_COLUMNS,
    CONTAINER_FIELDS,
    CONTAINER_HEADERS,
    IMAGE_COLUMNS,
    IMAGE_FIELDS,
    IMAGE_HEADERS,
    CliError,
    Template,
    container_fields,
    describe,
    event_line,
    human_size,
    image_fields,
    json_line,
    out,
    short_id,
    table,
)
from .parser import PROG, filters

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


def _print_rows(
    args: argparse.Namespace,
    rows: list[dict[str, str]],
    headers: list[str],
    columns: tuple[str, ...],
    many: bool,
) -> None:
    if args.format is not None:
        template = args.format
        for row in rows:
            out(template.render(row))
        return
    if many:
        headers, columns = ["HOST", *headers], ("Host", *columns)
    table(headers, [[row[c] for c in columns] for row in rows])


async def cmd_info(fleet: Fleet, args: argparse.Namespace) -> int:
    """info: what the daemon says about itself."""

    async def ask(docker: Docker) -> tuple[Docker, SystemInfo]:
        return docker, await docker.system.info()

    answers, failed = await on_every_host(fleet, ask)
    for n, (host, (docker, info)) in enumerate(answers):
        if args.json:
            json_line(info, indent=0 if _many(fleet) else 2, host=host if _many(fleet) else None)
            continue
        if n:
            out()
        _info_text(docker, info, host if _many(fleet) else "")
    return 1 if failed else 0


def _info_text(docker: Docker, info: SystemInfo, host: str) -> None:
    rows: list[tuple[str, object]] = [
        ("Host", docker.host),
        ("Server Version", info.server_version),
        ("API Version", docker.api_version),
        ("Containers", info.containers),
        (" Running", info.containers_running),
        (" Paused", info.containers_paused),
        (" Stopped", info.containers_stopped),
        ("Images", info.images),
        ("Storage Driver", info.driver),
        ("Logging Driver", info.logging_driver),
        ("Cgroup Driver", info.cgroup_driver),
        ("Cgroup Version", info.cgroup_version),
        ("Kernel Version", info.kernel_version),
        ("Operating System", info.operating_system),
        ("OSType", info.os_type),
        ("Architecture", info.architecture),
        ("CPUs", info.ncpu),
        ("Total Memory", human_size(info.mem_total) if info.mem_total else None),
        ("Name", info.name),
        ("ID", info.id),
        ("Docker Root Dir", info.docker_root_dir),
        ("Debug Mode", info.debug),
    ]
    for name, value in rows:
        if value is not None:
            out(f"{name}: {value}")
    for warning in info.warnings or ():
        print(f"{host}: {warning}" if host else warning, file=sys.stderr)


def template(args: argparse.Namespace, fields: tuple[str, ...]) -> None:
    """Check --format against the fields before asking any daemon."""
    if args.format is not None:
        if args.json or args.quiet:
            raise_usage("--format goes without --json and --quiet")
        args.format = Template(args.format, fields)


def raise_usage(message: str) -> NoReturn:
    raise CliError(message, status=2)


async def cmd_ps(fleet: Fleet, args: argparse.Namespace) -> int:
    """ps: containers, as a table, ids, --format lines or JSON lines."""
    template(args, CONTAINER_FIELDS)
    last = 1 if args.latest else args.last

    async def ask(docker: Docker) -> list[ContainerSummary]:
        return list(
            await docker.containers.list(
                all=args.all or last is not None, limit=last, filters=filters(args.filter)
            )
        )

    answers, failed = await on_every_host(fleet, ask)
    many = _many(fleet)
    found = [(host, c) for host, containers in answers for c in containers]
    if args.quiet:
        for _, c in found:
            out(short_id(c.id, args.no_trunc))
    elif args.json:
        for host, c in found:
            json_line(c, host=host if many else None)
    else:
        rows = [container_fields(c, args.no_trunc, host) for host, c in found]
        _print_rows(args, rows, CONTAINER_HEADERS, CONTAINER_COLUMNS, many)
    return 1 if failed else 0


async def cmd_images(fleet: Fleet, args: argparse.Namespace) -> int:
    """images: images, one line per tag."""
    template(args, IMAGE_FIELDS)
    wanted = filters(args.filter)
    if args.reference:
        wanted.setdefault("reference", []).append(args.reference)

    async def ask(docker: Docker) -> list[ImageSummary]:
        return list(await docker.images.list(all=args.all, filters=wanted))

    answers, failed = await on_every_host(fleet, ask)
    many = _many(fleet)
    found = [(host, image) for host, images in answers for image in images]
    if args.quiet:
        seen: set[tuple[str, str]] = set()
        for host, image in found:
            short = short_id(image.id, args.no_trunc)
            if (host, short) not in seen:
                seen.add((host, short))
                out(short)
    elif args.json:
        for host, image in found:
            json_line(image, host=host if many else None)
    else:
        rows = [row for host, i in found for row in image_fields(i, args.no_trunc, host)]
        _print_rows(args, rows, IMAGE_HEADERS, IMAGE_COLUMNS, many)
    return 1 if failed else 0


async def cmd_events(fleet: Fleet, args: argparse.Namespace) -> int:
    """events: follow the daemons' events until --until or Ctrl-C."""
    wanted = filters(args.filter)
    if not _many(fleet):
        [docker] = fleet.clients.values()
        events = docker.system.events(since=args.since, until=args.until, filters=wanted)
        async with aclosing(events):
            async for event in events:
                if args.json:
                    json_line(event)
                else:
                    out(event_line(event))
        return 0
    failed = False
    async with fleet.events(since=args.since, until=args.until, filters=wanted) as merged:
        async for item in merged:
            if item.error is not None:
                host_failed(item.host, item.error)
                failed = True
            elif item.event is not None:
                if args.json:
                    json_line(item.event, host=item.host)
                else:
                    out(f"{item.host} {event_line(item.event)}")
    return 1 if failed else 0
