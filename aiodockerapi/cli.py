"""The ``aiodockerapi`` command: a small docker CLI built on the library.

Every command runs in one ``asyncio.run``. Whatever goes wrong (the daemon is down, it
refuses the request, a file is missing) is one line on stderr, ``aiodockerapi: error:
...``, and exit status 1; a bad flag is exit status 2, Ctrl-C is 130, and ``run`` exits
with the container's own status.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import anyio.to_thread
import msgspec

from . import __version__
from .auth import AuthInput, load_config, resolve_auth
from .buildkit import BuildFailed, protobuf_available, run_build
from .client import Docker
from .errors import DockerConnectionError, DockerError, NotFound
from .hosts import TLSConfig, config_dir
from .models import (
    ContainerCreateResponse,
    ContainerSummary,
    EventMessage,
    ImageID,
    ImageSummary,
    PingResponse,
    StreamType,
    SystemVersion,
)
from .params import timestamp
from .progress import show_progress

__all__ = ["CliError", "main"]

PROG = "aiodockerapi"

T = TypeVar("T")

Handler = Callable[[Docker, argparse.Namespace], Awaitable[int]]


class CliError(Exception):
    """A problem with what the command was asked to do; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


# -- argument types ----------------------------------------------------------------------


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _key_maybe_value(text: str) -> tuple[str, str | None]:
    key, sep, value = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError(f"expected KEY or KEY=VALUE, got {text!r}")
    return key, value if sep else None


def _filters(pairs: Sequence[tuple[str, str]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs or ():
        out.setdefault(key, []).append(value)
    return out


def _from_env(pairs: Sequence[tuple[str, str | None]] | None) -> dict[str, str]:
    """KEY=VALUE pairs; a bare KEY takes its value from the environment (or is left out)."""
    out: dict[str, str] = {}
    for key, value in pairs or ():
        if value is None:
            value = os.environ.get(key)
            if value is None:
                continue
        out[key] = value
    return out


def _labels(pairs: Sequence[tuple[str, str | None]] | None) -> dict[str, str]:
    return {key: value or "" for key, value in pairs or ()}


def point_in_time(text: str) -> str:
    """A --since/--until value as the docker CLI reads it: Unix seconds, an RFC 3339 date or
    time, or a duration before now like 10m or 1h30m (see params.timestamp)."""
    try:
        return timestamp(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected Unix seconds, an RFC 3339 time or a duration like 10m, got {text!r}"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


# -- output helpers ----------------------------------------------------------------------


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _json_line(value: Any, *, indent: int = 0) -> None:
    raw = msgspec.json.encode(value)
    if indent:
        raw = msgspec.json.format(raw, indent=indent)
    _out(raw.decode())


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        _out(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def human_size(size: int | None) -> str:
    """Bytes the way the docker CLI prints them: 3 significant digits, powers of 1000."""
    value = float(size or 0)
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    unit = 0
    while value >= 999.5 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    return f"{value:.3g}{units[unit]}"


def human_duration(seconds: float) -> str:
    """A duration the way the docker CLI words it ("About a minute", "3 hours")."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(s / 3600)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // (24 * 7)} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // (24 * 30)} months"
    return f"{hours // (24 * 365)} years"


def _ago(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return human_duration(time.time() - timestamp) + " ago"


@asynccontextmanager
async def _closing(stream: AsyncIterator[T]) -> AsyncIterator[None]:
    """Close a stream when the block ends, however it ends (a closed pipe, Ctrl-C)."""
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _short_id(value: str | None, full: bool = False) -> str:
    value = (value or "").removeprefix("sha256:")
    return value if full else value[:12]


def _tagged(ref: str) -> bool:
    return "@" in ref or ":" in ref.rpartition("/")[2]


# -- connecting --------------------------------------------------------------------------


def _tls(args: argparse.Namespace) -> TLSConfig | bool | None:
    flags = args.tls or args.tlsverify or args.tlscacert or args.tlscert or args.tlskey
    if not flags:
        # As the docker CLI does, DOCKER_TLS_VERIFY applies to --host too.
        return True if args.host and os.environ.get("DOCKER_TLS_VERIFY") else None
    if bool(args.tlscert) != bool(args.tlskey):
        raise CliError("--tlscert and --tlskey go together", status=2)
    verify = args.tlsverify or not args.tls
    defaults = TLSConfig.from_cert_path(
        os.environ.get("DOCKER_CERT_PATH") or config_dir(), verify=verify
    )
    client_cert = (args.tlscert, args.tlskey) if args.tlscert else defaults.client_cert
    return TLSConfig(
        ca_cert=args.tlscacert or defaults.ca_cert, client_cert=client_cert, verify=verify
    )


def connect(args: argparse.Namespace) -> Docker:
    """The client the global flags (--host or --context, TLS) ask for."""
    if args.context is not None and args.host is not None:
        raise CliError("give --host or --context, not both", status=2)
    return Docker(args.host, context=args.context, tls=_tls(args))


# -- commands ----------------------------------------------------------------------------


async def cmd_info(docker: Docker, args: argparse.Namespace) -> int:
    """info: what the daemon says about itself."""
    info = await docker.system.info()
    if args.json:
        _json_line(info, indent=2)
        return 0
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
            _out(f"{name}: {value}")
    for warning in info.warnings or ():
        print(warning, file=sys.stderr)
    return 0


def _container_row(c: ContainerSummary, full: bool) -> list[str]:
    command = c.command or ""
    if not full and len(command) > 20:
        command = command[:19] + "…"
    names = ",".join(name.removeprefix("/") for name in c.names or ())
    image = c.image or ""
    if image.startswith("sha256:") and not full:
        image = _short_id(image)
    return [
        _short_id(c.id, full),
        image,
        f'"{command}"',
        _ago(c.created),
        c.status or "",
        names,
    ]


async def cmd_ps(docker: Docker, args: argparse.Namespace) -> int:
    """ps: containers, as a table, ids or JSON lines."""
    containers = await docker.containers.list(
        all=args.all or args.last is not None, limit=args.last, filters=_filters(args.filter)
    )
    if args.quiet:
        for c in containers:
            _out(_short_id(c.id, args.no_trunc))
    elif args.json:
        for c in containers:
            _json_line(c)
    else:
        headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"]
        _table(headers, [_container_row(c, args.no_trunc) for c in containers])
    return 0


def _image_rows(image: ImageSummary, full: bool) -> list[list[str]]:
    tags = [t for t in image.repo_tags or () if t != "<none>:<none>"] or ["<none>:<none>"]
    rows = []
    for ref in tags:
        repo, _, tag = ref.rpartition(":")
        rows.append(
            [repo, tag, _short_id(image.id, full), _ago(image.created), human_size(image.size)]
        )
    return rows


async def cmd_images(docker: Docker, args: argparse.Namespace) -> int:
    """images: images, one line per tag."""
    filters = _filters(args.filter)
    if args.reference:
        filters.setdefault("reference", []).append(args.reference)
    images = await docker.images.list(all=args.all, filters=filters)
    if args.quiet:
        seen: set[str] = set()
        for image in images:
            short = _short_id(image.id, args.no_trunc)
            if short not in seen:
                seen.add(short)
                _out(short)
    elif args.json:
        for image in images:
            _json_line(image)
    else:
        rows = [row for image in images for row in _image_rows(image, args.no_trunc)]
        _table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows)
    return 0


def event_line(event: EventMessage) -> str:
    """One event as `docker events` prints it (with the time in UTC)."""
    nanos = event.time_nano or event.time * 10**9
    seconds, fraction = divmod(nanos, 10**9)
    when = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    actor = event.actor
    line = f"{when}.{fraction:09d}Z {event.type} {event.action}"
    if actor is not None and actor.id:
        line += f" {actor.id}"
    attributes = sorted((actor.attributes or {}).items()) if actor else []
    if attributes:
        line += " (" + ", ".join(f"{k}={v}" for k, v in attributes) + ")"
    return line


async def cmd_events(docker: Docker, args: argparse.Namespace) -> int:
    """events: follow the daemon's events until --until or Ctrl-C."""
    events = docker.system.events(since=args.since, until=args.until, filters=_filters(args.filter))
    async with _closing(events):
        async for event in events:
            if args.json:
                _json_line(event)
            else:
                _out(event_line(event))
    return 0


async def cmd_logs(docker: Docker, args: argparse.Namespace) -> int:
    """logs: a container's stdout to stdout, its stderr to stderr."""
    frames = docker.containers.logs(
        args.container,
        stdout=True,
        stderr=True,
        follow=args.follow,
        since=args.since,
        until=args.until,
        timestamps=args.timestamps,
        tail=args.tail,
    )
    async with _closing(frames):
        async for frame in frames:
            _write_frame(frame.stream, frame.data)
    return 0


def _write_frame(stream: StreamType, data: bytes) -> None:
    out = sys.stderr if stream == StreamType.STDERR else sys.stdout
    out.buffer.write(data)
    out.buffer.flush()


def _build_paths(path: str, file: str | None) -> tuple[Path, str | None]:
    """The context directory and the Dockerfile's path inside it."""
    context = Path(path)
    if not context.is_dir():
        raise CliError(f"build context {path!r} is not a directory")
    if file is None:
        return context, None
    relative = os.path.relpath(Path(file).resolve(), context.resolve())
    if relative.startswith(".."):
        raise CliError(f"the Dockerfile {file!r} must be inside the build context")
    return context, Path(relative).as_posix()


async def _known_credentials() -> dict[str, AuthInput]:
    """Credentials for every registry the Docker config knows, as the docker CLI sends them
    with a build (for the base images it pulls)."""
    config = await anyio.to_thread.run_sync(load_config)
    found: dict[str, AuthInput] = {}
    for registry in {*config.auths, *config.cred_helpers}:
        auth = await resolve_auth(registry, config)
        if auth is not None:
            found[registry] = auth
    return found


def default_builder(
    ping: PingResponse, version: SystemVersion | None = None, *, decodes: bool = True
) -> str:
    """The builder `build` uses without --builder: "buildkit" where the daemon has BuildKit,
    else "classic".

    dockerd answers /_ping with a Builder-Version header: "2" when BuildKit is its default,
    "1" when it says to use the classic builder; dockerd 20.10 sends none, and builds with
    BuildKit on request all the same. Podman sends it empty: without "1" or "2" the daemon's
    /version (`version`) tells Podman (whose builder is Buildah) and Windows (no BuildKit)
    apart. Without protobuf (`decodes`) BuildKit's steps could not be shown: classic then.
    """
    builder = (ping.builder_version or "").strip()
    if builder in ("1", "2"):
        has_buildkit = builder == "2"
    else:
        names = [c.name.lower() for c in (version.components or [])] if version else []
        podman = any("podman" in name for name in names)
        windows = (ping.os_type or (version.os if version else "") or "").lower() == "windows"
        has_buildkit = not podman and not windows
    return "buildkit" if has_buildkit and decodes else "classic"


async def _choose_builder(docker: Docker) -> str:
    ping = await docker.system.ping()
    version = None
    if (ping.builder_version or "").strip() not in ("1", "2"):
        version = await docker.system.version()
    return default_builder(ping, version, decodes=protobuf_available())


def _build_failure(exc: BuildFailed) -> CliError:
    """A failed BuildKit step: one error line naming it, then its last lines of output."""
    if exc.step is None:
        return CliError(describe(exc))
    head = describe(
        DockerError(
            None, f"{exc.step.name or exc.step.digest}: {exc.step.error or exc.daemon_message}"
        )
    )
    return CliError("\n".join([head, *(f"  | {line}" for line in exc.log)]))


async def cmd_build(docker: Docker, args: argparse.Namespace) -> int:
    """build: a directory, with the steps and any pulls shown live; then the image id."""
    context, dockerfile = _build_paths(args.path, args.file)
    builder = args.builder or await _choose_builder(docker)
    buildkit = builder == "buildkit"
    stream = docker.images.build(
        context,
        dockerfile=dockerfile,
        t=args.tag or None,
        buildargs=_from_env(args.build_arg) or None,
        labels=_labels(args.label) or None,
        nocache=args.no_cache,
        pull=args.pull or None,
        target=args.target,
        networkmode=args.network,
        q=args.quiet and not buildkit,
        version="2" if buildkit else "1",
        auth_configs=await _known_credentials() or None,
    )
    try:
        if args.quiet and buildkit:
            image_id = (await run_build(stream)).image_id or ""
        elif args.quiet:
            image_id = ""
            async with _closing(stream):
                async for message in stream:
                    if isinstance(message.aux, ImageID) and message.aux.id:
                        image_id = message.aux.id
                    elif message.stream and message.stream.strip():
                        image_id = message.stream.strip()  # quiet builds say only the id
        else:
            image_id = (await show_progress(stream, sys.stdout)).image_id or ""
    except BuildFailed as exc:
        raise _build_failure(exc) from exc
    if image_id:
        _out(image_id)
    return 0


async def _pull(docker: Docker, ref: str, *, quiet: bool, out: Any, **kwargs: Any) -> None:
    stream = docker.images.pull(ref, **kwargs)
    if quiet:
        async with _closing(stream):
            async for _ in stream:
                pass
    else:
        await show_progress(stream, out)


async def cmd_pull(docker: Docker, args: argparse.Namespace) -> int:
    """pull: an image, with live progress."""
    await _pull(
        docker,
        args.image,
        quiet=args.quiet,
        out=sys.stdout,
        all_tags=args.all_tags,
        platform=args.platform,
    )
    _out(args.image if _tagged(args.image) or args.all_tags else f"{args.image}:latest")
    return 0


async def cmd_push(docker: Docker, args: argparse.Namespace) -> int:
    """push: an image, with live progress."""
    tag = None if _tagged(args.image) or args.all_tags else "latest"
    stream = docker.images.push(args.image, tag=tag)
    if args.quiet:
        async with _closing(stream):
            async for _ in stream:
                pass
        _out(args.image if tag is None else f"{args.image}:{tag}")
    else:
        await show_progress(stream, sys.stdout)
    return 0


async def _create(docker: Docker, args: argparse.Namespace) -> ContainerCreateResponse:
    host_config: dict[str, Any] = {}
    if args.network is not None:
        host_config["NetworkMode"] = args.network
    if args.rm and args.detach:
        host_config["AutoRemove"] = True
    body: dict[str, Any] = {
        "Image": args.image,
        "AttachStdout": not args.detach,
        "AttachStderr": not args.detach,
        "HostConfig": host_config,
    }
    if args.command:
        body["Cmd"] = list(args.command)
    if args.entrypoint is not None:
        body["Entrypoint"] = [args.entrypoint] if args.entrypoint else [""]
    if args.env:
        body["Env"] = [f"{k}={v}" for k, v in _from_env(args.env).items()]
    if args.label:
        body["Labels"] = _labels(args.label)
    if args.workdir:
        body["WorkingDir"] = args.workdir
    if args.user:
        body["User"] = args.user
    options: dict[str, Any] = {"name": args.name, "platform": args.platform}
    if args.pull == "always":
        await _pull(docker, args.image, quiet=args.quiet, out=sys.stderr, platform=args.platform)
    try:
        return await docker.containers.create(body, **options)
    except NotFound as exc:
        if args.pull != "missing" or "No such image" not in exc.message:
            raise
    if not args.quiet:
        print(f"Unable to find image {args.image!r} locally", file=sys.stderr, flush=True)
    await _pull(docker, args.image, quiet=args.quiet, out=sys.stderr, platform=args.platform)
    return await docker.containers.create(body, **options)


async def cmd_run(docker: Docker, args: argparse.Namespace) -> int:
    """run: create, start, stream the output; return the container's exit status."""
    created = await _create(docker, args)
    cid = created.id
    if not cid:
        raise DockerError(None, "the daemon created a container but sent no id")
    for warning in created.warnings or ():
        print(f"WARNING: {warning}", file=sys.stderr)
    if args.detach:
        await docker.containers.start(cid)
        _out(cid)
        return 0
    try:
        async with docker.containers.attach(cid, stdout=True, stderr=True, tty=False) as io:
            await docker.containers.start(cid)
            async for frame in io:
                _write_frame(frame.stream, frame.data)
        waited = await docker.containers.wait(cid)
        if waited.error is not None and waited.error.message:
            raise DockerError(None, f"waiting for {cid[:12]}: {waited.error.message}")
        return waited.status_code or 0
    finally:
        if args.rm:
            await docker.containers.delete(cid, force=True)


def _confirm_prune(args: argparse.Namespace) -> None:
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
    filters = _filters(args.filter)
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
            _out(f"{title}:")
            for item in items:
                _out(item)
            _out()
    reclaimed = sum(
        r.space_reclaimed or 0 for r in (containers, volumes, images, cache) if r is not None
    )
    _out(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0


# -- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line: global connection flags, then one command."""
    parser = _Parser(
        prog=PROG,
        description="A small docker CLI built on aiodockerapi.",
        epilog="Each command has --help. Without --host or --context: DOCKER_HOST, else the "
        "current Docker context, else the default socket.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    conn = parser.add_argument_group("connection")
    conn.add_argument(
        "-H",
        "--host",
        help="daemon to talk to: unix:///path, tcp://host:port, ssh://user@host (or DOCKER_HOST)",
    )
    conn.add_argument(
        "-c", "--context", help="Docker context to use (or DOCKER_CONTEXT); instead of --host"
    )
    conn.add_argument("--tls", action="store_true", help="use TLS without verifying the daemon")
    conn.add_argument("--tlsverify", action="store_true", help="use TLS and verify the daemon")
    conn.add_argument("--tlscacert", metavar="PATH", help="CA certificate to trust")
    conn.add_argument("--tlscert", metavar="PATH", help="client certificate")
    conn.add_argument("--tlskey", metavar="PATH", help="client certificate's key")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    def add_filter(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "-f",
            "--filter",
            action="append",
            type=_key_value,
            metavar="KEY=VALUE",
            help="filter (repeatable), as the API names them: status=exited, label=a=b",
        )

    sub = command("info", cmd_info, "Show what the daemon says about itself")
    sub.add_argument("--json", action="store_true", help="print the API's JSON")

    sub = command("ps", cmd_ps, "List containers")
    sub.add_argument("-a", "--all", action="store_true", help="stopped ones too")
    sub.add_argument("-n", "--last", type=_positive, metavar="N", help="the N newest (any state)")
    sub.add_argument("-q", "--quiet", action="store_true", help="only ids")
    sub.add_argument("--no-trunc", action="store_true", help="full ids and commands")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    add_filter(sub)

    sub = command("images", cmd_images, "List images")
    sub.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    sub.add_argument("-a", "--all", action="store_true", help="intermediate images too")
    sub.add_argument("-q", "--quiet", action="store_true", help="only ids")
    sub.add_argument("--no-trunc", action="store_true", help="full ids")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    add_filter(sub)

    sub = command("events", cmd_events, "Follow the daemon's events (until --until, or Ctrl-C)")
    sub.add_argument(
        "--since", type=point_in_time, help="from this time: Unix seconds, RFC 3339, or 10m"
    )
    sub.add_argument("--until", type=point_in_time, help="stop at this time (then exit)")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    add_filter(sub)

    sub = command("logs", cmd_logs, "Print a container's output (stderr to stderr)")
    sub.add_argument("container")
    sub.add_argument("-f", "--follow", action="store_true", help="keep following")
    sub.add_argument("-n", "--tail", type=_positive, metavar="N", help="only the last N lines")
    sub.add_argument("-t", "--timestamps", action="store_true", help="prefix each line's time")
    sub.add_argument("--since", type=point_in_time, help="from this time (as for events)")
    sub.add_argument("--until", type=point_in_time, help="up to this time")

    sub = command("build", cmd_build, "Build an image from a directory, showing progress")
    sub.add_argument("path", metavar="PATH", help="the build context directory")
    sub.add_argument(
        "-t", "--tag", action="append", metavar="NAME[:TAG]", help="tag the image (repeatable)"
    )
    sub.add_argument("-f", "--file", metavar="PATH", help="the Dockerfile (inside PATH)")
    sub.add_argument(
        "--build-arg",
        action="append",
        type=_key_maybe_value,
        metavar="KEY[=VALUE]",
        help="build argument (repeatable; a bare KEY reads the environment)",
    )
    sub.add_argument(
        "--label", action="append", type=_key_maybe_value, metavar="KEY[=VALUE]", help="label"
    )
    sub.add_argument("--no-cache", action="store_true", help="do not use the cache")
    sub.add_argument("--pull", action="store_true", help="always pull newer base images")
    sub.add_argument("--target", help="stop at this stage")
    sub.add_argument("--network", help="network mode of the RUN steps")
    sub.add_argument(
        "--builder",
        choices=("buildkit", "classic"),
        help="BuildKit or the classic builder (default: BuildKit where the daemon has it)",
    )
    sub.add_argument("-q", "--quiet", action="store_true", help="print only the image id")

    sub = command("pull", cmd_pull, "Pull an image, showing progress")
    sub.add_argument("image", metavar="NAME[:TAG|@DIGEST]")
    sub.add_argument("-a", "--all-tags", action="store_true", help="every tag of the repository")
    sub.add_argument("--platform", help="os[/arch[/variant]]")
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress")

    sub = command("push", cmd_push, "Push an image, showing progress")
    sub.add_argument("image", metavar="NAME[:TAG]")
    sub.add_argument("-a", "--all-tags", action="store_true", help="every tag of the repository")
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress")

    sub = command(
        "run",
        cmd_run,
        "Create and start a container, stream its output and exit with its exit status",
    )
    sub.add_argument("image", metavar="IMAGE")
    sub.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")
    sub.add_argument("--name", help="the container's name")
    sub.add_argument("--rm", action="store_true", help="remove the container when it ends")
    sub.add_argument("-d", "--detach", action="store_true", help="start it and print its id")
    sub.add_argument(
        "-e",
        "--env",
        action="append",
        type=_key_maybe_value,
        metavar="KEY[=VALUE]",
        help="environment variable (repeatable; a bare KEY reads the environment)",
    )
    sub.add_argument("-l", "--label", action="append", type=_key_maybe_value, metavar="KEY[=VALUE]")
    sub.add_argument("--network", help="network mode (default: the daemon's), e.g. none")
    sub.add_argument("--entrypoint", help="override the image's entrypoint")
    sub.add_argument("-w", "--workdir", help="working directory inside the container")
    sub.add_argument("-u", "--user", help="user[:group] to run as")
    sub.add_argument("--platform", help="os[/arch[/variant]]")
    sub.add_argument(
        "--pull",
        choices=("missing", "always", "never"),
        default="missing",
        help="pull the image first (default: only when missing)",
    )
    sub.add_argument("-q", "--quiet", action="store_true", help="no pull progress")

    sub = command("prune", cmd_prune, "Remove stopped containers and unused networks and images")
    sub.add_argument(
        "-a", "--all", action="store_true", help="all unused images, not just dangling"
    )
    sub.add_argument("--volumes", action="store_true", help="unused volumes too")
    sub.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    sub.add_argument(
        "--filter",
        action="append",
        type=_key_value,
        metavar="KEY=VALUE",
        help="only what matches (label=..., until=...)",
    )
    return parser


# -- running -----------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """The one line an error is reported as."""
    if isinstance(exc, DockerConnectionError):
        text = f"{exc.message} (is the daemon running?)"
    elif isinstance(exc, DockerError):
        prefix = "error response from daemon: " if exc.status is not None else ""
        text = prefix + exc.message
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


async def _run(args: argparse.Namespace) -> int:
    handler: Handler = args.handler
    async with connect(args) as docker:
        return await handler(docker, args)


def _restore_pipe() -> None:
    # stdout's reader went away (| head): nothing more can be written there, quietly.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "prune":
            _confirm_prune(args)
        status = asyncio.run(_run(args))
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _restore_pipe()
        return 1
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except (DockerError, ValueError, OSError, EOFError) as exc:
        print(f"{PROG}: error: {describe(exc)}", file=sys.stderr)
        return 1
