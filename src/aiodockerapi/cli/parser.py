"""The command line's flags: global connection flags, then one command and its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .. import __version__
from . import build_flags
from .args import (
    ALIASES,
    CONTAINER_FIELD_HELP,
    IMAGE_FIELD_HELP,
    PROG,
    key_maybe_value,
    key_value,
    point_in_time,
    positive,
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, with exit status 125 as docker's."""

    def error(self, message: str) -> NoReturn:
        # An unknown command is status 1 with docker, any other usage error 125.
        status = 1 if message.startswith("argument COMMAND: invalid choice") else 125
        self.exit(status, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: global connection flags, then one command."""
    from . import runflags

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
        action="append",
        help="daemon to talk to: unix:///path, tcp://host:port, ssh://user@host (or "
        "DOCKER_HOST); repeat it to run info, ps, images and events on every one at once",
    )
    conn.add_argument(
        "-c",
        "--context",
        action="append",
        help="Docker context to use (or DOCKER_CONTEXT), instead of --host; repeatable as -H",
    )
    conn.add_argument("--tls", action="store_true", help="use TLS without verifying the daemon")
    conn.add_argument("--tlsverify", action="store_true", help="use TLS and verify the daemon")
    conn.add_argument("--tlscacert", metavar="PATH", help="CA certificate to trust")
    conn.add_argument("--tlscert", metavar="PATH", help="client certificate")
    conn.add_argument("--tlskey", metavar="PATH", help="client certificate's key")
    commands = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help)

    def add_filter(sub: argparse.ArgumentParser, examples: str) -> None:
        sub.add_argument(
            "-f",
            "--filter",
            action="append",
            type=key_value,
            metavar="KEY=VALUE",
            help=f"filter (repeatable), as the API names them: {examples}",
        )

    def add_format(sub: argparse.ArgumentParser, fields: str) -> None:
        sub.add_argument(
            "--format",
            metavar="TEMPLATE",
            help="a Go template as docker's: 'table {{.ID}}\\t...' (with headers), 'json' "
            f"(one object a line), or one line a row like '{{{{json .}}}}'; fields: {fields}",
        )

    sub = command("info", "Show what the daemon says about itself")
    sub.add_argument("--json", action="store_true", help="print the API's JSON")
    sub.add_argument("-f", "--format", metavar="TEMPLATE", help="a Go template, e.g. "
                     "'{{.ServerVersion}}' or '{{json .}}'")  # fmt: skip

    sub = command("ps", "List containers")
    sub.add_argument("-a", "--all", action="store_true", help="stopped ones too")
    sub.add_argument("-n", "--last", type=positive, metavar="N", help="the N newest (any state)")
    sub.add_argument("-l", "--latest", action="store_true", help="the newest (any state)")
    sub.add_argument("-q", "--quiet", action="store_true", help="only ids")
    sub.add_argument("-s", "--size", action="store_true", help="the SIZE column too")
    sub.add_argument("--no-trunc", action="store_true", help="full ids and commands")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    add_format(sub, CONTAINER_FIELD_HELP)
    add_filter(sub, "status=exited, name=web, label=KEY=VALUE, ancestor=IMAGE, publish=80")

    sub = command("images", "List images")
    sub.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    sub.add_argument("-a", "--all", action="store_true", help="intermediate images too")
    sub.add_argument("-q", "--quiet", action="store_true", help="only ids")
    sub.add_argument("--digests", action="store_true", help="the DIGEST column too")
    sub.add_argument("--no-trunc", action="store_true", help="full ids")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    add_format(sub, IMAGE_FIELD_HELP)
    add_filter(sub, "dangling=true, reference='busybox:*', label=KEY=VALUE, before=IMAGE")

    sub = command("events", "Follow the daemon's events (until --until, or Ctrl-C)")
    sub.add_argument(
        "--since", type=point_in_time, help="from this time: Unix seconds, RFC 3339, or 10m"
    )
    sub.add_argument("--until", type=point_in_time, help="stop at this time (then exit)")
    sub.add_argument("--json", action="store_true", help="one JSON object a line")
    sub.add_argument("--format", metavar="TEMPLATE", help="a Go template a line, e.g. "
                     "'{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', or 'json'")  # fmt: skip
    add_filter(sub, "type=container, event=die, container=NAME, image=NAME, label=KEY=VALUE")

    sub = command("logs", "Print a container's output (stderr to stderr)")
    sub.add_argument("container")
    sub.add_argument("-f", "--follow", action="store_true", help="keep following")
    sub.add_argument("-n", "--tail", type=positive, metavar="N", help="only the last N lines")
    sub.add_argument("-t", "--timestamps", action="store_true", help="prefix each line's time")
    sub.add_argument("--since", type=point_in_time, help="from this time (as for events)")
    sub.add_argument("--until", type=point_in_time, help="up to this time")

    sub = command("build", "Build an image from a directory, showing progress")
    sub.add_argument(
        "path",
        metavar="PATH",
        help="the build context directory; - reads a Dockerfile or a context's tar from stdin",
    )
    sub.add_argument(
        "-t", "--tag", action="append", metavar="NAME[:TAG]", help="tag the image (repeatable)"
    )
    sub.add_argument("-f", "--file", metavar="PATH", help="the Dockerfile (inside PATH)")
    sub.add_argument(
        "--build-arg",
        action="append",
        type=key_maybe_value,
        metavar="KEY[=VALUE]",
        help="build argument (repeatable; a bare KEY reads the environment)",
    )
    sub.add_argument(
        "--label", action="append", type=key_maybe_value, metavar="KEY[=VALUE]", help="label"
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
    sub.add_argument(
        "--secret",
        action="append",
        type=build_flags.secret_spec,
        metavar="id=ID[,src=FILE|env=VAR]",
        help="a secret for RUN --mount=type=secret (repeatable; BuildKit)",
    )
    sub.add_argument(
        "--ssh",
        action="append",
        type=build_flags.ssh_spec,
        metavar="ID[=SOCKET]",
        help="forward an ssh agent (default: $SSH_AUTH_SOCK) to RUN --mount=type=ssh",
    )
    sub.add_argument(
        "-o",
        "--output",
        type=build_flags.output_spec,
        metavar="type=local,dest=DIR|type=tar,dest=FILE|-",
        help="export the result to the client (BuildKit)",
    )
    sub.add_argument("-q", "--quiet", action="store_true", help="print only the image id")

    sub = command("pull", "Pull an image, showing progress")
    sub.add_argument("image", metavar="NAME[:TAG|@DIGEST]")
    sub.add_argument("-a", "--all-tags", action="store_true", help="every tag of the repository")
    sub.add_argument("--platform", help="os[/arch[/variant]]")
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress")

    sub = command("push", "Push an image, showing progress")
    sub.add_argument("image", metavar="NAME[:TAG]")
    sub.add_argument("-a", "--all-tags", action="store_true", help="every tag of the repository")
    sub.add_argument("-q", "--quiet", action="store_true", help="no progress")

    sub = command(
        "run",
        "Create and start a container, stream its output and exit with its exit status "
        "(125: the daemon refused, 126: the command cannot be invoked, 127: not found)",
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
        type=key_maybe_value,
        metavar="KEY[=VALUE]",
        help="environment variable (repeatable; a bare KEY reads the environment)",
    )
    sub.add_argument(
        "-l",
        "--label",
        action="append",
        type=key_maybe_value,
        metavar="KEY[=VALUE]",
        help="label the container (repeatable; a bare KEY gets an empty value)",
    )
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
    runflags.add_run_flags(sub)

    from . import containers, system  # they import this module's argument types

    containers.add_parsers(command)
    system.add_parsers(command)
    for group, names in ALIASES.items():
        sub = command(group, f"Manage {group}s: {', '.join(names)} as the commands of that name")
        sub.add_argument("subcommand", choices=sorted(names), metavar="COMMAND")
        sub.add_argument("rest", nargs=argparse.REMAINDER, metavar="...")

    sub = command("prune", "Remove stopped containers and unused networks and images")
    sub.add_argument(
        "-a", "--all", action="store_true", help="all unused images, not just dangling"
    )
    sub.add_argument("--volumes", action="store_true", help="unused volumes too")
    sub.add_argument("-f", "--force", action="store_true", help="do not ask for confirmation")
    sub.add_argument(
        "--filter",
        action="append",
        type=key_value,
        metavar="KEY=VALUE",
        help="only what matches (label=..., until=...)",
    )

    from . import service_args

    service_args.add_parser(commands)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line parsed; `container ls` and the like read as the command they name."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb in ALIASES:
        words = list(argv if argv is not None else sys.argv[1:])
        at = min(
            i
            for i, w in enumerate(words[:-1])
            if w == args.verb and words[i + 1] == args.subcommand
        )
        words[at : at + 2] = [ALIASES[args.verb][args.subcommand]]
        args = parser.parse_args(words)
    return args
