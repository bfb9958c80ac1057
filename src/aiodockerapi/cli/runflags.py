"""run's flags that shape the container: -v, -p, --memory, --cpus, --restart, --init,
--read-only, --cap-add, --cap-drop, read as `docker run` reads them into the create body."""

from __future__ import annotations

import argparse
import re
from typing import Any

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def memory(text: str) -> int:
    """512m, 1g, 1.5GB, 1024 (bytes): powers of 1024, as docker's --memory."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?", text.strip().lower())
    if m is None:
        raise argparse.ArgumentTypeError(f"expected a size like 512m or 1g, got {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def cpus(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of CPUs, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of CPUs > 0, got {text!r}")
    return value


def restart(text: str) -> dict[str, Any]:
    """no, always, unless-stopped, on-failure[:N]: the RestartPolicy."""
    name, _, count = text.partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure") or (
        count and (name != "on-failure" or not count.isdigit())
    ):
        raise argparse.ArgumentTypeError(
            f"expected no, always, unless-stopped or on-failure[:N], got {text!r}"
        )
    policy: dict[str, Any] = {"Name": "" if name == "no" else name}
    if count:
        policy["MaximumRetryCount"] = int(count)
    return policy


def _port_range(text: str) -> list[str]:
    low, _, high = text.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid port {text!r}")
    return [str(p) for p in range(int(low), int(high or low) + 1)]


def publish(text: str) -> list[tuple[str, str, str]]:
    """[ip:][host_port:]container_port[/proto]: (container port/proto, host ip, host port)s."""
    spec, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise argparse.ArgumentTypeError(f"invalid protocol {proto!r} in {text!r}")
    if spec.startswith("["):  # [::1]:8080:80
        ip, _, rest = spec[1:].partition("]:")
        parts = [ip, *rest.split(":")]
    else:
        parts = spec.split(":")
    if len(parts) > 3 or not parts[-1]:
        raise argparse.ArgumentTypeError(f"expected [IP:][HOST_PORT:]PORT[/PROTO], got {text!r}")
    ip = parts[0] if len(parts) == 3 else ""
    host = parts[-2] if len(parts) >= 2 else ""
    inner = _port_range(parts[-1])
    outer = _port_range(host) if host else [""] * len(inner)
    if len(outer) == 1 and len(inner) > 1:
        outer = outer * len(inner)
    if len(outer) != len(inner):
        raise argparse.ArgumentTypeError(f"port ranges of different sizes in {text!r}")
    return [(f"{i}/{proto}", ip, o) for i, o in zip(inner, outer, strict=True)]


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _capability(name: str) -> str:
    """NET_ADMIN, net_admin or CAP_NET_ADMIN as docker sends it: CAP_NET_ADMIN (ALL as is)."""
    name = name.upper()
    return name if name == "ALL" or name.startswith("CAP_") else f"CAP_{name}"


def add_run_flags(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "-v",
        "--volume",
        action="append",
        metavar="[SRC:]DST[:OPTS]",
        help="bind a host path or named volume at DST (an anonymous volume without SRC)",
    )
    sub.add_argument(
        "-p",
        "--publish",
        action="append",
        type=publish,
        metavar="[IP:][HOST:]PORT[/PROTO]",
        help="publish a container port on the host (repeatable)",
    )
    sub.add_argument("-m", "--memory", type=memory, help="memory limit, e.g. 512m")
    sub.add_argument("--cpus", type=cpus, help="number of CPUs, e.g. 1.5")
    sub.add_argument("--restart", type=restart, help="no, always, unless-stopped, on-failure[:N]")
    sub.add_argument("--init", action="store_true", help="run an init inside as PID 1")
    sub.add_argument("--read-only", action="store_true", help="mount the root filesystem read-only")
    sub.add_argument("--cap-add", action="append", metavar="CAP", help="add a capability")
    sub.add_argument("--cap-drop", action="append", metavar="CAP", help="drop a capability")
    sub.add_argument("--privileged", action="store_true", help="extended privileges")
    sub.add_argument("--hostname", help="the container's host name")
    sub.add_argument(
        "--sig-proxy",
        type=_boolean,
        nargs="?",
        const=True,
        default=True,
        metavar="true|false",
        help="pass SIGINT and SIGTERM on to the container (default: true)",
    )


def shape(args: argparse.Namespace, body: dict[str, Any], host_config: dict[str, Any]) -> None:
    """Add what these flags ask for to the create body and its HostConfig."""
    for volume in args.volume or ():
        if ":" in volume:
            host_config.setdefault("Binds", []).append(volume)
        else:
            body.setdefault("Volumes", {})[volume] = {}
    for bindings in args.publish or ():
        for port, ip, host_port in bindings:
            body.setdefault("ExposedPorts", {})[port] = {}
            host_config.setdefault("PortBindings", {}).setdefault(port, []).append(
                {"HostIp": ip, "HostPort": host_port}
            )
    if args.memory is not None:
        host_config["Memory"] = args.memory
    if args.cpus is not None:
        host_config["NanoCpus"] = round(args.cpus * 1e9)
    if args.restart is not None:
        if args.rm and args.restart["Name"]:
            raise argparse.ArgumentTypeError("--restart and --rm go not together")
        host_config["RestartPolicy"] = args.restart
    if args.init:
        host_config["Init"] = True
    if args.read_only:
        host_config["ReadonlyRootfs"] = True
    if args.cap_add:
        host_config["CapAdd"] = [_capability(c) for c in args.cap_add]
    if args.cap_drop:
        host_config["CapDrop"] = [_capability(c) for c in args.cap_drop]
    if args.privileged:
        host_config["Privileged"] = True
    if args.hostname:
        body["Hostname"] = args.hostname
