#!/usr/bin/env python3
"""Read how moby's Go types encode the daemon's answers, for tools/genmodels.py.

Usage::

    python tools/gonull.py --moby DIR [--check]

``DIR`` is a git directory of moby/moby (a bare mirror is enough).  For each tag
in ``TAGS`` the Go structs under ``api/types`` are parsed, and for every struct
reachable from ``ROOTS`` (the Go type of an answer, per generated class) each
JSON field is written as ``"<kind>[,omitempty] [<struct>]"`` to
``tools/gotypes/nullability.json``, with the commit of each tag:

* kind: ``scalar`` (string, number, bool and named types of them, or a value
  that encodes as one such as ``time.Time``), ``struct`` (a struct value),
  ``ptr``, ``slice``, ``map`` or ``any`` (an interface);
* ``omitempty`` / ``omitzero`` when the JSON tag has them;
* struct: the Go struct the field's value (or element) is, which tells the
  generator which Go struct a nested model is.

The parser knows only what these files use: type declarations, struct fields
(named, embedded, inline structs), pointers, slices, arrays, maps, qualified
names.  A type from outside moby must be in ``EXTERNAL``, so nothing is guessed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "gotypes" / "nullability.json"

# The moby versions read: the daemons supported run 20.10 (API 1.41) to 29.  The
# generator treats a field as nullable when any of them can send it null.
TAGS = ("v20.10.24", "v28.5.2", "docker-v29.7.2")

# The Go type of each answer, generated class -> Go type per tag (package.Name, the
# package being the directory under api/types; "types" is api/types itself).  The
# classes of nested objects follow from these through the fields.
_SAME = ("v28.5.2", "docker-v29.7.2")
ROOTS: dict[str, dict[str, str]] = {
    "ContainerInspectResponse": {
        "v20.10.24": "types.ContainerJSON",
        **dict.fromkeys(_SAME, "container.InspectResponse"),
    },
    "ContainerSummary": {
        "v20.10.24": "types.Container",
        **dict.fromkeys(_SAME, "container.Summary"),
    },
    "ContainerWaitResponse": {
        "v20.10.24": "container.ContainerWaitOKBody",
        **dict.fromkeys(_SAME, "container.WaitResponse"),
    },
    "ContainerCreateResponse": {
        "v20.10.24": "container.ContainerCreateCreatedBody",
        **dict.fromkeys(_SAME, "container.CreateResponse"),
    },
    "ContainerTopResponse": {
        "v20.10.24": "container.ContainerTopOKBody",
        **dict.fromkeys(_SAME, "container.TopResponse"),
    },
    "ContainerUpdateResponse": {
        "v20.10.24": "container.ContainerUpdateOKBody",
        **dict.fromkeys(_SAME, "container.UpdateResponse"),
    },
    "ContainerStatsResponse": {
        "v20.10.24": "types.StatsJSON",
        **dict.fromkeys(_SAME, "container.StatsResponse"),
    },
    "ContainerPruneResponse": {
        "v20.10.24": "types.ContainersPruneReport",
        **dict.fromkeys(_SAME, "container.PruneReport"),
    },
    "ImageInspect": {
        "v20.10.24": "types.ImageInspect",
        **dict.fromkeys(_SAME, "image.InspectResponse"),
    },
    "ImageSummary": {
        "v20.10.24": "types.ImageSummary",
        **dict.fromkeys(_SAME, "image.Summary"),
    },
    "ImageHistoryResponseItem": {
        "v20.10.24": "image.HistoryResponseItem",
        **dict.fromkeys(_SAME, "image.HistoryResponseItem"),
    },
    "ImageDeleteResponseItem": {
        "v20.10.24": "types.ImageDeleteResponseItem",
        **dict.fromkeys(_SAME, "image.DeleteResponse"),
    },
    "ImagePruneResponse": {
        "v20.10.24": "types.ImagesPruneReport",
        **dict.fromkeys(_SAME, "image.PruneReport"),
    },
    "Network": {
        "v20.10.24": "types.NetworkResource",
        **dict.fromkeys(_SAME, "network.Inspect"),
    },
    "NetworkInspect": {
        "v20.10.24": "types.NetworkResource",
        **dict.fromkeys(_SAME, "network.Inspect"),
    },
    "NetworkSummary": {
        "v20.10.24": "types.NetworkResource",
        **dict.fromkeys(_SAME, "network.Summary"),
    },
    "NetworkCreateResponse": {
        "v20.10.24": "types.NetworkCreateResponse",
        **dict.fromkeys(_SAME, "network.CreateResponse"),
    },
    "NetworkPruneResponse": {
        "v20.10.24": "types.NetworksPruneReport",
        **dict.fromkeys(_SAME, "network.PruneReport"),
    },
    "Volume": {"v20.10.24": "types.Volume", **dict.fromkeys(_SAME, "volume.Volume")},
    "VolumeListResponse": {
        "v20.10.24": "volume.VolumeListOKBody",
        **dict.fromkeys(_SAME, "volume.ListResponse"),
    },
    "VolumePruneResponse": {
        "v20.10.24": "types.VolumesPruneReport",
        **dict.fromkeys(_SAME, "volume.PruneReport"),
    },
    "ExecInspectResponse": {
        "v20.10.24": "backend.ExecInspect",
        "v28.5.2": "backend.ExecInspect",
        "docker-v29.7.2": "container.ExecInspectResponse",
    },
    "Service": {"v20.10.24": "swarm.Service", **dict.fromkeys(_SAME, "swarm.Service")},
    "Task": {"v20.10.24": "swarm.Task", **dict.fromkeys(_SAME, "swarm.Task")},
    "Node": {"v20.10.24": "swarm.Node", **dict.fromkeys(_SAME, "swarm.Node")},
    "Swarm": {"v20.10.24": "swarm.Swarm", **dict.fromkeys(_SAME, "swarm.Swarm")},
    "Secret": {"v20.10.24": "swarm.Secret", **dict.fromkeys(_SAME, "swarm.Secret")},
    "Config": {"v20.10.24": "swarm.Config", **dict.fromkeys(_SAME, "swarm.Config")},
    "Plugin": {
        "v20.10.24": "types.Plugin",
        "v28.5.2": "types.Plugin",
        "docker-v29.7.2": "plugin.Plugin",
    },
    "SystemInfo": {"v20.10.24": "types.Info", **dict.fromkeys(_SAME, "system.Info")},
    "SystemVersion": {
        "v20.10.24": "types.Version",
        "v28.5.2": "types.Version",
        "docker-v29.7.2": "system.VersionResponse",
    },
    "SystemDataUsageResponse": {
        "v20.10.24": "types.DiskUsage",
        "v28.5.2": "types.DiskUsage",
        "docker-v29.7.2": "system.DiskUsage",
    },
    "EventMessage": {"v20.10.24": "events.Message", **dict.fromkeys(_SAME, "events.Message")},
    "BuildPruneResponse": {
        "v20.10.24": "types.BuildCachePruneReport",
        "v28.5.2": "build.CachePruneReport",
        "docker-v29.7.2": "build.CachePruneReport",
    },
    "IDResponse": {"v20.10.24": "types.IDResponse", **dict.fromkeys(_SAME, "common.IDResponse")},
    "FilesystemChange": {
        "v20.10.24": "container.ContainerChangeResponseItem",
        **dict.fromkeys(_SAME, "container.FilesystemChange"),
    },
    "ImageSearchResponseItem": {
        "v20.10.24": "registry.SearchResult",
        **dict.fromkeys(_SAME, "registry.SearchResult"),
    },
    "AuthResponse": {
        "v20.10.24": "registry.AuthenticateOKBody",
        "v28.5.2": "registry.AuthenticateOKBody",
        "docker-v29.7.2": "registry.AuthResponse",
    },
    "ServiceCreateResponse": {
        "v20.10.24": "types.ServiceCreateResponse",
        **dict.fromkeys(_SAME, "swarm.ServiceCreateResponse"),
    },
    "ServiceUpdateResponse": {
        "v20.10.24": "types.ServiceUpdateResponse",
        **dict.fromkeys(_SAME, "swarm.ServiceUpdateResponse"),
    },
    "PluginPrivilege": {
        "v20.10.24": "types.PluginPrivilege",
        "v28.5.2": "types.PluginPrivilege",
        "docker-v29.7.2": "plugin.Privilege",
    },
    "DistributionInspect": {
        "v20.10.24": "registry.DistributionInspect",
        **dict.fromkeys(_SAME, "registry.DistributionInspect"),
    },
}

# Types from outside api/types that answers hold as values, by package (the import
# path's last element) and name, with how they encode: "struct" (always sent) or
# another kind.  A pointer to any type needs no entry.
EXTERNAL: dict[str, str] = {
    "time.Time": "scalar",  # a string
    "time.Duration": "scalar",
    "os.FileMode": "scalar",
    "netip.Addr": "scalar",  # a string ("" when zero)
    "netip.Prefix": "scalar",
    "net.HardwareAddr": "slice",  # a []byte: null when nil
    "nat.PortMap": "map",
    "nat.PortSet": "map",
    "digest.Digest": "scalar",
    "v1.Descriptor": "struct",  # OCI image-spec's specs-go/v1
    "v1.Platform": "struct",
}

BASIC = frozenset(
    "string bool byte rune int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 "
    "uintptr float32 float64 complex64 complex128".split()
)


# ---------------------------------------------------------------------------
# Lexing and parsing Go type declarations
# ---------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"(?P<ws>[ \t\r]+)|(?P<nl>\n)|(?P<lc>//[^\n]*)|(?P<bc>/\*.*?\*/)"
    r"|(?P<raw>`[^`]*`)|(?P<str>\"(?:\\.|[^\"\\\n])*\")|(?P<chr>'(?:\\.|[^'\\\n])*')"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>[0-9][0-9A-Za-z_.]*)"
    r"|(?P<op>\.\.\.|:=|<-|[^\sA-Za-z0-9_])",
    re.S,
)


def tokenize(text: str) -> list[str]:
    """Tokens, with ";" where Go inserts one at a line end; comments dropped."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "lc"):
            continue
        if kind == "nl" or (kind == "bc" and "\n" in m.group()):
            last = out[-1] if out else ""
            if last and (last[0].isalnum() or last[0] in "_\"`')]}" or last in ("++", "--")):
                out.append(";")
            continue
        if kind == "bc":
            continue
        out.append(m.group())
    return out


@dataclass
class GoType:
    kind: str  # "name" | "ptr" | "slice" | "map" | "struct" | "any" | "func" | "chan"
    name: str = ""  # for "name": "pkg.Name" or a basic type
    elem: GoType | None = None
    fields: list[GoField] | None = None  # for "struct"


@dataclass
class GoField:
    name: str  # Go name ("" for an embedded field, see embedded)
    type: GoType
    tag: str
    embedded: bool = False


class Parser:
    def __init__(self, tokens: list[str], package: str, imports: dict[str, str]) -> None:
        self.toks = tokens
        self.i = 0
        self.package = package
        self.imports = imports  # local name -> package key

    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else ""

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if expected is not None and tok != expected:
            near = " ".join(self.toks[self.i - 5 : self.i + 5])
            raise SyntaxError(f"expected {expected!r}, got {tok!r} near {near!r}")
        self.i += 1
        return tok

    def skip_balanced(self, opening: str, closing: str) -> None:
        depth = 0
        while True:
            tok = self.take()
            if tok == opening:
                depth += 1
            elif tok == closing:
                depth -= 1
                if depth == 0:
                    return

    def qualified(self, first: str) -> str:
        if self.peek() == ".":
            self.take()
            name = self.take()
            return f"{self.imports.get(first, first)}.{name}"
        if first in BASIC or first in ("any", "error"):
            return first
        return f"{self.package}.{first}"

    def type_(self) -> GoType:
        tok = self.take()
        if tok == "*":
            return GoType("ptr", elem=self.type_())
        if tok == "[":
            if self.peek() != "]":
                while self.take() != "]":
                    pass
                return GoType("array", elem=self.type_())
            self.take("]")
            return GoType("slice", elem=self.type_())
        if tok == "map":
            self.take("[")
            self.type_()
            self.take("]")
            return GoType("map", elem=self.type_())
        if tok == "struct":
            return GoType("struct", fields=self.struct_body())
        if tok == "interface":
            self.i -= 1
            self.take("interface")
            self.skip_balanced("{", "}")
            return GoType("any")
        if tok == "func":
            self.skip_balanced("(", ")")
            if self.peek() == "(":
                self.skip_balanced("(", ")")
            elif self.peek() not in (";", "`", "}", ")", "{"):
                self.type_()
            return GoType("func")
        if tok == "chan":
            return GoType("chan", elem=self.type_())
        name = self.qualified(tok)
        if self.peek() == "[":  # a generic instance
            self.skip_balanced("[", "]")
        return GoType("any" if name in ("any",) else "name", name)

    def struct_body(self) -> list[GoField]:
        self.take("{")
        fields: list[GoField] = []
        while True:
            while self.peek() == ";":
                self.take()
            if self.peek() == "}":
                self.take()
                return fields
            names = [self.take()]
            embedded = False
            if self.peek() == ".":  # embedded qualified type
                typ = GoType("name", self.qualified(names[0]))
                embedded = True
            elif names[0] == "*":
                typ = GoType("ptr", elem=GoType("name", self.qualified(self.take())))
                embedded = True
            elif self.peek() in (";", "}", "") or self.peek().startswith("`"):
                typ = GoType("name", self.qualified(names[0]))
                embedded = True
            else:
                while self.peek() == ",":
                    self.take()
                    names.append(self.take())
                typ = self.type_()
            tag = ""
            if self.peek().startswith("`"):
                tag = self.take()[1:-1]
            if embedded:
                fields.append(GoField("", typ, tag, embedded=True))
            else:
                fields.extend(GoField(n, typ, tag) for n in names)

    def declarations(self) -> dict[str, GoType]:
        """Every top-level ``type`` declaration: name -> type."""
        found: dict[str, GoType] = {}
        depth = 0
        while self.i < len(self.toks):
            tok = self.take()
            if tok in ("{", "(", "["):
                depth += 1
            elif tok in ("}", ")", "]"):
                depth -= 1
            elif tok == "type" and depth == 0:
                if self.peek() == "(":
                    self.take()
                    while self.peek() != ")":
                        if self.peek() == ";":
                            self.take()
                            continue
                        self.type_spec(found)
                    self.take(")")
                else:
                    self.type_spec(found)
        return found

    def type_spec(self, found: dict[str, GoType]) -> None:
        name = self.take()
        if self.peek() == "[" and self.peek(1) != "]" and not self.peek(1).isdigit():
            self.skip_balanced("[", "]")  # generic type parameters
        if self.peek() == "=":
            self.take()
        found[f"{self.package}.{name}"] = self.type_()


_IMPORT_RE = re.compile(r'^\s*(?:(\w+)\s+)?"([^"]+)"', re.M)


def _imports(text: str) -> dict[str, str]:
    """Local import name -> package key (api/types/x -> x, others by last element)."""
    block = re.search(r"^import\s*\((.*?)^\)", text, re.S | re.M)
    lines = block.group(1) if block else ""
    lines += "\n".join(re.findall(r'^import\s+((?:\w+\s+)?"[^"]+")', text, re.M))
    out: dict[str, str] = {}
    for alias, path in _IMPORT_RE.findall(lines):
        key = _package_key(path)
        local = alias or re.sub(r"^go-", "", path.rstrip("/").split("/")[-1])
        if re.fullmatch(r"v\d+", local):
            local = path.rstrip("/").split("/")[-2] if not alias else alias
        out[local] = key
    return out


def _package_key(import_path: str) -> str:
    match = re.search(r"/api/types(?:/(.+))?$", import_path)
    if match:
        return match.group(1) or "types"
    return import_path.rstrip("/").split("/")[-1].removeprefix("go-")


# ---------------------------------------------------------------------------
# Reading a tag
# ---------------------------------------------------------------------------


def _git(moby: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(moby), *args], check=True, capture_output=True, text=True
    ).stdout


def read_tag(moby: Path, tag: str) -> dict[str, GoType]:
    """All type declarations under api/types at ``tag``, keyed by package.Name."""
    files = _git(moby, "ls-tree", "-r", "--name-only", tag, "api/types").split()
    decls: dict[str, GoType] = {}
    for path in files:
        if not path.endswith(".go") or path.endswith("_test.go") or "/versions/" in path:
            continue
        directory = path.rsplit("/", 1)[0]
        package = _package_key("/" + directory)
        text = _git(moby, "show", f"{tag}:{path}")
        if re.search(r"^//go:build.*\bwindows\b", text, re.M) and "!windows" not in text:
            continue
        parser = Parser(tokenize(text), package, _imports(text))
        found = parser.declarations()
        names = re.findall(r"^type\s+(\w+)", text, re.M)
        missed = [n for n in names if f"{package}.{n}" not in found]
        if missed:  # the parser lost its way in this file
            raise ValueError(f"{tag}:{path}: declarations not parsed: {missed}")
        for name, typ in found.items():
            decls.setdefault(name, typ)
    return decls


def _underlying(typ: GoType, decls: dict[str, GoType], seen: int = 0) -> GoType:
    """Follow named moby types to what they are; external names stay names."""
    while typ.kind == "name" and typ.name in decls and seen < 20:
        typ = decls[typ.name]
        seen += 1
    return typ


def _json_name(field: GoField) -> tuple[str | None, str]:
    """(JSON name or None when skipped, ",omitempty" / ",omitzero" or "")."""
    match = re.search(r'json:"([^"]*)"', field.tag)
    if not match:
        return field.name, ""
    name, *options = match.group(1).split(",")
    if name == "-" and not options:
        return None, ""
    flags = "".join(f",{o}" for o in ("omitempty", "omitzero") if o in options)
    return (name or field.name), flags


def describe(typ: GoType, decls: dict[str, GoType], where: str) -> tuple[str, str | None]:
    """(kind, struct key of the value or element) of a field's Go type."""
    base = _underlying(typ, decls)
    if base.kind == "name":
        if base.name in BASIC:
            return "scalar", None
        if base.name in ("error",):
            return "any", None
        short = base.name
        if short not in EXTERNAL:
            raise ValueError(f"{where}: unknown type {base.name!r}: add it to EXTERNAL")
        kind = EXTERNAL[short]
        return kind, None
    if base.kind == "struct":
        return "struct", _struct_key(typ)
    if base.kind in ("ptr", "slice", "array", "map"):
        assert base.elem is not None
        inner = _underlying(base.elem, decls)
        while inner.kind in ("ptr", "slice", "array", "map"):
            assert inner.elem is not None
            inner = _underlying(inner.elem, decls)
        elem_key = None
        if inner.kind == "struct":
            elem_key = _element_key(base.elem, decls)
        if base.kind == "array":
            return ("scalar" if elem_key is None else "struct"), elem_key
        return base.kind, elem_key
    if base.kind == "any":
        return "any", None
    raise ValueError(f"{where}: unsupported Go type kind {base.kind}")


def _struct_key(typ: GoType) -> str | None:
    return typ.name if typ.kind == "name" else None


def _element_key(elem: GoType, decls: dict[str, GoType]) -> str | None:
    while elem.kind in ("ptr", "slice", "array", "map") or (
        elem.kind == "name" and elem.name in decls and decls[elem.name].kind != "struct"
    ):
        following = elem.elem if elem.kind != "name" else decls[elem.name]
        assert following is not None
        elem = following
    if elem.kind == "name":
        # a named alias of a struct (type X = Y) resolves to the last name
        while elem.name in decls and decls[elem.name].kind == "name":
            elem = decls[elem.name]
        return elem.name
    return None


def json_fields(
    key: str, struct: GoType, decls: dict[str, GoType], inline: dict[str, GoType]
) -> dict[str, str]:
    """JSON name -> "<kind>[,omitempty][ <struct>]" for a struct, embedded ones merged
    (a field of the struct itself wins over a promoted one, as in encoding/json)."""
    assert struct.fields is not None
    own: dict[str, str] = {}
    promoted: dict[str, str] = {}
    for f in struct.fields:
        name, omit = _json_name(f)
        if name is None or (f.name and not f.name[0].isupper()):
            continue
        if f.embedded and not re.search(r'json:"[^",]', f.tag):
            target = f.type.elem if f.type.kind == "ptr" else f.type
            assert target is not None
            base = _underlying(target, decls)
            if base.kind == "struct":
                sub_key = target.name
                for wire, text in json_fields(sub_key, base, decls, inline).items():
                    promoted.setdefault(wire, text)
                continue
            name = target.name.split(".")[-1]
        kind, elem = describe(f.type, decls, f"{key}.{name}")
        if kind == "struct" and elem is None:
            base = _underlying(f.type, decls)
            if base.kind == "struct":  # an inline struct
                elem = f"{key}.{name}"
                inline[elem] = base
        own[name] = kind + omit + (f" {elem}" if elem else "")
    return {**promoted, **own}


def extract(moby: Path, tag: str) -> dict[str, Any]:
    decls = read_tag(moby, tag)
    roots = {cls: by_tag[tag] for cls, by_tag in ROOTS.items()}
    structs: dict[str, dict[str, str]] = {}
    inline: dict[str, GoType] = {}
    todo = list(roots.values())
    while todo:
        key = todo.pop()
        if key in structs:
            continue
        typ = inline.get(key) or _underlying(GoType("name", key), decls)
        if typ.kind != "struct":
            raise ValueError(f"{tag}: {key} is not a struct ({typ.kind})")
        fields = json_fields(key, typ, decls, inline)
        structs[key] = fields
        for text in fields.values():
            parts = text.split(" ")
            if len(parts) == 2 and parts[1] not in structs:
                if parts[1] in decls or parts[1] in inline:
                    todo.append(parts[1])
    commit = _git(moby, "rev-parse", f"{tag}^{{commit}}").strip()
    return {
        "commit": commit,
        "roots": roots,
        "structs": {k: dict(sorted(v.items())) for k, v in sorted(structs.items())},
    }


def build(moby: Path) -> str:
    data = {
        "source": "github.com/moby/moby, api/types (written by tools/gonull.py)",
        "tags": {tag: extract(moby, tag) for tag in TAGS},
    }
    return json.dumps(data, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moby", type=Path, required=True, help="a git directory of moby/moby")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    text = build(args.moby)
    current = args.output.read_text("utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"gonull: {args.output} is out of date", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, "utf-8")
    print(f"gonull: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
