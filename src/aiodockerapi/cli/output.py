"""Printing rows through a --format: docker's `table ...` (headers, aligned as Go's tabwriter
aligns them), `json` (one object a line) or any other template (one rendering a row)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .formats import CliError, out
from .template import Context, Template, TemplateError, UnknownField


def template_error(exc: TemplateError) -> CliError:
    """A template that cannot be parsed or applied: docker's words, a usage error (125)."""
    return CliError(f"--format: {exc}", status=125)


def tabwrite(lines: list[str], minwidth: int = 10, padding: int = 3) -> list[str]:
    """Tab-separated cells aligned as docker's tabwriter does: a cell followed by a tab is
    padded to its column's widest cell + 3 (at least 10); the last cell of a line is not."""
    cells = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, minwidth), len(cell) + padding)
    return ["".join(c.ljust(widths[i]) for i, c in enumerate(row[:-1])) + row[-1] for row in cells]


def _unescape(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


class Formatter:
    """A --format for one kind of row; check it with `check` before asking any daemon."""

    def __init__(
        self,
        text: str | None,
        default: str,
        header: Context,
        *,
        many: bool = False,
        check: bool = True,
    ) -> None:
        text = default if text is None or text.strip() == "table" else text
        if text.strip() == "json":
            text = "{{json .}}"
        self.table = text.startswith("table")
        if self.table:
            text = text[len("table") :].lstrip()
            if text == default[len("table") :].lstrip() and many:
                text = "{{.Host}}\t" + text
        self.header = header
        try:
            self.template = Template(_unescape(text))
        except TemplateError as exc:
            raise template_error(exc) from exc
        if check:
            self.check()

    def check(self) -> None:
        """An unknown field of the row is an error now, before any row is printed."""
        try:
            self.template.render(self.header, header=True)
        except UnknownField as exc:
            raise template_error(exc) from exc
        except TemplateError:
            pass  # only the rows can tell

    def render(self, row: Any) -> str:
        try:
            return self.template.render(row)
        except TemplateError as exc:
            raise template_error(exc) from exc

    def write(self, rows: Iterable[Any]) -> None:
        if not self.table:
            for row in rows:
                out(self.render(row))
            return
        lines = [self.template.render(self.header, header=True)]
        lines.extend(self.render(row) for row in rows)
        text = "\n".join(lines)
        for line in tabwrite(text.split("\n")):
            out(line)
