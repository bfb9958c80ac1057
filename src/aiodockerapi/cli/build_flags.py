"""`build`'s BuildKit session flags, parsed as buildx takes them: --secret, --ssh, --output."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .formats import CliError

__all__ = ["SecretSpec", "output_spec", "secret_spec", "secrets_of", "ssh_of", "ssh_spec"]


class SecretSpec(NamedTuple):
    """One --secret: its id, and a file to read or an environment variable to take."""

    id: str
    file: str | None
    env: str | None


def _fields(flag: str, text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"{flag}: expected KEY=VALUE fields, got {part!r}")
        fields[key] = value
    return fields


def secret_spec(text: str) -> SecretSpec:
    """`id=ID[,src=FILE|env=VAR][,type=file|env]` (`source` = `src`). Without src or env the
    secret comes from the environment variable named ID, as in buildx."""
    fields = _fields("--secret", text)
    unknown = sorted(set(fields) - {"id", "src", "source", "env", "type"})
    if unknown:
        raise argparse.ArgumentTypeError(f"--secret: unexpected key {unknown[0]!r} in {text!r}")
    secret_id = fields.get("id", "")
    if not secret_id:
        raise argparse.ArgumentTypeError(f"--secret: an id is needed, got {text!r}")
    kind = fields.get("type")
    if kind not in (None, "file", "env"):
        raise argparse.ArgumentTypeError(f"--secret: type is file or env, not {kind!r}")
    src = fields.get("src", fields.get("source")) or None
    env = fields.get("env") or None
    if kind == "env" and env is None:
        src, env = None, src
    if src is not None and env is not None:
        raise argparse.ArgumentTypeError(f"--secret: give src or env, not both, in {text!r}")
    if src is None and env is None:
        env = secret_id
    return SecretSpec(secret_id, src, env)


def secrets_of(specs: Sequence[SecretSpec] | None) -> dict[str, bytes | str | os.PathLike[str]]:
    """The build's secrets: files by path (read when asked), environment values as text."""
    secrets: dict[str, bytes | str | os.PathLike[str]] = {}
    for spec in specs or ():
        if spec.file is not None:
            secrets[spec.id] = Path(spec.file).expanduser()
            continue
        assert spec.env is not None
        value = os.environ.get(spec.env)
        if value is None:
            raise CliError(f"--secret id={spec.id}: environment variable {spec.env} is not set")
        secrets[spec.id] = value
    return secrets


def ssh_spec(text: str) -> tuple[str, str | None]:
    """`ID[=SOCKET]` ("default" for $SSH_AUTH_SOCK): an agent's socket per id. buildx also
    takes key files; only an agent's socket is forwarded here."""
    key, sep, where = text.partition("=")
    if not key or (sep and not where):
        raise argparse.ArgumentTypeError(f"--ssh: expected ID[=SOCKET], got {text!r}")
    if "," in where:
        raise argparse.ArgumentTypeError(
            f"--ssh {key}: one agent socket per id (key files are not supported), got {where!r}"
        )
    return key, where or None


def ssh_of(specs: Sequence[tuple[str, str | None]] | None) -> dict[str, str | None]:
    return dict(specs or ())


def output_spec(text: str) -> dict[str, Any]:
    """`type=local,dest=DIR`, `type=tar,dest=FILE` (`dest=-`: standard output), `-` (a tar
    to standard output) or a bare DIR (a local export)."""
    if text == "-":
        return {"type": "tar", "dest": sys.stdout.buffer}
    if "=" not in text:
        return {"type": "local", "dest": text}
    fields = _fields("--output", text)
    unknown = sorted(set(fields) - {"type", "dest"})
    if unknown:
        raise argparse.ArgumentTypeError(f"--output: unexpected key {unknown[0]!r} in {text!r}")
    kind, dest = fields.get("type"), fields.get("dest")
    if kind not in ("local", "tar"):
        raise argparse.ArgumentTypeError(f"--output: type is local or tar, not {kind!r}")
    if not dest:
        raise argparse.ArgumentTypeError(f"--output type={kind}: a dest is needed")
    if dest == "-":
        if kind != "tar":
            raise argparse.ArgumentTypeError("--output: only type=tar can go to standard output")
        return {"type": "tar", "dest": sys.stdout.buffer}
    return {"type": kind, "dest": dest}
