"""Where to connect: explicit host, Docker context, environment, or the default socket."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import msgspec

from .errors import ContextError
from .hosts import DEFAULT_HOST, TLSFiles, cert_files, config_dir

__all__ = ["DEFAULT_HOST", "Endpoint", "TLSFiles", "config_dir", "resolve"]


class Endpoint(msgspec.Struct, frozen=True):
    """A daemon address and the TLS files to reach it with, if any."""

    host: str
    tls: TLSFiles | None = None
    context: str | None = None


def _cert_dir(path: Path, verify: bool) -> TLSFiles | None:
    found = cert_files(path, verify)
    return found if found.ca_cert or found.client_cert else None


def _from_environment() -> Endpoint:
    env = os.environ
    host = env.get("DOCKER_HOST") or DEFAULT_HOST
    tls = None
    if env.get("DOCKER_TLS_VERIFY"):
        cert_path = Path(env.get("DOCKER_CERT_PATH") or config_dir())
        tls = _cert_dir(cert_path, verify=True) or TLSFiles(None, None, verify=True)
    return Endpoint(host, tls)


def _current_context() -> str | None:
    name = os.environ.get("DOCKER_CONTEXT")
    if name:
        return name
    config = config_dir() / "config.json"
    try:
        data = json.loads(config.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ContextError(f"cannot read {config}: {exc}") from None
    current = data.get("currentContext") if isinstance(data, dict) else None
    return current if isinstance(current, str) and current else None


def _load_context(name: str) -> Endpoint:
    digest = hashlib.sha256(name.encode()).hexdigest()
    base = config_dir() / "contexts"
    meta_file = base / "meta" / digest / "meta.json"
    try:
        meta = json.loads(meta_file.read_text())
    except FileNotFoundError:
        raise ContextError(f"Docker context {name!r} not found ({meta_file} is missing)") from None
    except (OSError, ValueError) as exc:
        raise ContextError(f"cannot read Docker context {name!r} from {meta_file}: {exc}") from None
    try:
        docker = meta["Endpoints"]["docker"]
        host = docker["Host"]
    except (KeyError, TypeError):
        raise ContextError(f"Docker context {name!r} has no docker endpoint host") from None
    verify = not docker.get("SkipTLSVerify", False)
    tls = _cert_dir(base / "tls" / digest / "docker", verify)
    if tls is None and not verify:
        tls = TLSFiles(None, None, verify=False)
    return Endpoint(host, tls, name)


def resolve(host: str | None = None, context: str | None = None) -> Endpoint:
    """Pick the endpoint the docker CLI would: host, else context, else DOCKER_HOST,
    else DOCKER_CONTEXT or config.json's currentContext, else the default socket."""
    if host is not None and context is not None:
        raise ValueError("give a host or a context, not both")
    if host is not None:
        return Endpoint(host)
    if context is None:
        if os.environ.get("DOCKER_HOST"):
            return _from_environment()
        context = _current_context()
    if context is None or context == "default":
        return _from_environment()
    return _load_context(context)
