"""version, inspect, tag and rmi: as `docker` prints them, --format included."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from .. import __version__
from ..client import Docker
from ..errors import DockerError, NotFound
from ..fleet import Fleet
from ..models import SystemVersion
from ..versions import MAX_API_VERSION
from .apidata import api_dict, go_context
from .args import PROG, Commands
from .formats import CliError, describe, out
from .output import Formatter
from .template import Context

INSPECT_TYPES = ("container", "image", "network", "volume")


def add_parsers(command: Commands) -> None:
    """The flags of version, inspect, tag and rmi."""
    sub = command("version", "Show the client's and the daemon's versions")
    sub.add_argument("-f", "--format", metavar="TEMPLATE", help="a Go template, e.g. "
                     "'{{.Server.Version}}' or '{{json .}}'")  # fmt: skip

    sub = command("inspect", "Show containers, images, networks or volumes as JSON")
    sub.add_argument("names", nargs="+", metavar="NAME|ID")
    sub.add_argument("--type", choices=INSPECT_TYPES, help="look only for this kind")
    sub.add_argument("-f", "--format", metavar="TEMPLATE", help="a Go template, e.g. "
                     "'{{.State.Status}}'")  # fmt: skip
    sub.add_argument("-s", "--size", action="store_true", help="containers' sizes too")

    sub = command("tag", "Give an image another name")
    sub.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    sub.add_argument("target", metavar="TARGET_IMAGE[:TAG]")

    sub = command("rmi", "Remove one or more images")
    sub.add_argument("images", nargs="+", metavar="IMAGE")
    sub.add_argument("-f", "--force", action="store_true", help="even if in use or tagged twice")
    sub.add_argument("--no-prune", action="store_true", help="keep untagged parents")


def _formatter(text: str, kind: str) -> Formatter:
    # The header check has nothing to check against: API objects are looked at per object.
    return Formatter(text, "", Context(kind, {}, []), check=False)


def _client_context(docker: Docker) -> Context:
    fields = {
        "Platform": {"Name": "aiodockerapi"},
        "Version": __version__,
        "ApiVersion": docker.api_version or "",
        "DefaultAPIVersion": MAX_API_VERSION,
        "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}",
        "Os": sys.platform,
        "Arch": platform.machine(),
        "BuildTime": "",
        "Context": "",
    }
    return go_context("client", fields)


def _version_text(docker: Docker, version: SystemVersion, host: str, many: bool) -> None:
    out("Server:" + (f" {version.platform.name}" if version.platform.name else ""))
    if many:
        out(f" Host:             {host}")
    for component in version.components or ():
        out(f" {component.name}:")
        details = dict(component.details or {})
        if component.name == "Engine":
            api = details.pop("ApiVersion", version.api_version)
            minimum = details.pop("MinAPIVersion", version.min_api_version)
            rows = [
                ("Version", component.version),
                ("API version", f"{api} (minimum version {minimum})"),
                ("Go version", details.pop("GoVersion", "")),
                ("Git commit", details.pop("GitCommit", "")),
                ("Built", details.pop("BuildTime", "")),
                ("OS/Arch", f"{details.pop('Os', '')}/{details.pop('Arch', '')}"),
                ("Experimental", details.pop("Experimental", "")),
            ]
            details.pop("KernelVersion", None)
        else:
            rows = [("Version", component.version)]
        rows += sorted(details.items())
        for key, value in rows:
            out(f"  {key + ':':<18}{value}")


async def cmd_version(fleet: Fleet, args: argparse.Namespace) -> int:
    """version: the client's, then each daemon's."""
    from .listing import on_every_host

    formatter = _formatter(args.format, "version") if args.format else None

    async def ask(docker: Docker) -> tuple[Docker, SystemVersion]:
        return docker, await docker.system.version()

    answers, failed = await on_every_host(fleet, ask)
    many = len(fleet.clients) > 1
    for n, (host, (docker, version)) in enumerate(answers):
        client = _client_context(docker)
        if formatter is not None:
            extra = {"Host": host} if many else {}
            server = go_context("server", api_dict(version))
            formatter.write([go_context("version", {"Client": client, "Server": server}, **extra)])
            continue
        if n == 0:
            out("Client:")
            for key, value in (
                ("Version", __version__),
                ("API version", client.fields["ApiVersion"]),
                ("Python version", platform.python_version()),
                ("OS/Arch", f"{sys.platform}/{platform.machine()}"),
            ):
                out(f" {key + ':':<19}{value}")
        out()
        _version_text(docker, version, host, many)
    return 1 if failed else 0


async def _inspect_one(docker: Docker, name: str, kind: str | None, size: bool) -> Any:
    """The API's inspect answer for the first kind of object that has this name."""
    lookups: dict[str, Callable[[], Awaitable[Any]]] = {
        "container": lambda: docker.containers.inspect(name, size=size),
        "image": lambda: docker.images.inspect(name),
        "network": lambda: docker.networks.inspect(name),
        "volume": lambda: docker.volumes.inspect(name),
    }
    for kind_name in [kind] if kind else INSPECT_TYPES:
        try:
            return await lookups[kind_name]()
        except NotFound:
            continue
    raise NotFound(None, f"No such object: {name}" if not kind else f"No such {kind}: {name}")


async def cmd_inspect(fleet: Fleet, args: argparse.Namespace) -> int:
    """inspect: each name's object as the API describes it (a JSON array, or --format)."""
    from .listing import host_failed

    formatter = _formatter(args.format, "object") if args.format else None
    many = len(fleet.clients) > 1
    found: list[Any] = []
    failed = False
    for host, docker in fleet.clients.items():
        for name in args.names:
            try:
                obj = await _inspect_one(docker, name, args.type, args.size)
            except DockerError as exc:
                if many:
                    host_failed(host, exc)
                else:
                    print(f"{PROG}: error: {describe(exc)}", file=sys.stderr, flush=True)
                failed = True
                continue
            data = api_dict(obj)
            if formatter is not None:
                # The API's names (.Id) and Go's (.ID) both work, as with docker.
                extra = {"Host": host} if many else {}
                formatter.write([go_context("object", data, **extra)])
            else:
                found.append({"Host": host, **data} if many else data)
    if formatter is None:
        raw = msgspec.json.format(msgspec.json.encode(found), indent=4).decode()
        out(raw if found else "[]")
    return 1 if failed else 0


def _split_ref(ref: str) -> tuple[str, str | None]:
    repo, sep, tag = ref.rpartition(":")
    if sep and "/" not in tag:
        return repo, tag
    return ref, None


async def cmd_tag(docker: Docker, args: argparse.Namespace) -> int:
    """tag: SOURCE gets the name TARGET (TARGET's tag, or latest)."""
    repo, tag = _split_ref(args.target)
    if "@" in args.target:
        raise CliError(f"invalid target {args.target!r}: a tag cannot be a digest", status=125)
    await docker.images.tag(args.source, repo=repo, tag=tag or "latest")
    return 0


async def cmd_rmi(docker: Docker, args: argparse.Namespace) -> int:
    """rmi: untag each image given, and delete it when no name is left."""
    failed = False
    for name in args.images:
        try:
            items = await docker.images.delete(name, force=args.force, noprune=args.no_prune)
        except DockerError as exc:
            print(f"{PROG}: error: {describe(exc)}", file=sys.stderr, flush=True)
            failed = True
            continue
        for item in items:
            if item.untagged:
                out(f"Untagged: {item.untagged}")
            if item.deleted:
                out(f"Deleted: {item.deleted}")
    return 1 if failed else 0
