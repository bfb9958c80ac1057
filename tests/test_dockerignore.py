"""Tests for .dockerignore: parsing its text and matching paths against its patterns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodockerapi.bodies.dockerignore import DockerIgnore, parse_dockerignore


def test_parse_dockerignore() -> None:
    text = "\ufeff# comment\n  *.log  \n\n!  keep.log\n /abs/path/\n./rel//x/../y\r\n #not\n"
    assert parse_dockerignore(text) == ["*.log", "!keep.log", "abs/path", "rel/y", "#not"]


@pytest.mark.parametrize("bad", ["[", "[]", "[a-", "a\\", "[z-a]", "[]a]", "[-a]", "!", "[a"])
def test_invalid_patterns(bad: str) -> None:
    with pytest.raises(ValueError, match=r"invalid \.dockerignore pattern"):
        DockerIgnore([bad])


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("*", "a/b/c", True),
        ("*.go", "x.go", True),
        ("*.go", "dir/x.go", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("a*c", "a/c", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "dx", True),
        ("[^a-c]x", "bx", False),
        ("[!a]x", "!x", True),  # Go globs negate with ^ only
        ("a[^b]c", "a/c", False),
        ("\\*", "*", True),
        ("\\*", "x", False),
        ("[\\]]", "]", True),
        ("**", "any/thing", True),
        ("**/x", "x", True),
        ("**/x", "a/b/x", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**", "a", False),
        ("a/**", "a/b", True),
        ("**.txt", "d/e.txt", True),
        ("dir", "dir/sub/file", True),
        ("dir/sub", "dir", False),
        ("dir/", "dir/f", True),
        ("/dir", "dir", True),
        ("a/../b", "b", True),
    ],
)
def test_pattern_examples(pattern: str, path: str, excluded: bool) -> None:
    assert DockerIgnore([pattern]).excluded(path) is excluded


def test_later_lines_win() -> None:
    ignore = DockerIgnore(["*.md", "!README.md", "docs/README.md"])
    assert ignore.excluded("CHANGES.md")
    assert not ignore.excluded("README.md")
    assert ignore.excluded("docs/README.md")
    assert DockerIgnore(["!a", "a"]).excluded("a")
    assert not DockerIgnore(["a", "!a"]).excluded("a")


def test_may_reinclude_under() -> None:
    ignore = DockerIgnore(["build", "!build/sub/keep", "!x/*/y"])
    assert ignore.may_reinclude_under("build")
    assert ignore.may_reinclude_under("build/sub")
    assert not ignore.may_reinclude_under("build/other")
    assert not ignore.may_reinclude_under("build/sub/keep")
    assert ignore.may_reinclude_under("x/anything")
    assert DockerIgnore(["!**/keep"]).may_reinclude_under("deep/down")
    assert not DockerIgnore(["build"]).may_reinclude_under("build")


segment = st.text(
    alphabet=st.characters(
        blacklist_characters="/*?[]\\!#", blacklist_categories=["Cs", "Zs", "Zl", "Zp", "Cc"]
    ),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", ".."))
rel_path = st.lists(segment, min_size=1, max_size=4).map("/".join)


@given(rel_path, rel_path)
def test_literal_pattern_matches_itself_and_its_contents(pattern: str, path: str) -> None:
    ignore = DockerIgnore([pattern])
    assert ignore.excluded(pattern)
    assert ignore.excluded(pattern + "/inside")
    assert ignore.excluded(path) == (path == pattern or path.startswith(pattern + "/"))


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20))
def test_escaped_pattern_matches_literally(name: str) -> None:
    name = name.replace("/", "_").strip()
    if name in ("", ".", ".."):
        return
    escaped = "".join("\\" + c for c in name)
    assert DockerIgnore([escaped]).excluded(name)
    assert not DockerIgnore([escaped]).excluded(name + "x")


@given(st.lists(segment, max_size=4), segment)
def test_double_star_matches_at_any_depth(dirs: list[str], name: str) -> None:
    path = "/".join([*dirs, name])
    assert DockerIgnore(["**/" + name]).excluded(path)
    assert DockerIgnore(["**"]).excluded(path)
    assert DockerIgnore(["*"]).excluded(path)  # via the top-level parent


@given(rel_path)
def test_cleaning_is_stable(pattern: str) -> None:
    for variant in (pattern, "/" + pattern, "./" + pattern, pattern + "/", "//" + pattern):
        assert parse_dockerignore(variant) == [pattern]
        assert parse_dockerignore("!" + variant) == ["!" + pattern]
