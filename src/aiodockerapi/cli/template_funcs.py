"""What Go templates (cli/template.py) work with: the row context, how values print, and the
functions a template can call."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec


class TemplateError(ValueError):
    """The template cannot be parsed, or cannot be applied to the data."""


class UnknownField(TemplateError):
    """A field the row does not have."""


class GoMap(dict[str, Any]):
    """A Go map[string]string: a missing key is "<no value>", not an error."""


class Context:
    """What a template's dot is for one row: named fields (a callable one is a method,
    called with the template's arguments), strict about unknown names."""

    def __init__(
        self, kind: str, fields: Mapping[str, Any], json_fields: Sequence[str], *, sort: bool = True
    ) -> None:
        self.kind = kind
        self.fields = dict(fields)
        self.json_fields = sorted(json_fields) if sort else list(json_fields)
        # docker's rows marshal themselves (Go escapes <, >, &); API objects are as sent.
        self.escape = sort

    def get(self, name: str) -> Any:
        if name not in self.fields:
            raise UnknownField(f"can't evaluate field {name} in a {self.kind} row")
        return self.fields[name]

    def to_json(self) -> dict[str, Any]:
        """What `{{json .}}` prints: the field values, keys sorted as Go's encoder sorts a
        row's (an API object's keep their order)."""
        return {
            name: value.to_json() if isinstance(value, Context) else value
            for name, value in ((n, self.fields[n]) for n in self.json_fields)
        }


def go_string(value: Any) -> str:
    """A value printed the way Go's fmt prints it in a template."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, Context):
        return go_string(value.to_json())
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{go_string(v)}" for k, v in sorted(value.items()))
        return f"map[{items}]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, Context):
        return True
    return bool(value)


def to_json(value: Any) -> str:
    """`json`: one line of JSON; a row's fields with <, > and & escaped, as docker's are."""
    if isinstance(value, Context):
        raw = msgspec.json.encode(value.to_json()).decode()
        if not value.escape:
            return raw
        return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return msgspec.json.encode(value).decode()


def _title(text: str) -> str:
    return re.sub(r"(?<![^\W\d_])[^\W\d_]", lambda m: m.group().upper(), text)


def _join(items: Any, sep: str) -> str:
    if items is None:
        return ""
    if isinstance(items, str):
        return items
    return sep.join(go_string(i) for i in items)


def _pad(text: str, prefix: int, suffix: int) -> str:
    return " " * prefix + text + " " * suffix if text else text


def _sprint(*args: Any) -> str:
    out = ""
    for n, arg in enumerate(args):
        if n and not isinstance(arg, str) and not isinstance(args[n - 1], str):
            out += " "
        out += go_string(arg)
    return out


def _printf(fmt: str, *args: Any) -> str:
    values = iter(args)

    def one(m: re.Match[str]) -> str:
        verb = m.group(2)
        if verb == "%":
            return "%"
        value = next(values, None)
        if verb == "q":
            return msgspec.json.encode(go_string(value)).decode()
        if verb == "d" and isinstance(value, (int, float)):
            return f"{m.group(1)}d" % int(value) if m.group(1) != "%" else str(int(value))
        return (m.group(1) + "s") % go_string(value)

    return re.sub(r"(%[-+ 0#]*\d*(?:\.\d+)?)([a-zA-Z%])", one, fmt)


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            value = value.get(key) if isinstance(value, Context) else value[key]
        except (KeyError, IndexError, TypeError):
            raise TemplateError(f"index of {key!r}: no such entry") from None
    return value


def _length(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        raise TemplateError(f"len of {go_string(value)}") from None


def _and(*args: Any) -> Any:
    for arg in args:
        if not truthy(arg):
            return arg
    return args[-1]


def _or(*args: Any) -> Any:
    for arg in args:
        if truthy(arg):
            return arg
    return args[-1]


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": to_json,
    "split": lambda text, sep: text.split(sep),
    "join": _join,
    "title": _title,
    "lower": lambda text: text.lower(),
    "upper": lambda text: text.upper(),
    "pad": _pad,
    "truncate": lambda text, length: text[:length],
    "print": _sprint,
    "printf": _printf,
    "println": lambda *args: " ".join(go_string(a) for a in args) + "\n",
    "len": _length,
    "index": _index,
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "not": lambda a: not truthy(a),
    "and": _and,
    "or": _or,
}

# In a table's header row the functions that change text leave the header as it is.
HEADER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **FUNCTIONS,
    **{name: (lambda text, *_: text) for name in ("json", "split", "join", "title", "lower")},
    "upper": lambda text: text,
    "truncate": lambda text, _length: text,
}
