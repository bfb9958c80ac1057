#!/usr/bin/env python3
"""Generate the protobuf message classes under ``src/aiodockerapi/buildkit/`` from ``proto/``.

Usage::

    python tools/genproto.py [--check]

Runs protoc (grpcio-tools' ``grpc_tools.protoc``, the dev extra's) on every ``.proto`` under
``proto/`` at once (the trace messages in ``v1/``, the session services' in ``session/``; a
file may import another by its path under ``proto/``) and writes ``*_pb2.py`` and
``*_pb2.pyi`` beside where the package path says, formatted by ruff so that
``ruff format --check`` and ``ruff check`` pass as they are. With
``--check`` nothing is written and the exit status is 1 when a committed file differs from a
fresh generation (or is missing, or is left over from a removed .proto).

The output depends on protoc's version (it is written into the code, which checks the
protobuf runtime against it at import), so the dev extra pins grpcio-tools; the ``buildkit``
extra asks for a protobuf runtime at least that new, within the same major version.

Only messages are generated: the session's services are grpclib handlers written by hand
(each a ``__mapping__()`` of its few methods), so no generated code needs grpclib.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = ROOT / "src"
PROTO_DIR = ROOT / "proto"

# Put on top of every generated file: protoc's Python is not ruff-clean (a coding cookie,
# a descriptor on one long line) and its stubs use bare generic types, which mypy --strict
# refuses; none of it is ours to fix.
_PY_HEADER = "# ruff: noqa\n"
_PYI_HEADER = "# ruff: noqa\n# mypy: disable-error-code=type-arg\n"


def proto_files(proto_dir: Path = PROTO_DIR) -> list[Path]:
    return sorted(proto_dir.rglob("*.proto"))


def _protoc_include() -> Path:
    """grpc_tools' copy of the well-known types (google/protobuf/timestamp.proto)."""
    try:
        import grpc_tools
    except ImportError:
        raise SystemExit(
            "genproto: grpcio-tools is not installed (pip install -e '.[dev]')"
        ) from None
    return Path(grpc_tools.__file__).resolve().parent / "_proto"


def _ruff_format(text: str, filename: Path) -> str:
    """`text` as `ruff format` leaves it under the project's settings."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(filename), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"genproto: ruff format {filename} failed:\n{done.stderr}")
    return done.stdout


def generate(proto_dir: Path = PROTO_DIR) -> dict[Path, str]:
    """Each generated file's path, relative to the repository root, and its text."""
    protos = proto_files(proto_dir)
    if not protos:
        raise SystemExit(f"genproto: no .proto files under {proto_dir}")
    with tempfile.TemporaryDirectory(prefix="genproto-") as tmp:
        out = Path(tmp)
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{proto_dir}",
            f"-I{_protoc_include()}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            *(str(p.relative_to(proto_dir)) for p in protos),
        ]
        done = subprocess.run(command, capture_output=True, text=True, cwd=proto_dir, check=False)
        if done.returncode != 0:
            raise SystemExit(f"genproto: protoc failed:\n{done.stderr}")
        result: dict[Path, str] = {}
        for path in sorted(out.rglob("*_pb2.py*")):
            rel = path.relative_to(out)
            header = _PYI_HEADER if path.suffix == ".pyi" else _PY_HEADER
            text = header + path.read_text(encoding="utf-8")
            result[rel] = _ruff_format(text, PACKAGE_ROOT / rel)
    return result


def committed(generated: dict[Path, str], root: Path = PACKAGE_ROOT) -> dict[Path, str | None]:
    """The committed text of each generated path, plus stray *_pb2 files in the same folders."""
    paths = set(generated)
    for rel in generated:
        paths.update(p.relative_to(root) for p in (root / rel).parent.glob("*_pb2.py*"))
    return {
        rel: (root / rel).read_text(encoding="utf-8") if (root / rel).is_file() else None
        for rel in sorted(paths)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a committed generated file is stale"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    generated = generate()
    current = committed(generated)
    elapsed = time.perf_counter() - started
    stale = [rel for rel, text in current.items() if generated.get(rel) != text]
    if args.check:
        if stale:
            for rel in stale:
                what = "missing" if current[rel] is None else "out of date"
                if rel not in generated:
                    what = "left over (no .proto makes it)"
                print(f"genproto: {rel} is {what}", file=sys.stderr)
            print(
                "genproto: run `python tools/genproto.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"genproto: {len(generated)} files up to date ({elapsed:.2f}s)")
        return 0
    for rel in stale:
        path = PACKAGE_ROOT / rel
        if rel not in generated:
            path.unlink()
            print(f"genproto: removed {rel}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated[rel], encoding="utf-8")
        print(f"genproto: wrote {rel}")
    print(f"genproto: {len(generated)} files, {len(stale)} changed ({elapsed:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
