#!/usr/bin/env python3
"""Generate ``aiodockerapi/operations.py``, the table of the Engine API's operations.

Usage::

    python tools/genops.py [--specs DIR] [--check]

The specs (``v1.41.yaml`` .. ``v1.55.yaml``) and ``method-names-v1.55.tsv`` are read
from ``--specs``, by default ``shared/engine-api`` next to the repository checkout.
Without ``--check`` the module is (re)written; with ``--check`` nothing is written and
the exit status is 1 when the committed module differs from a fresh generation.

One constant per operation of the newest spec, named after its operationId: its
method, path template, the first API version that has it, its query parameters (the
Python keyword, the wire name, the first API version that has the parameter on that
operation, whether a list is sent as the parameter repeated), the generated model
types of its request body and of its 200/201 response, and the library method that
calls it.  ``ERRATA`` patches what the specs get wrong.
"""

from __future__ import annotations

import argparse
import csv
import keyword
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import genmodels

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPECS = genmodels.DEFAULT_SPECS
OUTPUT = REPO_ROOT / "src" / "aiodockerapi" / "operations.py"
METHOD_NAMES = "method-names-v{version}.tsv"
INDENT = "    "
Version = tuple[int, int]
BASE: Version = (1, 41)

# What the specs get wrong about a query parameter, keyed by (operationId, wire name):
# the corrected attributes, each entry with the reason.
ERRATA: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("ImageBuild", "version"): (
        {"since": (1, 41)},
        "BuildKit selection: first in v1.42.yaml, but dockerd 20.10 accepts /v1.41/build?version=2",
    ),
    ("ImageCreate", "changes"): (
        {"since": (1, 41), "multi": True},
        "first in v1.42.yaml, but the daemon reads it, repeated (r.Form), on 1.41 imports",
    ),
    ("ImageGetAll", "names"): (
        {"multi": True},
        "the daemon reads the names repeated (r.Form), the spec gives no collectionFormat",
    ),
    ("ImageBuild", "t"): (
        {"multi": True},
        "the daemon reads every t given (r.Form), one tag each; the spec types it one string",
    ),
    ("ImageCommit", "changes"): (
        {"multi": True},
        "the daemon reads every changes given (r.Form); the spec types it one string",
    ),
    ("ImageDelete", "platforms"): (
        {"multi": True},
        "the daemon reads the platforms repeated (r.Form), the spec gives no collectionFormat",
    ),
    ("ImageLoad", "quiet"): (
        {"default": True},
        "the spec says false, but the handler reads it with BoolValueOrDefault(r, quiet, true)",
    ),
    # Sent even when false: Podman's compatible API takes an absent attach stream (and logs)
    # as true, so leaving the default out made attach(stream=False) follow forever there.
    **{
        (op, name): ({"default": None}, "Podman reads it absent as true: always sent")
        for op in ("ContainerAttach", "ContainerAttachWebsocket")
        for name in ("stream", "logs", "stdin", "stdout", "stderr")
    },
}


def default_of(param: dict[str, Any]) -> bool | str | None:
    """The default a value equal to is left out of the query: the spec's, for booleans and
    strings, which are the Go handlers' (absent reads as false with BoolValue, as "" with
    Form.Get, and each documented true or string default is what the handler or the daemon
    behind it falls back to, checked in moby 20.10 and 29; ERRATA has the exception). Integer
    defaults are not: plugin enable's timeout must be sent (absent fails strconv.Atoi), and
    logs' since=0 reads as the Unix epoch, not as no bound."""
    default = param.get("default")
    if param.get("type") == "boolean" and isinstance(default, bool):
        return default
    if param.get("type") == "string" and isinstance(default, str) and default:
        return default
    return None


def keyword_name(wire: str) -> str:
    """The Python keyword of a query parameter (``fromImage`` -> ``from_image``)."""
    words = genmodels.split_words(wire)
    name = "_".join(word.lower() for word in words) or "param"
    if name[0].isdigit():
        name = "p_" + name
    if keyword.iskeyword(name):
        name += "_"
    return name


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation object), in spec order."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, ops in (spec.get("paths") or {}).items():
        if not isinstance(ops, dict):
            continue
        for method, op in ops.items():
            if isinstance(op, dict) and "operationId" in op:
                found[str(op["operationId"])] = (method.upper(), str(path), op)
    return found


def _query_params(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters") or [] if isinstance(p, dict) and p.get("in") == "query"]


def _has_param(found: dict[str, tuple[str, str, dict[str, Any]]], op_id: str, wire: str) -> bool:
    """Whether operation ``op_id`` of one spec has the query parameter ``wire``."""
    return op_id in found and any(p["name"] == wire for p in _query_params(found[op_id][2]))


def _model_type(expr: genmodels.TypeExpr | None) -> str | None:
    """The type's text when it names a generated model, else None (bytes, strings, Any)."""
    if expr is None or not list(expr.refs()):
        return None
    return expr.render()


def _read_python_names(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["operationId"]: row["python"] for row in csv.DictReader(fh, delimiter="\t")}


def _version_text(version: Version) -> str:
    return f"({version[0]}, {version[1]})"


def _path_name(name: str) -> str:
    return "p_" + keyword_name(name).rstrip("_")


def _sent(name: str, default: bool | str | None) -> str:
    """The condition under which a keyword's value goes into the query."""
    if default is None:
        return f"{name} is not None"
    if isinstance(default, bool):
        return f"{name} is not None and {name} is not {default}"
    return f'{name} is not None and {name} != "{default}"'


def bind_function(
    op_id: str,
    method: str,
    path: str,
    since: Version,
    python: str,
    binding: list[tuple[str, str, Version, bool, bool | str | None, str]],
) -> list[str]:
    """The source of `_bind_<op_id>`: the operation's arguments bound into a Request, with no
    loop and no lookup: path arguments checked (the common plain id by one regular
    expression, anything else by paths.segment), each query value tested against its
    default, plain booleans and integers encoded inline, and the API version needed worked
    out only for a parameter newer than the operation that is given."""
    pieces: list[str] = []
    names: list[str] = []
    rest = path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        pieces += [f'"{head}"', _path_name(name)]
        names.append(name)
    if rest:
        pieces.append(f'"{rest}"')
    sig = [f"{_path_name(n)}: str" for n in names]
    if names:
        sig.append("/")
    if binding:
        sig.append("*")
        sig += [f"{name}: Any = None" for name, *_ in binding]
    body: list[str] = []
    reference = path.startswith(("/images/", "/distribution/", "/plugins/"))
    for name in names:
        arg = _path_name(name)
        if reference:  # the reference grammar: segment's own check
            body.append(f'{arg} = segment({op_id}, "{name}", {arg})')
        else:
            body += [
                f"if kind({arg}) is not str or not plain_segment({arg}):",
                f'{INDENT}{arg} = segment({op_id}, "{name}", {arg})',
            ]
    newer = [b for b in binding if b[2] > since]
    needs = "None" if since == BASE else _version_text(since)
    if newer:
        body.append(f"needs: Version | None = {needs}")
        body.append(f'needed_by = "{python}"' if since != BASE else 'needed_by = ""')
    if binding:
        body.append("params: list[tuple[str, str]] = []")
    for name, wire, p_since, multi, default, spec_type in binding:
        body.append(f"if {_sent(name, default)}:")
        if p_since > since:
            body += [
                f"{INDENT}if needs is None or {_version_text(p_since)} > needs:",
                f"{INDENT * 2}needs = {_version_text(p_since)}",
                f'{INDENT * 2}needed_by = "the parameter {name!r}"',
            ]
        generic = f'encode_param(params, "{wire}", {name}{", True" if multi else ""})'
        if spec_type == "boolean":
            body += [
                f"{INDENT}if kind({name}) is bool:",
                f'{INDENT * 2}params.append(("{wire}", "1" if {name} else "0"))',
                f"{INDENT}else:",
                f"{INDENT * 2}{generic}",
            ]
        elif spec_type == "integer":
            body += [
                f"{INDENT}if kind({name}) is int:",
                f'{INDENT * 2}params.append(("{wire}", str({name})))',
                f"{INDENT}else:",
                f"{INDENT * 2}{generic}",
            ]
        else:
            body.append(f"{INDENT}{generic}")
    target = " + ".join(pieces)
    query = "params or None" if binding else "None"
    if newer:
        tail = ", needs, needed_by"
    elif since != BASE:
        tail = f', {needs}, "{python}"'
    else:
        tail = ""
    body.append(f'return Request("{method}", {target}, {query}{tail})')
    head = f"def _bind_{op_id}({', '.join(sig)}) -> Request:"
    return [head, *[INDENT + line for line in body]]


def ruff_format(text: str) -> str:
    """`text` as ruff format writes it (what `scripts/dev lint` checks)."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(OUTPUT), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def generate(specs: list[tuple[Version, dict[str, Any]]], python_names: dict[str, str]) -> str:
    """Module source for parsed specs, oldest first."""
    newest_version, newest = specs[-1]
    per_version = [(version, _operations(spec)) for version, spec in specs]
    gen = genmodels.Generator(newest)
    gen.run()
    unused = set(ERRATA)
    ops = _operations(newest)
    missing = sorted(set(ops) - set(python_names))
    if missing:
        raise ValueError(f"no python name for {missing}")

    blocks: list[list[str]] = []
    for op_id in sorted(ops):
        method, path, op = ops[op_id]
        since = next(v for v, found in per_version if op_id in found)
        lines = [f"{op_id}: Final = Operation(", f'{INDENT}"{op_id}",']
        lines += [f'{INDENT}"{method}",', f'{INDENT}"{path}",']
        if since != specs[0][0]:
            lines.append(f"{INDENT}since={_version_text(since)},")
        params = _query_params(op)
        binding: list[tuple[str, str, Version, bool, bool | str | None, str]] = []
        if params:
            entries: list[str] = []
            names: set[str] = set()
            for param in params:
                wire = str(param["name"])
                name = keyword_name(wire)
                if name in names:
                    raise ValueError(f"{op_id}: two query parameters named {name!r}")
                names.add(name)
                p_since = next(v for v, found in per_version if _has_param(found, op_id, wire))
                multi = param.get("collectionFormat") == "multi"
                default = default_of(param)
                fix = ERRATA.get((op_id, wire))
                if fix is not None:
                    unused.discard((op_id, wire))
                    p_since = fix[0].get("since", p_since)
                    multi = fix[0].get("multi", multi)
                    default = fix[0].get("default", default)
                args = [f'"{name}"', f'"{wire}"']
                if p_since != specs[0][0]:
                    args.append(f"since={_version_text(p_since)}")
                if multi:
                    args.append("multi=True")
                binding.append((name, wire, p_since, multi, default, str(param.get("type"))))
                if default is not None:
                    args.append(
                        f"default={default!r}"
                        if isinstance(default, bool)
                        else f'default="{default}"'
                    )
                entries.append(f"Param({', '.join(args)})")
            one_line = f"{INDENT}query=({entries[0]},),"
            if len(entries) == 1 and len(one_line) <= genmodels.LINE_LENGTH:
                lines.append(one_line)  # as ruff format puts a one-element tuple
            else:
                lines.append(f"{INDENT}query=(")
                lines += [f"{INDENT * 2}{entry}," for entry in entries]
                lines.append(f"{INDENT}),")
        body, result = gen.op_types.get(op_id, (None, None))
        body_text, result_text = _model_type(body), _model_type(result)
        if body_text is not None:
            lines.append(f'{INDENT}body="{body_text}",')
        if result_text is not None:
            lines.append(f'{INDENT}result="{result_text}",')
        lines.append(f'{INDENT}python="{python_names[op_id]}",')
        lines.append(f"{INDENT}bind=_bind_{op_id},")
        lines.append(")")
        bind = bind_function(op_id, method, path, since, python_names[op_id], binding)
        blocks.append([*bind, "", "", *lines])
    if unused:
        raise ValueError(f"ERRATA entries no operation has: {sorted(unused)}")

    first, last = specs[0][0], newest_version
    out = [
        "# This file is generated by tools/genops.py from the Docker Engine API",
        f"# specifications (API versions {first[0]}.{first[1]} to {last[0]}.{last[1]}).",
        "# Do not edit it by hand: change the generator and run `python tools/genops.py`.",
        '"""The Engine API\'s operations: one `Operation` per operationId (generated)."""',
        "",
        "from typing import Any, Final",
        "",
        "from .operation import Operation, Param, Request, Version",
        "from .params import encode_param",
        "from .paths import plain_segment, segment",
        "",
        "# `type` itself, under a name no query keyword takes (ImageAttestations has `type`).",
        "kind = type",
        "",
        "__all__ = [",
    ]
    exported = ["OPERATIONS", *ops]
    out += [f'{INDENT}"{n}",' for n in sorted(exported, key=genmodels._export_sort_key)]
    out += ["]", ""]
    for block in blocks:
        out += ["", *block]
    out += ["", "", "OPERATIONS: Final[dict[str, Operation]] = {"]
    out += [f'{INDENT}"{op_id}": {op_id},' for op_id in sorted(ops)]
    out.append("}")
    text = ruff_format("\n".join(out) + "\n")
    too_long = [line for line in text.splitlines() if len(line) > genmodels.LINE_LENGTH]
    if too_long:
        raise ValueError(f"generated lines too long: {too_long[:3]}")
    return text


def generate_from_dir(directory: Path) -> str:
    files = genmodels.spec_files(directory)
    if not files:
        raise SystemExit(f"{directory}: no v*.yaml specs")
    specs = [(version, genmodels.load_spec(path)) for version, path in files]
    newest = files[-1][0]
    names = _read_python_names(directory / METHOD_NAMES.format(version=f"{newest[0]}.{newest[1]}"))
    return generate(specs, names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--specs", type=Path, default=DEFAULT_SPECS, help="directory of the v1.*.yaml specs"
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed module is stale"
    )
    args = parser.parse_args(argv)
    if not genmodels.spec_files(args.specs):
        print(f"genops: no specs found in {args.specs}", file=sys.stderr)
        return 2
    return genmodels.write_or_check(
        "genops", args.output, args.specs, generate_from_dir, args.check
    )


if __name__ == "__main__":
    sys.exit(main())
