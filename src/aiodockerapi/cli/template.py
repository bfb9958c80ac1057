"""A small interpreter of the Go templates `docker --format` takes.

The subset: text and `{{ }}` actions (with `{{-`/`-}}` trimming); operands `.`, `$`,
`.Field.Sub`, `$var.Field`, "strings", `raw strings`, numbers, true/false, (sub pipelines);
function calls `{{func arg ...}}` and methods with arguments (`{{.Label "k"}}`); pipelines
`{{.X | upper}}`; `{{if}}`/`{{else if}}`/`{{else}}`, `{{range}}` (with `$v :=` or
`$k, $v :=`), `{{with}}`, `{{end}}`. Functions: docker's (json, split, join, title, lower,
upper, pad, truncate) and Go's print, printf, println, len, index, eq, ne, lt, le, gt, ge,
not, and, or. An unknown field, function or a syntax error is a TemplateError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .template_funcs import (
    FUNCTIONS,
    HEADER_FUNCTIONS,
    Context,
    GoMap,
    TemplateError,
    UnknownField,
    go_string,
    truthy,
)

__all__ = ["Context", "GoMap", "Template", "TemplateError", "UnknownField", "go_string"]


# -- parsing -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s+|(?P<str>"(?:\\.|[^"\\])*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)
    |(?P<var>\$\w*(?:\.\w+)*)|(?P<field>(?:\.\w+)+|\.)|(?P<decl>:=)|(?P<comma>,)
    |(?P<ident>[A-Za-z_]\w*)|(?P<op>[|()])""",
    re.VERBOSE,
)


@dataclass
class _Operand:
    kind: str  # field, var, literal, ident, pipe
    value: Any


@dataclass
class _Pipeline:
    commands: list[list[_Operand]]
    decl: list[str] = field(default_factory=list)


@dataclass
class _Block:
    keyword: str  # if, range, with
    pipeline: _Pipeline
    body: list[Any] = field(default_factory=list)
    orelse: list[Any] = field(default_factory=list)


def _lex(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise TemplateError(f"unexpected {text[pos]!r} in action {{{{{text}}}}}")
        pos = m.end()
        if m.lastgroup is not None:
            tokens.append((m.lastgroup, m.group()))
    return tokens


def _parse_pipeline(tokens: list[tuple[str, str]], pos: int = 0) -> tuple[_Pipeline, int]:
    decl: list[str] = []
    if any(kind == "decl" for kind, _ in tokens[pos:]):
        while pos < len(tokens) and tokens[pos][0] in ("var", "comma"):
            if tokens[pos][0] == "var":
                decl.append(tokens[pos][1])
            pos += 1
        if pos >= len(tokens) or tokens[pos][0] != "decl":
            raise TemplateError("a declaration is $name := pipeline")
        pos += 1
    commands: list[list[_Operand]] = [[]]
    while pos < len(tokens):
        kind, text = tokens[pos]
        pos += 1
        if kind == "op" and text == "|":
            if not commands[-1]:
                raise TemplateError("missing command before |")
            commands.append([])
        elif kind == "op" and text == ")":
            return _Pipeline(commands, decl), pos - 1
        elif kind == "op" and text == "(":
            inner, pos = _parse_pipeline(tokens, pos)
            if pos >= len(tokens) or tokens[pos] != ("op", ")"):
                raise TemplateError("unclosed (")
            pos += 1
            commands[-1].append(_Operand("pipe", inner))
        elif kind == "str":
            commands[-1].append(_Operand("literal", msgspec.json.decode(text)))
        elif kind == "raw":
            commands[-1].append(_Operand("literal", text[1:-1]))
        elif kind == "num":
            commands[-1].append(_Operand("literal", float(text) if "." in text else int(text)))
        elif kind == "ident" and text in ("true", "false", "nil"):
            commands[-1].append(_Operand("literal", {"true": True, "false": False}.get(text)))
        elif kind in ("field", "var", "ident"):
            commands[-1].append(_Operand(kind, text))
        else:
            raise TemplateError(f"unexpected {text!r}")
    if not commands[-1]:
        raise TemplateError("missing value for command")
    return _Pipeline(commands, decl), pos


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def parse(text: str) -> list[Any]:
    """The template as a tree: strings, pipelines and blocks."""
    root: list[Any] = []
    # Each frame: the list being filled, its block, and whether an `else if` opened it (it
    # is then closed by the outer block's {{end}} too).
    stack: list[tuple[list[Any], _Block | None, bool]] = [(root, None, False)]
    pos = 0
    trim_next = False
    for m in _ACTION.finditer(text):
        literal = text[pos : m.start()]
        if trim_next:
            literal = literal.lstrip()
        if m.group(1):
            literal = literal.rstrip()
        pos, trim_next = m.end(), bool(m.group(3))
        if literal:
            stack[-1][0].append(literal)
        body = m.group(2).strip()
        if body.startswith("/*"):
            continue
        tokens = _lex(body)
        if not tokens:
            raise TemplateError("missing value for command")
        head = tokens[0][1] if tokens[0][0] == "ident" else ""
        if head in ("if", "range", "with"):
            block = _Block(head, _parse_pipeline(tokens, 1)[0])
            stack[-1][0].append(block)
            stack.append((block.body, block, False))
        elif head == "else":
            _, current, chained = stack.pop()
            if current is None or current.orelse:
                raise TemplateError("unexpected {{else}}")
            stack.append((current.orelse, current, chained))
            if len(tokens) > 1 and tokens[1] == ("ident", "if"):
                inner = _Block("if", _parse_pipeline(tokens, 2)[0])
                current.orelse.append(inner)
                stack.append((inner.body, inner, True))
        elif head == "end":
            if len(stack) == 1:
                raise TemplateError("unexpected {{end}}")
            while stack.pop()[2]:
                pass
        else:
            pipeline, end = _parse_pipeline(tokens)
            if end != len(tokens):
                raise TemplateError("unexpected )")
            stack[-1][0].append(pipeline)
    rest = text[pos:]
    if trim_next:
        rest = rest.lstrip()
    if rest:
        stack[-1][0].append(rest)
    if len(stack) > 1:
        raise TemplateError("unexpected EOF: missing {{end}}")
    if "{{" in "".join(part for part in root if isinstance(part, str)):
        raise TemplateError("unclosed action")
    return root


class _State:
    def __init__(self, root: Any, functions: Mapping[str, Callable[..., Any]]) -> None:
        self.functions = functions
        self.scopes: list[dict[str, Any]] = [{"$": root}]

    def var(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise TemplateError(f"undefined variable: {name}")


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Context):
        return value.get(name)
    if isinstance(value, Mapping):
        if name not in value and isinstance(value, GoMap):
            return "<no value>"
        if name not in value:
            raise TemplateError(f"map has no entry for key {name!r}")
        return value[name]
    raise TemplateError(f"can't evaluate field {name} in {go_string(value)!r}")


def _call(value: Any, args: list[Any]) -> Any:
    if callable(value):
        try:
            return value(*args)
        except TypeError as exc:
            raise TemplateError(f"wrong arguments: {exc}") from None
    if args:
        raise TemplateError(f"{go_string(value)!r} is not a method but has arguments")
    return value


def _chain(value: Any, names: list[str], args: list[Any]) -> Any:
    for n, name in enumerate(names):
        value = _field(value, name)
        value = _call(value, args if n == len(names) - 1 else [])
    return value


def _operand(state: _State, dot: Any, op: _Operand) -> Any:
    if op.kind == "literal":
        return op.value
    if op.kind == "pipe":
        return _pipeline(state, dot, op.value)
    if op.kind == "field":
        return dot if op.value == "." else _chain(dot, op.value.split(".")[1:], [])
    if op.kind == "var":
        name, *names = op.value.split(".")
        return _chain(state.var(name), names, [])
    if op.value in state.functions:
        return _call(state.functions[op.value], [])
    raise TemplateError(f'function "{op.value}" not defined')


def _command(state: _State, dot: Any, command: list[_Operand], piped: list[Any]) -> Any:
    head, rest = command[0], command[1:]
    args = [_operand(state, dot, op) for op in rest] + piped
    if head.kind == "ident":
        function = state.functions.get(head.value)
        if function is None:
            raise TemplateError(f'function "{head.value}" not defined')
        return _call(function, args)
    if head.kind == "field" and head.value != ".":
        return _chain(dot, head.value.split(".")[1:], args)
    if head.kind == "var" and "." in head.value:
        name, *names = head.value.split(".")
        return _chain(state.var(name), names, args)
    if args:
        raise TemplateError("can't give arguments to a non-function")
    return _operand(state, dot, head)


def _pipeline(state: _State, dot: Any, pipeline: _Pipeline) -> Any:
    value: Any = None
    for n, command in enumerate(pipeline.commands):
        value = _command(state, dot, command, [value] if n else [])
    if pipeline.decl:
        state.scopes[-1][pipeline.decl[-1]] = value
    return value


def _items(value: Any) -> list[tuple[Any, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return sorted(value.items())
    if isinstance(value, int) and not isinstance(value, bool):
        return list(enumerate(range(value)))
    if isinstance(value, (list, tuple)):
        return list(enumerate(value))
    raise TemplateError(f"range can't iterate over {go_string(value)}")


def _run(state: _State, dot: Any, nodes: list[Any], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Pipeline):
            value = _pipeline(state, dot, node)
            if not node.decl:
                out.append(go_string(value))
        elif node.keyword == "range":
            decl, node.pipeline.decl = node.pipeline.decl, []
            items = _items(_pipeline(state, dot, node.pipeline))
            node.pipeline.decl = decl
            for key, item in items:
                state.scopes.append(dict(zip(reversed(decl), (item, key), strict=False)))
                _run(state, item, node.body, out)
                state.scopes.pop()
            if not items:
                _run(state, dot, node.orelse, out)
        else:
            state.scopes.append({})
            value = _pipeline(state, dot, node.pipeline)
            if truthy(value):
                _run(state, value if node.keyword == "with" else dot, node.body, out)
            else:
                _run(state, dot, node.orelse, out)
            state.scopes.pop()


class Template:
    """A parsed template; `render` applies it to one value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = parse(text)

    def render(self, dot: Any, *, header: bool = False) -> str:
        state = _State(dot, HEADER_FUNCTIONS if header else FUNCTIONS)
        out: list[str] = []
        _run(state, dot, self.tree, out)
        return "".join(out)
