"""How the command line prints: tables, JSON lines, --format templates, sizes and ages."""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from ..errors import DockerConnectionError, DockerError
from ..models import ContainerSummary, EventMessage, ImageSummary, PortSummary


class CliError(Exception):
    """A problem with what the command was asked to do; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


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


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def json_line(value: Any, *, indent: int = 0, host: str | None = None) -> None:
    """A value as one line of JSON (or indented); with `host`, a "host" field goes first."""
    if host is not None:
        value = {"host": host, **msgspec.to_builtins(value)}
    raw = msgspec.json.encode(value)
    if indent:
        raw = msgspec.json.format(raw, indent=indent)
    out(raw.decode())


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        out("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# -- --format ----------------------------------------------------------------------------

_FIELD = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


class Template:
    """A Go-template-like --format: `{{.Field}}` is replaced by the field, `\\t` by a tab;
    nothing more. An unknown field is a usage error (exit status 2)."""

    def __init__(self, text: str, fields: Sequence[str]) -> None:
        self.text = text.replace("\\t", "\t").replace("\\n", "\n")
        for name in _FIELD.findall(self.text):
            if name not in fields:
                raise CliError(
                    f"--format: unknown field .{name} (one of: "
                    + ", ".join(f".{f}" for f in fields)
                    + ")",
                    status=2,
                )
        if "{{" in _FIELD.sub("", self.text):
            raise CliError("--format: only {{.Field}} is understood", status=2)

    def render(self, values: Mapping[str, str]) -> str:
        return _FIELD.sub(lambda m: values[m.group(1)], self.text)


# -- sizes, durations, ids ---------------------------------------------------------------


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


def ago(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return human_duration(time.time() - timestamp) + " ago"


def created_at(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S %z")


def short_id(value: str | None, full: bool = False) -> str:
    value = (value or "").removeprefix("sha256:")
    return value if full else value[:12]


def ports(summaries: Sequence[PortSummary] | None) -> str:
    """The PORTS column as `docker ps` shows it: `0.0.0.0:8080->80/tcp, [::]:8080->80/tcp`
    for a published port, `80/tcp` for one that is only exposed."""
    items = sorted(
        summaries or (), key=lambda p: (p.type, p.private_port, p.public_port or 0, p.ip or "")
    )
    shown: list[str] = []
    for p in items:
        if p.public_port:
            ip = f"[{p.ip}]" if p.ip and ":" in p.ip else p.ip or "0.0.0.0"
            text = f"{ip}:{p.public_port}->{p.private_port}/{p.type}"
        else:
            text = f"{p.private_port}/{p.type}"
        if text not in shown:
            shown.append(text)
    return ", ".join(shown)


# -- rows --------------------------------------------------------------------------------

CONTAINER_FIELDS = (
    "ID",
    "Image",
    "Command",
    "CreatedAt",
    "RunningFor",
    "Ports",
    "State",
    "Status",
    "Names",
    "Labels",
    "Networks",
    "Host",
)
CONTAINER_COLUMNS = ("ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names")
CONTAINER_HEADERS = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


def container_fields(c: ContainerSummary, full: bool, host: str = "") -> dict[str, str]:
    command = c.command or ""
    if not full and len(command) > 20:
        command = command[:19] + "…"
    image = c.image or ""
    if image.startswith("sha256:") and not full:
        image = short_id(image)
    networks = c.network_settings.networks if c.network_settings is not None else None
    return {
        "ID": short_id(c.id, full),
        "Image": image,
        "Command": f'"{command}"',
        "CreatedAt": created_at(c.created),
        "RunningFor": ago(c.created),
        "Ports": ports(c.ports),
        "State": c.state or "",
        "Status": c.status or "",
        "Names": ",".join(name.removeprefix("/") for name in c.names or ()),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted((c.labels or {}).items())),
        "Networks": ",".join(sorted(networks or {})),
        "Host": host,
    }


IMAGE_FIELDS = (
    "ID",
    "Repository",
    "Tag",
    "Digest",
    "CreatedSince",
    "CreatedAt",
    "Size",
    "Containers",
    "Host",
)
IMAGE_COLUMNS = ("Repository", "Tag", "ID", "CreatedSince", "Size")
IMAGE_HEADERS = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]


def image_fields(image: ImageSummary, full: bool, host: str = "") -> list[dict[str, str]]:
    """One row a tag (`<none>` for an untagged image), as `docker images` lists them."""
    tags = [t for t in image.repo_tags or () if t != "<none>:<none>"] or ["<none>:<none>"]
    digests = [d.rpartition("@")[2] for d in image.repo_digests or ()]
    rows = []
    for ref in tags:
        repo, _, tag = ref.rpartition(":")
        rows.append(
            {
                "ID": short_id(image.id, full),
                "Repository": repo,
                "Tag": tag,
                "Digest": digests[0] if digests else "<none>",
                "CreatedSince": ago(image.created),
                "CreatedAt": created_at(image.created),
                "Size": human_size(image.size),
                "Containers": str(image.containers) if image.containers >= 0 else "N/A",
                "Host": host,
            }
        )
    return rows


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
