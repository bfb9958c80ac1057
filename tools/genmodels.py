#!/usr/bin/env python3
"""Generate ``aiodockerapi/models/generated.py`` from the Docker Engine API specs.

Usage::

    python tools/genmodels.py [--specs DIR] [--check]

The specs (Swagger 2.0 YAML documents ``v1.41.yaml`` .. ``v1.55.yaml``) are read
from ``--specs``, by default ``shared/engine-api`` next to the repository
checkout.  Without ``--check`` the module is (re)written; with ``--check``
nothing is written and the exit status is 1 when the committed module differs
from a fresh generation.

The models are those of the newest spec, merged with the older ones: a class or
a property an older API version had and the newest dropped stays (a property as
an optional field), so older daemons' answers still decode; where a version
renamed a definition (``RENAMED``), the old name stays as an alias.  The type of
a property is the newest version's.

Types: whether a property is ``X | None = None`` or a plain type with a
zero-value default (``""``, ``0``, ``False``, an empty list, dict or Struct)
comes from moby's Go types of the daemon's answers, read by tools/gonull.py into
tools/gotypes/nullability.json (see GO_TYPES, ALWAYS_FILLED and docs/typing.md).
A class that is no answer (a request body, a progress message) keeps the spec's
word: its ``required`` scalars are plain, the rest Optional.  A property only
older versions have, or one the spec marks ``x-nullable``, is always Optional.
Free-form JSON (a schema with no type) is ``object``.

Naming rules (kept stable on purpose, the rest of the package imports these):

* every entry of ``definitions`` keeps its own name (but those ``CLASS_NAMES``
  renames).  Object definitions become
  ``msgspec.Struct`` classes; scalar/map definitions (string enums, ``PortMap``)
  become ``TypeAlias`` entries; a definition that is an *array of inline
  objects* (``ContainerSummary``, ``GenericResources``) names the element
  struct and references to it resolve to ``list[Name]``;
* inline object schemas with a ``title`` use the title;
* untitled inline response objects are ``<OperationId>Response`` (non-2xx ones
  get the status code appended), untitled body objects ``<OperationId>Body``;
  element objects of inline arrays append ``Item``;
* nested inline objects are ``<Parent><FieldPascal>`` (``Item`` appended for
  array elements, ``Value`` for map values);
* a name already taken by a different schema gets a numeric suffix (2, 3, ...)
  in spec order; a structurally identical schema reuses the existing class.

Attribute names are snake_case; the wire name is kept via
``msgspec.field(name=...)`` whenever it differs.  When two properties of one
object map to the same attribute name, the PascalCase (or, failing that, the
first declared) property keeps the plain name and the other one gets
``_legacy`` (lowercase wire name) or ``_alt`` appended.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPECS = Path(__file__).resolve().parents[2] / "shared/engine-api"
OUTPUT = REPO_ROOT / "src" / "aiodockerapi" / "models" / "generated.py"
LINE_LENGTH = 100
INDENT = "    "

# Definitions whose class takes another name than the spec's, definition -> class
# name: the spec's AuthConfig would collide with aiodockerapi.AuthConfig (auth.py),
# the credentials users pass, which it is a subset of.
CLASS_NAMES: dict[str, str] = {
    "AuthConfig": "SpecAuthConfig",
}

# Definitions a later API version renamed, old generated name -> newest name.
# The old name stays importable as an alias of the new class, and the old
# version's properties merge into it.
RENAMED: dict[str, str] = {
    "ContainerChangeResponseItem": "FilesystemChange",  # 1.43
    "ContainerExecBody": "ExecConfig",  # 1.42
    "ContainerWaitResponseError": "ContainerWaitExitError",  # 1.42
    "DistributionInspectResponse": "DistributionInspect",  # 1.42
    "DistributionInspectResponseDescriptor": "OCIDescriptor",  # 1.42
    "DistributionInspectResponsePlatformsItem": "OCIPlatform",  # 1.42
    "ExecStartBody": "ExecStartConfig",  # 1.42
    "GraphDriverData": "DriverData",  # 1.47
    "HistoryResponseItem": "ImageHistoryResponseItem",  # 1.42
    "IdResponse": "IDResponse",  # 1.48
    "Image": "ImageInspect",  # 1.42
    "ImageMetadata": "ImageInspectMetadata",  # 1.42
    "ImageRootFS": "ImageInspectRootFS",  # 1.42
    "NetworkConnectBody": "NetworkConnectRequest",  # 1.42
    "NetworkContainer": "EndpointResource",  # 1.52
    "NetworkCreateBody": "NetworkCreateRequest",  # 1.42
    "NetworkDisconnectBody": "NetworkDisconnectRequest",  # 1.42
    "PluginPrivilegeItem": "PluginPrivilege",  # 1.42
    "PluginPullBodyItem": "PluginPrivilege",  # 1.42
    "PluginUpgradeBodyItem": "PluginPrivilege",  # 1.42
    "Port": "PortSummary",  # 1.52
    "SwarmInitBody": "SwarmInitRequest",  # 1.42
    "SwarmJoinBody": "SwarmJoinRequest",  # 1.42
    "SwarmUnlockBody": "SwarmUnlockRequest",  # 1.42
    "SystemAuthResponse": "AuthResponse",  # 1.52
    "SystemEventsResponse": "EventMessage",  # 1.42
    "SystemEventsResponseActor": "EventActor",  # 1.42
    "TaskSpecPluginSpecPluginPrivilegeItem": "PluginPrivilege",  # 1.42
    "TaskStatusContainerStatus": "ContainerStatus",  # 1.44
    "VolumeConfig": "VolumeCreateRequest",  # 1.42 (VolumeCreateOptions), 1.52
    "VolumeCreateOptions": "VolumeCreateRequest",  # 1.52
}

# Nullability comes from moby's Go types of the daemon's answers, read by
# tools/gonull.py into GO_TYPES (see docs/typing.md).  A class that is (part of) an
# answer maps to a Go struct per moby version read; a field of it gets a plain type
# with a zero-value default when every version sends it and never as null:
#
# * a non-pointer scalar or struct value (omitempty or not: absent means zero);
# * a slice or map with omitempty (absent means empty);
#
# and ``X | None = None`` otherwise: a pointer (null when nil, or absent with
# omitempty), a slice or map without omitempty (null when nil), an interface, a
# struct value with omitzero, a field no version read declares.  A version whose
# struct lacks a field counts as "absent": fine but for a struct value.
GO_TYPES = Path(__file__).resolve().parent / "gotypes" / "nullability.json"

# Properties whose Go type is not the class the spec names, keyed by (class, wire name):
# the Go struct's fields say nothing about that class, so the generator does not follow
# them (the class keeps what its other answers say).
SPEC_MISMATCH: dict[tuple[str, str], str] = {
    ("NetworkAttachment", "Network"): "the daemon sends a swarm.Network (ID, Spec, ...) there",
}

# CORRECTIONS: fields Go could send as null (a pointer, slice or map without
# omitempty) that the daemon always fills in the answer the class is, keyed by
# the class that declares the property, with the reason.  tests/test_nullability.py
# proves each one on every daemon of the test matrix, Podman included.
ALWAYS_FILLED: dict[tuple[str, str], str] = {
    ("ContainerInspectResponse", "State"): "the daemon builds State for every container",
    ("ContainerInspectResponse", "Config"): "every container has its creation config",
    ("ContainerInspectResponse", "HostConfig"): "every container has its host config",
    ("ContainerInspectResponse", "NetworkSettings"): "the daemon builds it for every container",
    ("ContainerInspectResponse", "Mounts"): "the daemon builds the list, empty without mounts",
    ("ContainerSummary", "Names"): "every container has at least one name",
    ("ImageInspect", "RepoTags"): "the daemon sends [] for an image without tags",
    ("ImageInspect", "RepoDigests"): "the daemon sends [] for an image without digests",
    ("EventActor", "Attributes"): "every daemon event builds its attributes map",
}

# Properties the daemon sends but the spec does not describe, keyed by the
# generated class name.  Values are Swagger schemas.  The legacy event fields
# are still emitted by API v1.41 daemons next to Type/Action/Actor.
EXTRA_PROPERTIES: dict[str, dict[str, dict[str, Any]]] = {
    "EventMessage": {
        "status": {"type": "string"},
        "id": {"type": "string"},
        "from": {"type": "string"},
        "scope": {"type": "string"},
    },
    # Push and pull progress carry what build progress does: the daemon sends them.
    "PushImageInfo": {
        "id": {"type": "string"},
        "errorDetail": {"$ref": "#/definitions/ErrorDetail"},
        "aux": {
            "type": "object",
            "properties": {
                "Tag": {"type": "string"},
                "Digest": {"type": "string"},
                "Size": {"type": "integer"},
            },
        },
    },
    "CreateImageInfo": {
        "errorDetail": {"$ref": "#/definitions/ErrorDetail"},
    },
}

# Property schemas the v1.41 spec gets wrong, keyed by (class, wire name).
# ContainerList returns mount *points* (Destination, RW, ...), as the spec's
# own example shows, not mount specifications.
PROPERTY_FIXES: dict[tuple[str, str], dict[str, Any]] = {
    # A BuildKit build (version=2) sends {"id": "moby.buildkit.trace", "aux": "<base64>"}:
    # aux is then a string (a StatusResponse protobuf, see aiodockerapi.buildkit).
    ("BuildInfo", "aux"): {"$ref": "#/definitions/ImageID", "x-or-string": True},
    ("ContainerSummary", "Mounts"): {
        "type": "array",
        "items": {"$ref": "#/definitions/MountPoint"},
    },
    # The daemon sends plugin interface types as strings ("docker.volumedriver/1.0").
    ("PluginConfigInterface", "Types"): {"type": "array", "items": {"type": "string"}},
    # The daemon sends the OCI descriptor and platform with their lower-case OCI names.
    ("DistributionInspectResponse", "Descriptor"): {
        "type": "object",
        "properties": {
            "mediaType": {"type": "string"},
            "digest": {"type": "string"},
            "size": {"type": "integer"},
            "urls": {"type": "array", "items": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    ("DistributionInspectResponse", "Platforms"): {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "architecture": {"type": "string"},
                "os": {"type": "string"},
                "os.version": {"type": "string"},
                "os.features": {"type": "array", "items": {"type": "string"}},
                "variant": {"type": "string"},
                "features": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}

# Spelling fixes applied before splitting a wire name into words, so that
# ``IPv4Address`` becomes ``ipv4_address`` rather than ``i_pv4_address``.
WORD_FIXES: tuple[tuple[str, str], ...] = (
    ("IPv4", "Ipv4"),
    ("IPv6", "Ipv6"),
    ("IOps", "Iops"),
    ("SELinux", "Selinux"),
)

# Attribute names that would shadow a name used in annotations inside the
# class body (or otherwise break the module); they get a trailing underscore.
RESERVED_ATTRS = frozenset(
    {"str", "int", "float", "bool", "list", "dict", "bytes", "msgspec", "Any", "TypeAlias"}
)

_WORD_RE = re.compile(
    r"[A-Z]+s(?=[A-Z]|$)"  # plural acronym: CPUs, IDs, CIDRs
    r"|[A-Z]+(?=[A-Z][a-z])"  # acronym followed by a word: IPAMConfig
    r"|[A-Z]?[a-z0-9]+"  # ordinary word: Config, time, ip6tables
    r"|[A-Z]+[0-9]*"  # trailing acronym: ID, NCPU
    r"|[0-9]+"
)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def split_words(name: str) -> list[str]:
    for old, new in WORD_FIXES:
        name = name.replace(old, new)
    words: list[str] = []
    for part in re.split(r"[^0-9A-Za-z]+", name):
        words.extend(_WORD_RE.findall(part))
    return words


def snake_case(name: str) -> str:
    """Python attribute name for a wire name (``RepoTags`` -> ``repo_tags``)."""
    attr = "_".join(word.lower() for word in split_words(name)) or "field"
    if attr[0].isdigit():
        attr = "f_" + attr
    if keyword.iskeyword(attr) or attr in RESERVED_ATTRS:
        attr += "_"
    return attr


def pascal_case(name: str) -> str:
    """Class-name fragment for a wire name (``timeNano`` -> ``TimeNano``)."""
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    out = "".join(p[0].upper() + p[1:] for p in parts) or "Field"
    if out[0].isdigit():
        out = "N" + out
    return out


# ---------------------------------------------------------------------------
# Type expressions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeExpr:
    kind: str  # "prim" | "ref" | "list" | "dict" | "any"
    name: str = ""  # primitive or model name
    inner: TypeExpr | None = None
    nullable: bool = False  # only used for list items and map values
    or_str: bool = False  # a model the daemon may send as a string instead (x-or-string)

    def render(self) -> str:
        if self.kind in ("prim", "ref"):
            text = self.name
        elif self.kind == "any":
            return "object"  # any JSON value: a user narrows it with isinstance
        elif self.kind == "list":
            assert self.inner is not None
            text = f"list[{self.inner.render()}]"
        elif self.kind == "dict":
            assert self.inner is not None
            text = f"dict[str, {self.inner.render()}]"
        else:  # pragma: no cover - internal error
            raise ValueError(self.kind)
        if self.or_str:
            text += " | str"
        return f"{text} | None" if self.nullable else text

    def refs(self) -> Iterator[str]:
        if self.kind == "ref":
            yield self.name
        if self.inner is not None:
            yield from self.inner.refs()


ANY = TypeExpr("any")
PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


@dataclass
class Field:
    attr: str
    wire: str
    type: TypeExpr
    owner: str = ""  # the class that declares the property (allOf keeps the base's)
    required: bool = False  # the spec lists it in ``required``
    nullable: bool = False  # the spec says x-nullable
    legacy: bool = False  # only older API versions have it


@dataclass
class Model:
    name: str
    origin: str  # where in the spec the schema lives, for the docstring
    alias: TypeExpr | None = None  # set for TypeAlias models
    fields: list[Field] = field(default_factory=list)
    api: str = ""  # the older API version it comes from, when the newest lacks it

    def deps(self) -> list[str]:
        exprs = [self.alias] if self.alias is not None else [f.type for f in self.fields]
        seen: list[str] = []
        for expr in exprs:
            for ref in expr.refs():
                if ref not in seen:
                    seen.append(ref)
        return seen


# ---------------------------------------------------------------------------
# Spec walking
# ---------------------------------------------------------------------------


def _is_object_schema(schema: dict[str, Any]) -> bool:
    """Whether a schema describes an object with known properties (-> Struct)."""
    if "$ref" in schema:
        return False
    if "allOf" in schema:
        return True
    return isinstance(schema.get("properties"), dict)


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, default=str)


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.definitions: dict[str, dict[str, Any]] = spec.get("definitions") or {}
        self.models: dict[str, Model] = {}
        self.by_schema: dict[int, str] = {}  # id(inline schema) -> model name
        self.canonical: dict[str, str] = {}  # model name -> canonical schema text
        self.def_names: dict[str, str] = {}
        self.def_kinds: dict[str, str] = {}  # "struct" | "array" | "alias"
        # operationId -> (request body type, 200/201 response type), for tools/genops.py
        self.op_types: dict[str, tuple[TypeExpr | None, TypeExpr | None]] = {}
        for key, schema in self.definitions.items():
            self.def_names[key] = CLASS_NAMES.get(key) or pascal_case(key)
            if _is_object_schema(schema):
                kind = "struct"
            elif schema.get("type") == "array" and _is_object_schema(schema.get("items") or {}):
                kind = "array"
            else:
                kind = "alias"
            self.def_kinds[key] = kind

    # -- references ----------------------------------------------------------

    def _ref_key(self, ref: str) -> str:
        prefix = "#/definitions/"
        if not ref.startswith(prefix):
            raise ValueError(f"unsupported $ref {ref!r}")
        key = ref[len(prefix) :]
        if key not in self.definitions:
            raise ValueError(f"dangling $ref {ref!r}")
        return key

    def _ref_type(self, ref: str) -> TypeExpr:
        key = self._ref_key(ref)
        name = self.def_names[key]
        if self.def_kinds[key] == "array":
            return TypeExpr("list", inner=TypeExpr("ref", name))
        return TypeExpr("ref", name)

    # -- names ---------------------------------------------------------------

    def _claim(self, wanted: str, schema: dict[str, Any]) -> tuple[str, bool]:
        """Pick a free class name; returns (name, already_built)."""
        canon = _canonical(schema)
        candidate, n = wanted, 1
        while candidate in self.models:
            if self.canonical.get(candidate) == canon:
                return candidate, True
            n += 1
            candidate = f"{wanted}{n}"
        return candidate, False

    # -- schema -> type ------------------------------------------------------

    def type_of(self, schema: Any, name_hint: str, origin: str) -> TypeExpr:
        """Type for ``schema``; inline objects become models named ``name_hint``."""
        if not isinstance(schema, dict):
            return ANY
        if "$ref" in schema:
            ref = self._ref_type(schema["$ref"])
            return replace(ref, or_str=True) if schema.get("x-or-string") else ref
        if _is_object_schema(schema):
            all_of = schema.get("allOf")
            if (
                isinstance(all_of, list)
                and len(all_of) == 1
                and "$ref" in all_of[0]
                and "properties" not in schema
            ):
                return self._ref_type(all_of[0]["$ref"])
            return TypeExpr("ref", self.build_struct(schema, name_hint, origin))
        kind = schema.get("type")
        if kind == "array" or (kind is None and "items" in schema):
            items = schema.get("items")
            if not isinstance(items, dict):
                return TypeExpr("list", inner=ANY)
            item_type = self.type_of(items, name_hint + "Item", origin + "[]")
            if item_type.kind == "list" and "$ref" in items:
                # An array of an array definition: the v1.41 spec declares
                # ContainerSummary as a list and then lists it again in
                # SystemDataUsage; the daemon sends a flat list.
                return item_type
            return TypeExpr("list", inner=self._inner(item_type, items))
        if kind == "object" or (kind is None and "additionalProperties" in schema):
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value = self.type_of(extra, name_hint + "Value", origin + "{}")
                return TypeExpr("dict", inner=self._inner(value, extra))
            return TypeExpr("dict", inner=ANY)
        if isinstance(kind, str) and kind in PRIMITIVES:
            return TypeExpr("prim", PRIMITIVES[kind])
        return ANY

    @staticmethod
    def _inner(expr: TypeExpr, schema: dict[str, Any]) -> TypeExpr:
        if schema.get("x-nullable") and expr.kind != "any":
            return TypeExpr(expr.kind, expr.name, expr.inner, nullable=True)
        return expr

    # -- structs -------------------------------------------------------------

    def _properties(
        self, schema: dict[str, Any], owner: str, seen: tuple[str, ...] = ()
    ) -> list[tuple[str, Any, str, bool]]:
        """Flattened ``(wire, schema, owner_class, required)`` tuples, allOf merged."""
        merged: dict[str, tuple[str, Any, str, bool]] = {}

        def add(items: list[tuple[str, Any, str, bool]]) -> None:
            for item in items:
                merged[item[0]] = item

        for part in schema.get("allOf") or []:
            if not isinstance(part, dict):
                continue
            if "$ref" in part:
                key = self._ref_key(part["$ref"])
                if key in seen:
                    raise ValueError(f"allOf cycle through {key!r}")
                target = self.definitions[key]
                if self.def_kinds[key] == "array":
                    target = target["items"]
                add(self._properties(target, self.def_names[key], (*seen, key)))
            else:
                add(self._properties(part, owner, seen))
        props = schema.get("properties")
        required = schema.get("required")
        required_names = set(required) if isinstance(required, list) else set()
        if isinstance(props, dict):
            for wire, sub in props.items():
                if not isinstance(wire, str):
                    raise ValueError(f"non-string property name {wire!r} in {owner}")
                sub = PROPERTY_FIXES.get((owner, wire), sub)
                merged[wire] = (wire, sub, owner, wire in required_names)
        return list(merged.values())

    def build_struct(self, schema: dict[str, Any], name_hint: str, origin: str) -> str:
        known = self.by_schema.get(id(schema))
        if known is not None:
            return known
        title = schema.get("title")
        wanted = pascal_case(title) if isinstance(title, str) and title else name_hint
        name, built = self._claim(wanted, schema)
        self.by_schema[id(schema)] = name
        if built:
            return name
        model = Model(name, origin)
        self.models[name] = model
        self.canonical[name] = _canonical(schema)
        self._fill(model, schema)
        return name

    # -- top level -----------------------------------------------------------

    def run(self) -> dict[str, Model]:
        # Definitions first, in spec order.  All their models exist before any
        # is filled, so an inline schema can never take a definition's name.
        pending: list[tuple[Model, dict[str, Any]]] = []
        for key, schema in self.definitions.items():
            name = self.def_names[key]
            if name in self.models:
                raise ValueError(f"two definitions map to the class name {name!r}")
            suffix = "[]" if self.def_kinds[key] == "array" else ""
            model = Model(name, f"definitions.{key}{suffix}")
            self.models[name] = model
            kind = self.def_kinds[key]
            if kind != "alias":
                target = schema if kind == "struct" else schema["items"]
                self.by_schema[id(target)] = name
                self.canonical[name] = _canonical(target)
                pending.append((model, target))
            else:
                pending.append((model, schema))
        for model, schema in pending:
            if model.name in self.canonical:
                self._fill(model, schema)
            else:
                model.alias = self.type_of(schema, model.name + "Value", model.origin)

        for ops in (self.spec.get("paths") or {}).values():
            if not isinstance(ops, dict):
                continue
            for op in ops.values():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                op_id = str(op["operationId"])
                op_name = pascal_case(op_id)
                body: TypeExpr | None = None
                result: TypeExpr | None = None
                for param in op.get("parameters") or []:
                    if isinstance(param, dict) and param.get("in") == "body":
                        origin = f"{op['operationId']}.body"
                        body = self.type_of(param.get("schema"), op_name + "Body", origin)
                for code, response in (op.get("responses") or {}).items():
                    if not isinstance(response, dict) or "schema" not in response:
                        continue
                    code_text = str(code)
                    suffix = "" if code_text.startswith("2") else code_text
                    origin = f"{op['operationId']}.responses.{code_text}"
                    hint = op_name + "Response" + suffix
                    expr = self.type_of(response["schema"], hint, origin)
                    if code_text in ("200", "201") and result is None:
                        result = expr
                self.op_types[op_id] = (body, result)
        return self.models

    def _fill(self, model: Model, schema: dict[str, Any]) -> None:
        props = self._properties(schema, model.name)
        extra = EXTRA_PROPERTIES.get(RENAMED.get(model.name, model.name), {})
        for wire, sub in extra.items():
            if wire not in {p[0] for p in props}:
                props.append((wire, sub, model.name, False))
        attrs = _assign_attrs([p[0] for p in props])
        for (wire, sub, owner, required), attr in zip(props, attrs, strict=True):
            expr = self.type_of(sub, owner + pascal_case(wire), f"{owner}.{wire}")
            nullable = isinstance(sub, dict) and bool(sub.get("x-nullable"))
            model.fields.append(Field(attr, wire, expr, owner, required, nullable))


def _assign_attrs(wires: list[str]) -> list[str]:
    """snake_case attribute names for one object's properties, made unique."""
    base = [snake_case(w) for w in wires]
    groups: dict[str, list[int]] = {}
    for index, attr in enumerate(base):
        groups.setdefault(attr, []).append(index)
    result = list(base)
    taken = set(base)
    for attr, indexes in groups.items():
        if len(indexes) < 2:
            continue
        # PascalCase wire names win over lowercase (legacy) ones, then spec order.
        ordered = sorted(indexes, key=lambda i: (wires[i][:1].islower(), i))
        for index in ordered[1:]:
            stem = attr.rstrip("_")
            candidate = stem + ("_legacy" if wires[index][:1].islower() else "_alt")
            n = 2
            unique = candidate
            while unique in taken:
                unique = f"{candidate}{n}"
                n += 1
            result[index] = unique
            taken.add(unique)
    return result


# ---------------------------------------------------------------------------
# Merging API versions
# ---------------------------------------------------------------------------


def _renamed(expr: TypeExpr) -> TypeExpr:
    """``expr`` with references to renamed definitions pointing at the new names."""
    if expr.kind == "ref":
        return TypeExpr("ref", RENAMED.get(expr.name, expr.name), None, expr.nullable)
    if expr.inner is not None:
        return TypeExpr(expr.kind, expr.name, _renamed(expr.inner), expr.nullable)
    return expr


def merge(versions: list[tuple[str, dict[str, Model]]], *, strict: bool = False) -> Merged:
    """One model set from the models of each API version (oldest first): the newest
    version's, plus what only older versions have (classes, and properties as optional
    fields; newest older version first).  ``strict`` checks that every entry of RENAMED
    is used."""
    merged = dict(versions[-1][1])
    aliases: dict[str, str] = {}
    for version, models in reversed(versions[:-1]):
        for name, old in models.items():
            target = RENAMED.get(name, name)
            if target != name:
                if target not in merged:
                    raise ValueError(f"RENAMED: {name} -> {target}, which the newest spec lacks")
                aliases[name] = target
            model = merged.get(target)
            if model is None:
                alias = _renamed(old.alias) if old.alias is not None else None
                model = Model(name, old.origin, alias, api=version)
                merged[name] = model
            elif model.alias is not None or old.alias is not None:
                continue  # a type alias: the newest wins
            have = {f.wire for f in model.fields}
            for f in old.fields:
                if f.wire not in have:
                    have.add(f.wire)
                    model.fields.append(
                        Field(f.attr, f.wire, _renamed(f.type), f.owner, legacy=True)
                    )
    for model in merged.values():
        if model.alias is None:
            attrs = _assign_attrs([f.wire for f in model.fields])
            for f, attr in zip(model.fields, attrs, strict=True):
                f.attr = attr
    if strict:
        unused = sorted(set(RENAMED) - set(aliases))
        if unused:
            raise ValueError(f"RENAMED entries no spec has: {unused}")
    return Merged(merged, dict(sorted(aliases.items())))


@dataclass
class Merged:
    models: dict[str, Model]
    aliases: dict[str, str]  # old name -> newest name


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _order(models: dict[str, Model]) -> list[Model]:
    """Dependencies first (depth-first, spec order), so no forward references."""
    done: set[str] = set()
    active: set[str] = set()
    ordered: list[Model] = []

    def visit(name: str) -> None:
        if name in done or name in active:
            return
        active.add(name)
        for dep in models[name].deps():
            visit(dep)
        active.discard(name)
        done.add(name)
        ordered.append(models[name])

    for name in models:
        visit(name)
    return ordered


ZERO = {"str": '""', "int": "0", "float": "0.0", "bool": "False"}


def _resolve(expr: TypeExpr, models: dict[str, Model]) -> TypeExpr:
    """Follow references to type aliases down to what they name."""
    while expr.kind == "ref" and models[expr.name].alias is not None:
        alias = models[expr.name].alias
        assert alias is not None
        expr = alias
    return expr


def _struct_ref(expr: TypeExpr, models: dict[str, Model]) -> str | None:
    """The struct model a field's value (or list item, or map value) is, if any."""
    expr = _resolve(expr, models)
    while expr.kind in ("list", "dict") and expr.inner is not None:
        expr = _resolve(expr.inner, models)
    if expr.kind == "ref" and models[expr.name].alias is None:
        return expr.name
    return None


def load_go_types(path: Path = GO_TYPES) -> dict[str, Any]:
    with path.open("rb") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def go_facts(models: dict[str, Model], go: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Class -> the Go fields (JSON name -> "kind[,flags] [struct]") of each moby version
    whose answers it is part of: the roots, then what their fields' Go types lead to.  A
    class that two Go structs lead to (a shared definition) gets both: both must agree."""
    facts: dict[str, list[dict[str, str]]] = {}
    for tag in go["tags"].values():
        structs: dict[str, dict[str, str]] = tag["structs"]
        seen: set[tuple[str, str]] = set()
        todo = [(cls, key) for cls, key in tag["roots"].items() if cls in models]
        while todo:
            cls, key = todo.pop(0)
            if (cls, key) in seen:
                continue
            seen.add((cls, key))
            facts.setdefault(cls, []).append(structs[key])
            for f in models[cls].fields:
                parts = structs[key].get(f.wire, "").split(" ")
                nested = _struct_ref(f.type, models)
                if len(parts) == 2 and nested is not None and (cls, f.wire) not in SPEC_MISMATCH:
                    todo.append((nested, parts[1]))
    return facts


def go_verdict(f: Field, versions: list[dict[str, str]]) -> str:
    """ "plain", "null" (only a nil pointer, slice or map makes it Optional) or "optional",
    from the Go fields of each version (see GO_TYPES)."""
    entries = [v.get(f.wire) for v in versions]
    if all(e is None for e in entries):
        return "optional"  # no version read declares it
    verdict = "plain"
    for entry in entries:
        if entry is None:
            continue  # absent from this version: a zero value (structs are below)
        kind, *flags = entry.split(" ")[0].split(",")
        if kind == "struct" and "omitzero" not in flags:
            if None in entries:
                return "optional"
        elif kind == "scalar":
            continue
        elif kind in ("slice", "map") and "omitempty" in flags:
            continue
        elif kind in ("ptr", "slice", "map") and not flags:
            verdict = "null"
        else:
            return "optional"
    return verdict


@dataclass
class Typing:
    """Which fields get plain types, and how each correction was used."""

    plain: set[tuple[str, str]]  # (class, wire)
    corrected: set[tuple[str, str]]  # (owner, wire) of ALWAYS_FILLED entries used
    go_classes: set[str]


def decide(models: dict[str, Model], go: dict[str, Any]) -> Typing:
    facts = go_facts(models, go)
    plain: set[tuple[str, str]] = set()
    corrected: set[tuple[str, str]] = set()
    for model in models.values():
        versions = facts.get(model.name)
        for f in model.fields:
            if f.legacy or f.nullable or f.type.kind == "any":
                continue
            if versions is None:
                # Not an answer read from Go (a request body, a progress message): the
                # spec's required scalars, which the daemon always sends.
                if f.required and _resolve(f.type, models).kind == "prim":
                    plain.add((model.name, f.wire))
                continue
            verdict = go_verdict(f, versions)
            if verdict == "null" and (f.owner, f.wire) in ALWAYS_FILLED:
                corrected.add((f.owner, f.wire))
                verdict = "plain"
            if verdict == "plain":
                plain.add((model.name, f.wire))
    return Typing(plain, corrected, set(facts))


def _default(f: Field, models: dict[str, Model]) -> tuple[str, str]:
    """(msgspec.field keyword, value) of a plain field's default."""
    base = _resolve(f.type, models)
    if base.kind == "prim":
        return "default", ZERO[base.name]
    if base.kind in ("list", "dict"):
        return "default_factory", base.kind
    if base.kind == "ref":
        return "default_factory", base.name
    raise ValueError(f"no zero value for {f.owner}.{f.wire}")  # pragma: no cover


def _field_line(
    f: Field, annotation: str, default: tuple[str, str] = ("default", "None")
) -> list[str]:
    keyword_, value = default
    if f.attr == f.wire and keyword_ == "default":
        return [f"{INDENT}{f.attr}: {annotation} = {value}"]
    head = f"{INDENT}{f.attr}: {annotation} = msgspec.field("
    args = f"{keyword_}={value}" if f.attr == f.wire else f'{keyword_}={value}, name="{f.wire}"'
    one_line = f"{head}{args})"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    if len(head) <= LINE_LENGTH:
        return [head, f"{INDENT * 2}{args}", f"{INDENT})"]
    # A long annotation: the value goes in parentheses, as ruff format puts it.
    opening = f"{INDENT}{f.attr}: {annotation} = ("
    if len(opening) > LINE_LENGTH:
        raise ValueError(f"annotation too long: {opening!r}")
    return [opening, f"{INDENT * 2}msgspec.field({args})", f"{INDENT})"]


def _export_sort_key(name: str) -> tuple[int, list[tuple[int, int, str]]]:
    """isort-style order (what ruff's RUF022 expects): CONSTANTS, Classes, rest."""
    if len(name) > 1 and name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    chunks = [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", name)
        if part
    ]
    return group, chunks


def _class_header(name: str) -> list[str]:
    # gc=False: a model holds decoded JSON, which cannot form reference cycles, so the
    # collector need not track it; decoding a long event stream is about a fifth faster.
    bases = "msgspec.Struct, kw_only=True, omit_defaults=True, gc=False"
    line = f"class {name}({bases}):"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"class {name}(", f"{INDENT}{bases}", "):"]


def render(
    models: dict[str, Model], spec_version: str, aliases: dict[str, str], typing: Typing
) -> str:
    ordered = _order(models)
    uses_alias = any(m.alias is not None for m in ordered)
    typing_names = ["TypeAlias"] if uses_alias else []

    out: list[str] = [
        "# This file is generated by tools/genmodels.py from the Docker Engine API",
        f"# specification (API version {spec_version}). Do not edit it by hand: change",
        "# the generator and run `python tools/genmodels.py` instead.",
        '"""msgspec models for the Docker Engine API (generated)."""',
        "",
    ]
    if typing_names:
        out.append(f"from typing import {', '.join(typing_names)}")
        out.append("")
    out += ["import msgspec", "", "__all__ = ["]
    exported = [*models, *aliases]
    out += [f'{INDENT}"{name}",' for name in sorted(exported, key=_export_sort_key)]
    out += ["]", ""]

    emitted: set[str] = set()
    for model in ordered:
        out.append("")
        if model.alias is not None:
            pending = [d for d in model.deps() if d not in emitted]
            if pending:
                raise ValueError(f"type alias {model.name} depends on later {pending}")
            out.append(f"# Generated from `{model.origin}`.")
            out.append(f"{model.name}: TypeAlias = {model.alias.render()}")
        else:
            out += _class_header(model.name)
            api = f" (last in API {model.api})" if model.api else ""
            out.append(f'{INDENT}"""Generated from `{model.origin}`{api}."""')
            if model.fields:
                out.append("")
            for f in model.fields:
                annotation = f.type.render()
                plain = (model.name, f.wire) in typing.plain
                if f.type.kind != "any" and not plain:
                    annotation += " | None"
                if any(dep not in emitted and dep != model.name for dep in f.type.refs()) or (
                    model.name in f.type.refs()
                ):
                    annotation = f'"{annotation}"'
                if plain:
                    default = _default(f, models)
                    if default[0] == "default_factory" and default[1] in models:
                        if default[1] not in emitted:
                            raise ValueError(f"{model.name}.{f.attr}: {default[1]} comes later")
                    out += _field_line(f, annotation, default)
                else:
                    out += _field_line(f, annotation)
        emitted.add(model.name)
        out.append("")
    if aliases:
        out += ["", "# Names older API versions gave these definitions."]
        out += [f"{old} = {new}" for old, new in aliases.items()]
    while out and out[-1] == "":
        out.pop()
    text = "\n".join(out) + "\n"
    too_long = [line for line in text.splitlines() if len(line) > LINE_LENGTH]
    if too_long:
        raise ValueError(f"generated lines exceed {LINE_LENGTH} chars: {too_long[:3]}")
    return text


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def load_spec(path: Path) -> dict[str, Any]:
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("genmodels needs PyYAML: pip install pyyaml") from exc
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as fh:
        data = yaml.load(fh, Loader=loader)  # a safe loader
    if not isinstance(data, dict) or "definitions" not in data:
        raise SystemExit(f"{path}: not a Swagger 2.0 document with definitions")
    return data


def spec_files(directory: Path) -> list[tuple[tuple[int, int], Path]]:
    """The ``v<major>.<minor>.yaml`` files of a directory, oldest first."""
    found: list[tuple[tuple[int, int], Path]] = []
    for path in directory.glob("v*.yaml"):
        match = re.fullmatch(r"v(\d+)\.(\d+)\.yaml", path.name)
        if match:
            found.append(((int(match[1]), int(match[2])), path))
    return sorted(found)


def spec_version(spec: dict[str, Any]) -> str:
    return str((spec.get("info") or {}).get("version", "unknown"))


def generate(*specs: dict[str, Any], strict: bool = False) -> str:
    """Module source for parsed specs, oldest first (the newest decides the types)."""
    merged = merge([(spec_version(s), Generator(s).run()) for s in specs], strict=strict)
    typing = decide(merged.models, load_go_types())
    if strict:
        unused = sorted(set(ALWAYS_FILLED) - typing.corrected)
        if unused:
            raise ValueError(f"ALWAYS_FILLED entries Go already types plainly or lacks: {unused}")
        declared = {(m.name, f.wire) for m in merged.models.values() for f in m.fields}
        stale = sorted(set(SPEC_MISMATCH) - declared)
        if stale:
            raise ValueError(f"SPEC_MISMATCH entries the specs lack: {stale}")
        roots = {cls for tag in load_go_types()["tags"].values() for cls in tag["roots"]}
        missing = sorted(roots - set(merged.models))
        if missing:
            raise ValueError(f"gotypes roots the specs lack: {missing}")
    versions = [spec_version(s) for s in specs]
    text = versions[0] if len(versions) == 1 else f"{versions[0]} to {versions[-1]}"
    return render(merged.models, text, merged.aliases, typing)


def load_specs(directory: Path) -> list[dict[str, Any]]:
    files = spec_files(directory)
    if not files:
        raise SystemExit(f"{directory}: no v*.yaml specs")
    return [load_spec(path) for _, path in files]


def generate_from_dir(directory: Path) -> str:
    """Module source for a directory of specs; with more than one, every entry of RENAMED
    and ALWAYS_FILLED must be used (a stale table is an error)."""
    specs = load_specs(directory)
    return generate(*specs, strict=len(specs) > 1)


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
    if not spec_files(args.specs):
        print(f"genmodels: no specs found in {args.specs}", file=sys.stderr)
        return 2
    return write_or_check("genmodels", args.output, args.specs, generate_from_dir, args.check)


def write_or_check(
    tool: str, output: Path, specs: Path, generate: Callable[[Path], str], check: bool
) -> int:
    """Generate `output` from `specs` and write it, or with `check` only compare: exit status
    1 when the committed file is stale."""
    started = time.perf_counter()
    text = generate(specs)
    elapsed = time.perf_counter() - started
    current = output.read_text(encoding="utf-8") if output.is_file() else None
    if check:
        if current != text:
            print(
                f"{tool}: {output} is out of date with {specs}; "
                f"run `python tools/{tool}.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"{tool}: {output} is up to date ({elapsed:.2f}s)")
        return 0
    if current != text:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    print(f"{tool}: wrote {output} ({text.count(chr(10))} lines, {elapsed:.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
