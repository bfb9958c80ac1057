"""The docs' Python blocks as code: found, wrapped, type-checked with mypy at once, run.

Every ```python fence of README.md and docs/**/*.md is a block. A block with a top-level
`await` (or `async for`/`async with`), or one using a PREAMBLE name it doesn't bind, is a
*fragment*: the fragments of a page are one narrative, so they become the body of one
`async def` per page, in page order (a later block uses the names an earlier one made),
after PREAMBLE, the few names a page may use without making them. Any other block is a
complete program, checked as a module of its own with nothing added. docs/reference.md's
blocks are signatures generated from the code (a test keeps them current): only parsed.

A block preceded by the line `<!-- runnable -->` also runs against a daemon
(tests/test_docs_code.py): fragments in one namespace per page, with PREAMBLE's names
bound; programs in a subprocess with DOCKER_HOST set. In a runnable block, a line
`print(a, b)  # 0 b'out'` whose comment is only Python literals is an assertion: the last
values that line printed must equal them. See docs/contributing.md.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import io
import re
import subprocess
import sys
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = "<!-- runnable -->"
SIGNATURES_ONLY = ("docs/reference.md",)

#: What a fragment may use without defining it. Keep it small: a reader must be able to
#: guess each name's meaning from the prose around the block.
PREAMBLE = """\
from aiodockerapi import Docker as _Docker

docker: _Docker  # a connected client
cid: str  # the id of a running container whose image has busybox (sh, cat, sleep...)
"""

#: The names PREAMBLE gives.
GIVEN = tuple(
    ast.unparse(node.target) for node in ast.parse(PREAMBLE).body if isinstance(node, ast.AnnAssign)
)

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)\s*(?P<info>[^`]*)$")
# mypy's "file:line: error: text", ruff's "file:line:col: F821 text"
_ERROR = re.compile(
    r"^(?P<file>[^:\s]+):(?P<line>\d+):(?:\d+:)? (?P<kind>error|note|[\w-]+):? (?P<text>.*)$"
)
#: --allow-redefinition: a page reads like one REPL session, where a later block may rebind
#: a name (`message`, `image`) to another type.
MYPY = [
    sys.executable,
    "-m",
    "mypy",
    "--strict",
    "--allow-redefinition",
    "--no-incremental",
    "--show-error-codes",
    "--no-error-summary",
    "--hide-error-context",
]


@dataclass(frozen=True)
class Block:
    """One ```python fence: its page (relative to the repo root) and first code line."""

    page: str
    line: int
    source: str
    runnable: bool

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    def code(self) -> Any:
        """The block compiled so tracebacks name its page and lines (top-level await allowed)."""
        padded = "\n" * (self.line - 1) + self.source
        return compile(padded, self.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

    @property
    def fragment(self) -> bool:
        """Whether the block awaits at the top level (so it needs an event loop around it), or
        uses a preamble name it doesn't bind (`def watch(): ... docker.system.events()`)."""
        try:
            code = self.code()
        except SyntaxError:  # the check says where
            return False
        if code.co_flags & inspect.CO_COROUTINE:
            return True
        used: set[str] = set()
        bound: set[str] = set()
        for node in ast.walk(ast.parse(self.source)):
            if isinstance(node, ast.Name):
                (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.alias):
                bound.add(node.asname or node.name)
        return bool((used - bound) & set(GIVEN))


def pages() -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    """The page's ```python blocks, in order."""
    lines = page.read_text().splitlines()
    name = page.relative_to(ROOT).as_posix()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        close = re.compile(rf"^ *{m['fence'][0]}{{{len(m['fence'])},}}\s*$")
        end = i + 1
        while end < len(lines) and not close.match(lines[end]):
            end += 1
        words = m["info"].split()
        if words and words[0] in ("python", "py"):
            body = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
            previous = next((s.strip() for s in reversed(lines[:i]) if s.strip()), "")
            found.append(Block(name, i + 2, body, previous == RUNNABLE))
        i = end + 1
    return found


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]


@dataclass
class Module:
    """A generated module and, for each of its lines, the page line it came from."""

    name: str
    text: str
    origin: dict[int, str]


def modules(found: list[Block]) -> list[Module]:
    """The mypy package's modules: one per page's fragments, one per complete program."""
    result: list[Module] = []
    by_page: dict[str, list[Block]] = {}
    for block in found:
        if block.page in SIGNATURES_ONLY:
            continue
        if block.fragment:
            by_page.setdefault(block.page, []).append(block)
            continue
        origin = {n: f"{block.page}:{block.line + n - 1}" for n in range(1, 10_000)}
        result.append(Module(f"program_{len(result)}", block.source, origin))
    for page, fragments in by_page.items():
        text = [*PREAMBLE.splitlines(), "", "", "async def _page() -> None:"]
        origin = {n: f"{page} (preamble)" for n in range(1, len(text) + 1)}
        for block in fragments:
            for n, line in enumerate(block.source.splitlines()):
                text.append(f"    {line}" if line.strip() else "")
                origin[len(text)] = f"{page}:{block.line + n}"
        result.append(Module(f"page_{len(result)}", "\n".join(text) + "\n", origin))
    return result


def signature_errors(found: list[Block]) -> list[str]:
    """Blocks of the signature-only pages that don't parse as a decorated `def` header."""
    errors = []
    for block in found:
        if block.page not in SIGNATURES_ONLY:
            continue
        header = block.source.rstrip()
        if not header.startswith(("@", "def ", "async def ")):
            header = f"def {header}"  # a class's constructor: Docker(host: ..., ...)
        try:
            ast.parse(header + ": ...\n")
        except SyntaxError as exc:
            errors.append(f"{block.where}: not a signature: {exc.msg}")
    return errors


def check(found: list[Block], workdir: Path) -> list[str]:
    """Type-check every block with one mypy --strict run, and find the names a block uses
    before its page binds them (which mypy misses inside a function) with ruff's F821:
    their errors as 'page:line: error: ...'."""
    package = workdir / "docblocks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    origins: dict[str, dict[int, str]] = {}
    errors = []
    for module in modules(found):
        try:  # mypy stops at a syntax error: keep such a block out, so the rest are checked
            ast.parse(module.text)
        except SyntaxError as exc:
            where = module.origin.get(exc.lineno or 0, module.name)
            errors.append(f"{where}: error: {exc.msg}  [syntax]")
            continue
        path = package / f"{module.name}.py"
        path.write_text(module.text)
        origins[path.relative_to(workdir).as_posix()] = module.origin
    mypy = [*MYPY, "-p", "docblocks"]
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F821,F823",
            "--config", f"builtins = {list(GIVEN)!r}", "--output-format", "concise", "--quiet",
            "docblocks"]  # fmt: skip
    for command, accepted in ((mypy, (0, 1)), (ruff, (0, 1))):
        done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300)
        found_errors = []
        for line in done.stdout.splitlines():
            m = _ERROR.match(line)
            if m is None:
                found_errors.append(line)
                continue
            lines = origins.get(m["file"], {})
            where = lines.get(int(m["line"]), f"{m['file']}:{m['line']}")
            found_errors.append(f"{where}: {m['kind']}: {m['text']}")
        if done.returncode not in accepted or (done.returncode == 1 and not found_errors):
            found_errors.append(f"{command[2]} exited with {done.returncode}: {done.stderr}")
        errors += found_errors
    return sorted(errors, key=_by_place)


def expected_prints(block: Block) -> dict[int, tuple[object, ...]]:
    """Page line -> the values a `print(...)  # literal ...` line there states it prints."""
    expected: dict[int, tuple[object, ...]] = {}
    for n, line in enumerate(block.source.splitlines()):
        code, sep, comment = line.partition("  # ")
        if not sep or not code.lstrip().startswith("print("):
            continue
        values = _literals(comment)
        if values is not None:
            expected[block.line + n] = values
    return expected


def _literals(text: str) -> tuple[object, ...] | None:
    """The literals `text` is made of (`3 b'out\\n' None`), or None if it holds anything else."""
    values: list[object] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.OP and tok.string == "-":
                return None  # prose such as "- see below"; negative numbers aren't stated
            if tok.type not in (tokenize.NUMBER, tokenize.STRING, tokenize.NAME):
                return None
            if tok.type == tokenize.NAME and tok.string not in ("True", "False", "None"):
                return None
            values.append(ast.literal_eval(tok.string))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return tuple(values) or None


def _by_place(error: str) -> tuple[str, int, str]:
    page, _, rest = error.partition(":")
    line, _, text = rest.partition(":")
    return (page, int(line), text) if line.isdigit() else (page, 0, rest)


def agrees(printed: tuple[object, ...] | None, stated: tuple[object, ...]) -> bool:
    """Whether a line printed what its comment states: the last values it printed
    (`print("exit status", code)  # 3`)."""
    return printed is not None and printed[len(printed) - len(stated) :] == stated


def recorder(page: str, printed: dict[int, tuple[object, ...]]) -> Callable[..., None]:
    """A print that also keeps, by page line, what each line of `page` printed last."""
    real = print

    def record(*args: object, **kwargs: Any) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != page:
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None:
            printed[frame.f_lineno] = args
        real(*args, **kwargs)

    return record


def run_program(page: str, line: int) -> None:
    """Run the program block of `page` at `line` as __main__ (in a subprocess of the test),
    then exit non-zero if a `print(...)  # literal` line printed something else."""
    block = next(b for b in blocks(ROOT / page) if b.line == line)
    printed: dict[int, tuple[object, ...]] = {}
    builtins.print = recorder(page, printed)
    exec(block.code(), {"__name__": "__main__"})
    for where, stated in expected_prints(block).items():
        if not agrees(printed.get(where), stated):
            sys.exit(f"{page}:{where} printed {printed.get(where)}; its comment says {stated}")
