"""The commands that work on one host: logs, build, pull, push, run, prune."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import sys
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread

from ..auth import AuthInput, load_config, resolve_auth
from ..bodies.build_context import open_context
from ..buildkit import BuildFailed, protobuf_available, run_build
from ..client import Docker
from ..errors import DockerError, NotFound
from ..models import (
    BuildInfo,
    ContainerCreateResponse,
    ImageID,
    PingResponse,
    SystemVersion,
)
from ..progress.display import show_progress
from . import build_flags
from .args import from_env, labels
from .containers import proxy_signals
from .formats import CliError, describe, out, write_frame
from .runflags import shape


@asynccontextmanager
async def closing(stream: object) -> AsyncIterator[None]:
    """Close a stream when the block ends, however it ends (a closed pipe, Ctrl-C)."""
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _tagged(ref: str) -> bool:
    return "@" in ref or ":" in ref.rpartition("/")[2]


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
    async with closing(frames):
        async for frame in frames:
            write_frame(frame.stream, frame.data)
    return 0


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


def _inside(file: str, path: str) -> bool:
    relative = os.path.relpath(Path(file).resolve(), Path(path).resolve())
    return not relative.startswith("..")


async def _context_with_dockerfile(path: Path, file: Path) -> tuple[bytes, str]:
    """A Dockerfile from outside the context, added to its tar under a name of its own and
    to its .dockerignore, as the docker CLI does (the classic builder then leaves it out of
    COPY .; BuildKit, given a tar, applies no .dockerignore and copies it too)."""

    def read() -> tuple[bytes, bytes]:
        if not path.is_dir():
            raise CliError(f"build context {str(path)!r} is not a directory")
        ignore = path / ".dockerignore"
        return file.read_bytes(), ignore.read_bytes() if ignore.is_file() else b""

    text, ignore = await anyio.to_thread.run_sync(read)
    name = f".dockerfile.{secrets.token_hex(10)}"
    parts = [chunk async for chunk in open_context(path)]
    buffer = io.BytesIO(b"".join(parts))
    with tarfile.open(fileobj=buffer, mode="a") as tar:
        for entry_name, data in (
            (name, text),
            (".dockerignore", ignore.rstrip(b"\n") + f"\n{name}\n.dockerignore\n".encode()),
        ):
            entry = tarfile.TarInfo(entry_name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue(), name


async def _stdin_context() -> bytes:
    """`build -`: stdin is a tar of the context, or else a Dockerfile (an empty context)."""
    data: bytes = await anyio.to_thread.run_sync(sys.stdin.buffer.read)
    if data[257:262] == b"ustar":
        return data
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


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


async def _run_build(
    stream: AsyncIterator[BuildInfo], *, quiet: bool, buildkit: bool, file: Any
) -> str:
    """The image id, after showing the build's progress on `file` (unless quiet)."""
    if quiet and buildkit:
        return (await run_build(stream)).image_id or ""
    if quiet:
        image_id = ""
        async with closing(stream):
            async for message in stream:
                if isinstance(message.aux, ImageID) and message.aux.id:
                    image_id = message.aux.id
                elif message.stream and message.stream.strip():
                    image_id = message.stream.strip()  # quiet builds say only the id
        return image_id
    return (await show_progress(stream, file)).image_id or ""


async def cmd_build(docker: Docker, args: argparse.Namespace) -> int:
    """build: a directory, with the steps and any pulls shown live; then the image id."""
    context: Path | bytes
    if args.path == "-":
        context, dockerfile = await _stdin_context(), args.file
    elif args.file is not None and not _inside(args.file, args.path):
        context, dockerfile = await _context_with_dockerfile(Path(args.path), Path(args.file))
    else:
        context, dockerfile = _build_paths(args.path, args.file)
    session: dict[str, Any] = {}
    if args.secret:
        session["secrets"] = build_flags.secrets_of(args.secret)
    if args.ssh:
        session["ssh"] = build_flags.ssh_of(args.ssh)
    if args.output is not None:
        session["output"] = args.output
    builder = args.builder or ("buildkit" if session else await _choose_builder(docker))
    buildkit = builder == "buildkit"
    if session and not buildkit:
        raise CliError("--secret, --ssh and --output need BuildKit (not --builder classic)")
    try:
        stream = docker.images.build(
            context,
            dockerfile=dockerfile,
            t=args.tag or None,
            buildargs=from_env(args.build_arg) or None,
            labels=labels(args.label) or None,
            nocache=args.no_cache,
            pull=args.pull or None,
            target=args.target,
            networkmode=args.network,
            q=args.quiet and not buildkit,
            version="2" if buildkit else "1",
            auth_configs=await _known_credentials() or None,
            **session,
        )
        # A tar on standard output leaves the progress to standard error, as buildx does.
        to_stdout = args.output is not None and args.output["dest"] is sys.stdout.buffer
        image_id = await _run_build(
            stream,
            quiet=args.quiet,
            buildkit=buildkit,
            file=sys.stderr if to_stdout else sys.stdout,
        )
    except BuildFailed as exc:
        raise _build_failure(exc) from exc
    except (ImportError, NotImplementedError) as exc:  # the session's extra, or a stub
        raise CliError(str(exc)) from None
    if image_id:
        out(image_id)
    return 0


async def _pull(docker: Docker, ref: str, *, quiet: bool, file: Any, **kwargs: Any) -> None:
    stream = docker.images.pull(ref, **kwargs)
    if quiet:
        async with closing(stream):
            async for _ in stream:
                pass
    else:
        await show_progress(stream, file)


async def cmd_pull(docker: Docker, args: argparse.Namespace) -> int:
    """pull: an image, with live progress."""
    await _pull(
        docker,
        args.image,
        quiet=args.quiet,
        file=sys.stdout,
        all_tags=args.all_tags,
        platform=args.platform,
    )
    out(args.image if _tagged(args.image) or args.all_tags else f"{args.image}:latest")
    return 0


async def cmd_push(docker: Docker, args: argparse.Namespace) -> int:
    """push: an image, with live progress."""
    tag = None if _tagged(args.image) or args.all_tags else "latest"
    stream = docker.images.push(args.image, tag=tag)
    if args.quiet:
        async with closing(stream):
            async for _ in stream:
                pass
        out(args.image if tag is None else f"{args.image}:{tag}")
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
        body["Env"] = [f"{k}={v}" for k, v in from_env(args.env).items()]
    if args.label:
        body["Labels"] = labels(args.label)
    if args.workdir:
        body["WorkingDir"] = args.workdir
    if args.user:
        body["User"] = args.user
    try:
        shape(args, body, host_config)
    except argparse.ArgumentTypeError as exc:
        raise CliError(str(exc), status=125) from exc
    options: dict[str, Any] = {"name": args.name, "platform": args.platform}
    if args.pull == "always":
        await _pull(docker, args.image, quiet=args.quiet, file=sys.stderr, platform=args.platform)
    try:
        return await docker.containers.create(body, **options)
    except NotFound as exc:
        if args.pull != "missing" or "No such image" not in exc.message:
            raise
    if not args.quiet:
        print(f"Unable to find image {args.image!r} locally", file=sys.stderr, flush=True)
    await _pull(docker, args.image, quiet=args.quiet, file=sys.stderr, platform=args.platform)
    return await docker.containers.create(body, **options)


def run_status(message: str) -> int:
    """The exit status `docker run` gives when the container could not start: 127 when its
    command is not found, 126 when it cannot be invoked, else 125 (the daemon refused)."""
    text = message.lower()
    not_found = ("executable file not found", "no such file or directory", "cannot find the file")
    if any(words in text for words in not_found):
        return 127
    if "permission denied" in text or "is a directory" in text:
        return 126
    return 125


async def cmd_run(docker: Docker, args: argparse.Namespace) -> int:
    """run: create, start, stream the output; exit with the container's exit status, or as
    `docker run` does when it cannot get that far (125, 126, 127)."""
    try:
        created = await _create(docker, args)
    except DockerError as exc:
        raise CliError(describe(exc), status=125) from exc
    cid = created.id
    if not cid:
        raise CliError("the daemon created a container but sent no id", status=125)
    for warning in created.warnings or ():
        print(f"WARNING: {warning}", file=sys.stderr)
    try:
        if args.detach:
            try:
                await docker.containers.start(cid)
            except DockerError as exc:
                raise CliError(describe(exc), status=run_status(exc.message)) from exc
            out(cid)
            return 0
        async with docker.containers.attach(cid, stdout=True, stderr=True, tty=False) as io:
            try:
                await docker.containers.start(cid)
            except DockerError as exc:
                raise CliError(describe(exc), status=run_status(exc.message)) from exc
            with proxy_signals(docker, cid) if args.sig_proxy else contextlib.nullcontext():
                async for frame in io:
                    write_frame(frame.stream, frame.data)
        waited = await docker.containers.wait(cid)
        if waited.error is not None and waited.error.message:
            raise CliError(f"waiting for {cid[:12]}: {waited.error.message}", status=125)
        return waited.status_code or 0
    finally:
        if args.rm and not args.detach:
            await docker.containers.delete(cid, force=True)
