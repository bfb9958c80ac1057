"""How the command line prints: tables, JSON lines, --format templates, sizes and ages."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from ..errors import DockerConnectionError, DockerError
from ..models import EventMessage, PortSummary, StreamType


class CliError(Exception):
    """A problem with what the command was asked to do; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# The library's TLS advice names Python arguments; the command line's names its flags.
_FLAGS_FOR_TLS = (
    "give --tlsverify --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem "
    "(or DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH)"
)
_PYTHON_TLS = re.compile(r"pass tls=TLSConfig\(\.\.\.\) \(or tls=True to read DOCKER_CERT_PATH\)")
_PYTHON_CLIENT_CERT = re.compile(r"\(TLSConfig\(client_cert=\(cert, key\)\)\)")
# Words of a failure where the daemon answered (TLS refused): no "is the daemon running?".
_ANSWERED = re.compile(r"TLS|SSL|certificate|handshake", re.IGNORECASE)


def describe(exc: BaseException) -> str:
    """The one line an error is reported as: TLS trouble in terms of the flags, and the hint
    that the daemon may be down only when nothing answered."""
    if isinstance(exc, DockerConnectionError):
        text = _PYTHON_TLS.sub(_FLAGS_FOR_TLS, exc.message)
        text = _PYTHON_CLIENT_CERT.sub("(--tlscert cert.pem --tlskey key.pem)", text)
        if not _ANSWERED.search(text):
            text += " (is the daemon running?)"
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


def write_frame(stream: StreamType, data: bytes) -> None:
    out = sys.stderr if stream == StreamType.STDERR else sys.stdout
    out.buffer.write(data)
    out.buffer.flush()
