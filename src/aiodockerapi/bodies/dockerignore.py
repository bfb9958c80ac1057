""".dockerignore: parsing its patterns and matching paths against them, as the docker CLI does."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["DOCKERIGNORE", "DockerIgnore", "load_dockerignore", "parse_dockerignore"]

DOCKERIGNORE = ".dockerignore"


def load_dockerignore(root: str) -> DockerIgnore:
    """The compiled ``.dockerignore`` of the directory ``root`` (nothing ignored without one)."""
    path = os.path.join(root, DOCKERIGNORE)
    if not os.path.isfile(path):
        return DockerIgnore(())
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    try:
        return DockerIgnore(parse_dockerignore(text))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse_dockerignore(text: str) -> list[str]:
    """Split ``.dockerignore`` text into cleaned patterns (``!`` kept as a prefix).

    Lines starting with ``#`` are comments; surrounding whitespace and blank lines are
    dropped; patterns are cleaned like Go's ``filepath.Clean`` and made relative.
    """
    text = text.removeprefix("\ufeff")
    patterns: list[str] = []
    for line in text.split("\n"):
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        negate = line.startswith("!")
        body = _clean_pattern(line[1:].strip() if negate else line)
        patterns.append("!" + body if negate else body)
    return patterns


def _clean_pattern(pattern: str) -> str:
    if not pattern:
        return pattern
    cleaned = posixpath.normpath(pattern)
    if cleaned.startswith("//"):  # POSIX normpath keeps a double leading slash; Go doesn't
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


_TokenKind = Literal["atom", "sep", "globstar"]


@dataclass(frozen=True)
class _Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]
    # One regex per path segment, or None when ``**`` lets it span any depth.
    segments: tuple[re.Pattern[str], ...] | None

    def match(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


class DockerIgnore:
    """Compiled ``.dockerignore`` patterns; the last matching pattern wins.

    A pattern excludes a path when it matches the path or one of its parent
    directories; ``!pattern`` re-includes. Syntax is Go's ``filepath.Match`` (``*``,
    ``?``, ``[...]``, ``\\`` escapes) on slash-separated relative paths, plus ``**``
    for any number of directories.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        compiled: list[_Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            exclusion = text.startswith("!")
            body = _clean_pattern(text[1:].strip() if exclusion else text)
            if not body:
                raise ValueError(f"invalid .dockerignore pattern {raw!r}: nothing after '!'")
            try:
                regex, segments = _compile(body)
            except ValueError as exc:
                raise ValueError(f"invalid .dockerignore pattern {raw!r}: {exc}") from None
            compiled.append(_Pattern(body, exclusion, regex, segments))
        self._patterns = tuple(compiled)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The cleaned patterns, with ``!`` on exceptions."""
        return tuple(("!" if p.exclusion else "") + p.text for p in self._patterns)

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (slash-separated, relative to the context) is left out."""
        path = _clean_pattern(path)
        parts = path.split("/")
        parents = ["/".join(parts[:i]) for i in range(1, len(parts))]
        result = False
        for pattern in self._patterns:
            # An exclusion only matters once excluded, an inclusion only while included.
            if pattern.exclusion != result:
                continue
            if pattern.match(path) or any(pattern.match(p) for p in parents):
                result = not pattern.exclusion
        return result

    def may_reinclude_under(self, directory: str) -> bool:
        """Whether some ``!`` pattern could match a path strictly inside ``directory``.

        Conservative: a ``**`` exception is assumed to reach anywhere.
        """
        return self._may_match_under(directory, exclusion=True)

    def may_match_under(self, directory: str) -> bool:
        """Whether some plain (not ``!``) pattern could match a path strictly inside
        ``directory``; conservative like :meth:`may_reinclude_under`.
        """
        return self._may_match_under(directory, exclusion=False)

    def _may_match_under(self, directory: str, *, exclusion: bool) -> bool:
        parts = _clean_pattern(directory).split("/")
        for pattern in self._patterns:
            if pattern.exclusion != exclusion:
                continue
            if pattern.segments is None:
                return True
            if len(pattern.segments) > len(parts) and all(
                seg.fullmatch(part) for seg, part in zip(pattern.segments, parts, strict=False)
            ):
                return True
        return False


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[re.Pattern[str], ...] | None]:
    tokens = _tokenize(pattern)
    regex = re.compile("".join(rx for _, rx in tokens), re.DOTALL)
    if any(kind == "globstar" for kind, _ in tokens):
        return regex, None
    segments: list[str] = [""]
    for kind, rx in tokens:
        if kind == "sep":
            segments.append("")
        else:
            segments[-1] += rx
    return regex, tuple(re.compile(s, re.DOTALL) for s in segments)


def _tokenize(pattern: str) -> list[tuple[_TokenKind, str]]:
    """Translate a glob into regex pieces, tagged so segments can be split out."""
    tokens: list[tuple[_TokenKind, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            while i < n and pattern[i] == "*":
                i += 1
            if i < n and pattern[i] == "/":
                i += 1
                tokens.append(("globstar", "(?:.*/)?"))  # zero or more directories
            else:
                tokens.append(("globstar", ".*"))
            continue
        if c == "[":
            rx, i = _translate_class(pattern, i)
            tokens.append(("atom", rx))
            continue
        i += 1
        if c == "*":
            tokens.append(("atom", "[^/]*"))
        elif c == "?":
            tokens.append(("atom", "[^/]"))
        elif c == "\\":
            if i >= n:
                raise ValueError("trailing backslash")
            tokens.append(("sep", "/") if pattern[i] == "/" else ("atom", re.escape(pattern[i])))
            i += 1
        elif c == "/":
            tokens.append(("sep", "/"))
        else:
            tokens.append(("atom", re.escape(c)))
    return tokens


def _translate_class(pattern: str, start: int) -> tuple[str, int]:
    """Translate the ``[...]`` class at ``start``; return its regex and the next index."""
    i = start + 1
    negate = pattern.startswith("^", i)
    if negate:
        i += 1
    items: list[str] = []
    while True:
        if i >= len(pattern):
            raise ValueError("unterminated character class")
        if pattern[i] == "]" and items:
            i += 1
            break
        lo, i = _class_char(pattern, i)
        if pattern.startswith("-", i):
            hi, i = _class_char(pattern, i + 1)
            if lo > hi:
                raise ValueError(f"reversed range {lo}-{hi} in character class")
            items.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            items.append(re.escape(lo))
    body = "".join(items)
    # Like the other wildcards, a class never matches the path separator.
    return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    if i >= len(pattern):
        raise ValueError("unterminated character class")
    c = pattern[i]
    if c == "\\":
        if i + 1 >= len(pattern):
            raise ValueError("unterminated character class")
        return pattern[i + 1], i + 2
    if c in "-]":
        raise ValueError(f"unescaped {c!r} in character class")
    return c, i + 1
