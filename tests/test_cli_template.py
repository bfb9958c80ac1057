"""The Go-template interpreter behind --format (cli/template.py), without a daemon."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiodockerapi.cli.output import tabwrite
from aiodockerapi.cli.rows import header_context, header_label
from aiodockerapi.cli.template import Context, Template, TemplateError, UnknownField

ROW = Context(
    "container",
    {
        "ID": "f075d4f1cfe4",
        "Names": "web",
        "Labels": "app=web,tier=front",
        "Size": "0B",
        "Label": lambda name: {"app": "web", "tier": "front"}.get(name, ""),
    },
    ["Names", "ID", "Labels"],
)
API = {"State": {"Status": "running", "Pid": 42, "Running": True}, "Mounts": [], "Args": ["a", "b"]}


def render(text: str, dot: Any = ROW) -> str:
    return Template(text).render(dot)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{.ID}}\t{{ .Names }}!", "f075d4f1cfe4\tweb!"),
        ('{{.Label "app"}}/{{.Label "nope"}}', "web/"),
        ("{{.Names | upper}} {{upper .Names}} {{lower `ABC`}}", "WEB WEB abc"),
        ('{{join (split .Labels ",") " + "}}', "app=web + tier=front"),
        ('{{range split .Labels ","}}[{{.}}]{{end}}', "[app=web][tier=front]"),
        ('{{range $i, $l := split .Labels ","}}{{$i}}={{$l}};{{end}}', "0=app=web;1=tier=front;"),
        ('{{if eq .Names "web"}}yes{{else}}no{{end}}', "yes"),
        ('{{if eq .Names "db"}}1{{else if .Size}}2{{else}}3{{end}}', "2"),
        (
            "{{title `hello big-world`}}|{{truncate .ID 4}}|{{pad .Names 1 2}}|",
            "Hello Big-World|f075| web  |",
        ),
        ("{{println .Names}}-", "web\n-"),
        ('{{printf "%-5s|%d" .Names 7}}', "web  |7"),
        ("{{- .Names -}}  \n", "web"),
        (
            "{{len .Labels}} {{not .Names}} {{and .Names .ID}} {{or `` .ID}}",
            "18 false f075d4f1cfe4 f075d4f1cfe4",
        ),
        ("{{/* a comment */}}x", "x"),
    ],
)
def test_fields_functions_and_pipelines(text: str, expected: str) -> None:
    assert render(text) == expected


def test_json_of_a_row_is_its_fields_sorted_and_escaped_as_docker() -> None:
    row = Context("image", {"Digest": "<none>", "ID": "x"}, ["ID", "Digest"])
    assert render("{{json .}}", row) == '{"Digest":"\\u003cnone\\u003e","ID":"x"}'
    assert json.loads(render("{{json .}}")) == {
        "ID": "f075d4f1cfe4",
        "Labels": "app=web,tier=front",
        "Names": "web",
    }


def test_api_objects_print_as_go_prints_them() -> None:
    assert render("{{.State.Status}} {{.State.Pid}} {{.State.Running}}", API) == "running 42 true"
    assert render("{{.Args}} {{json .Args}} {{.State}}", API) == (
        '[a b] ["a","b"] map[Pid:42 Running:true Status:running]'
    )
    assert render("{{range .Mounts}}x{{else}}none{{end}} {{with .State}}{{.Pid}}{{end}}", API) == (
        "none 42"
    )
    assert render('{{index .State "Status"}} {{$.State.Pid}}', API) == "running 42"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{.Nope}}", "can't evaluate field Nope"),
        ("{{.Names.Sub}}", "can't evaluate field Sub"),
        ("{{.ID", "unclosed action"),
        ("{{if .ID}}x", "missing {{end}}"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{frob .ID}}", 'function "frob" not defined'),
        ("{{.Names 1}}", "not a method"),
        ("{{$x}}", "undefined variable: $x"),
        ("{{range .Names}}{{end}}", "range can't iterate"),
        ("{{.ID | }}", "missing value"),
        ("{{.ID ! }}", "unexpected '!'"),
    ],
)
def test_errors_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace("$", r"\$")):
        render(text)


def test_unknown_field_is_its_own_error() -> None:
    with pytest.raises(UnknownField):
        render("{{.Nope}}")


def test_header_row_keeps_headers_as_they_are() -> None:
    header = header_context("container", {"ID": "CONTAINER ID", "Names": "NAMES"})
    text = '{{.ID | lower}}\t{{truncate .Names 2}}\t{{.Label "com.example.some-label"}}'
    assert Template(text).render(header, header=True) == "CONTAINER ID\tNAMES\tsome label"
    assert header_label("a_b") == "a b"


def test_tabwrite_aligns_like_docker() -> None:
    lines = tabwrite(["CONTAINER ID\tNAMES\tMOUNTS", "f075d4f1cfe4\tweb\t"])
    assert lines == ["CONTAINER ID   NAMES     MOUNTS", "f075d4f1cfe4   web       "]
