"""The code stays runnable on Python 3.9 (RHEL 9, Amazon Linux 2023) while the suite runs on a newer one.

ruff (target py39) and mypy catch part of it; these checks catch what they miss: names that exist
on 3.9 but mean something else there (``TimeoutError`` does not catch ``asyncio.wait_for``'s
timeout before 3.11), and 3.10+/3.11+ calls that only fail when the line runs. The tool itself
is run on 3.9 and on the newest Python by tests/test_pyz.py.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.interpreters import pyenv_python

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for d in ("jnlpdiag", "probes", "packaging") for p in (ROOT / d).rglob("*.py"))

TIMEOUT_NAMES = {"TimeoutError", "asyncio.TimeoutError", "socket.timeout", "concurrent.futures.TimeoutError"}
TYPE_NAMES = {"int", "str", "bytes", "bytearray", "float", "bool", "list", "dict", "tuple", "set", "frozenset", "type"}
NEWER_TYPING = {"Self", "TypeAlias", "ParamSpec", "Concatenate", "TypeGuard", "Never", "assert_never",
                "NotRequired", "Required", "override", "Unpack", "TypeVarTuple", "LiteralString", "dataclass_transform"}


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def is_type_operand(node: ast.AST) -> bool:
    """A type as an operand of ``|``: int, a CamelCase class, X[...], None (not FLAG_A | FLAG_B)."""
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return is_type_operand(node.left) or is_type_operand(node.right)
    name = dotted(node).rpartition(".")[2]
    return name in TYPE_NAMES or (name[:1].isupper() and not name.isupper())


class Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []

    def add(self, node: ast.AST, what: str) -> None:
        self.problems.append((getattr(node, "lineno", 0), what))

    # Annotations are strings under `from __future__ import annotations`: never evaluated on 3.9.
    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type] if node.type else []
        for c in caught:
            if dotted(c) in TIMEOUT_NAMES:
                self.add(node, f"except {dotted(c)}: catch timeouts with jnlpdiag.pycompat.Timeouts")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.BitOr) and is_type_operand(node.left) and is_type_operand(node.right):
            self.add(node, "X | Y between types is evaluated at run time (3.10+): use a tuple, Union or Optional")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = dotted(node)
        if name in {"dt.UTC", "datetime.UTC", "enum.StrEnum", "asyncio.timeout", "asyncio.TaskGroup", "asyncio.Runner",
                    "asyncio.timeout_at", "itertools.pairwise", "itertools.batched", "contextlib.chdir"}:
            self.add(node, f"{name} is 3.10+ (see jnlpdiag/pycompat.py)")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = {a.name for a in node.names}
        if node.module == "enum" and "StrEnum" in names:
            self.add(node, "enum.StrEnum is 3.11: use jnlpdiag.pycompat.StrEnum")
        if node.module == "typing" and names & NEWER_TYPING:
            self.add(node, f"typing.{sorted(names & NEWER_TYPING)[0]} is newer than 3.9")
        if node.module in {"tomllib", "datetime"} and (node.module == "tomllib" or "UTC" in names):
            self.add(node, f"from {node.module} import ... is newer than 3.9")

    def visit_Call(self, node: ast.Call) -> None:
        func = dotted(node.func)
        keywords = {k.arg for k in node.keywords}
        if func == "zip" and "strict" in keywords:
            self.add(node, "zip(strict=) is 3.10")
        if func.endswith("entry_points") and "group" in keywords:
            self.add(node, "entry_points(group=) is 3.10: use jnlpdiag.pycompat.entry_points_in")
        if func.endswith(".joinpath") and len(node.args) > 1:
            self.add(node, "Traversable.joinpath(a, b) is 3.11 in a zip: join with '/'")
        if func.endswith("format_exception") and len(node.args) == 1:
            self.add(node, "traceback.format_exception(exc) is 3.10: pass type, value, traceback")
        if func.endswith(".start_tls") and func != "loop.start_tls" and isinstance(node.func, ast.Attribute) \
                and dotted(node.func.value) not in {"pycompat", "asyncio.get_running_loop()"}:
            if not (isinstance(node.func.value, ast.Call) and dotted(node.func.value.func) == "asyncio.get_running_loop"):
                self.add(node, "StreamWriter.start_tls is 3.11: use jnlpdiag.pycompat.start_tls")
        if func in {"dataclass", "dataclasses.dataclass"} and keywords & {"slots", "kw_only"}:
            self.add(node, "dataclass(slots=/kw_only=) is 3.10")
        self.generic_visit(node)

    def visit_Match(self, node: ast.AST) -> None:
        self.add(node, "match is 3.10")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_source_runs_on_python39(path: Path) -> None:
    if path.name == "pycompat.py":
        pytest.skip("pycompat.py is where the version-specific names live")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checker = Checker()
    checker.visit(tree)
    assert not checker.problems, "\n".join(f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in checker.problems)


def test_checker_catches_what_it_claims() -> None:
    """The checker itself: each rule fires on a line that breaks 3.9, and not on a 3.9-safe twin."""
    bad = """
import asyncio, enum, datetime as dt
from enum import StrEnum
Alias = int | None
try: pass
except (TimeoutError, OSError): pass
isinstance(1, int | str)
zip([], [], strict=True)
dt.datetime.now(dt.UTC)
files("x").joinpath("a", "b")
entry_points(group="g")
async def f(w):
    async with asyncio.timeout(1): pass
    await w.start_tls(ctx)
"""
    good = """
import re
FLAGS = re.I | re.M
x: int | None = None
def f(a: int | None = None) -> str | None: return None
files("x").joinpath("a/b")
"""
    checker = Checker()
    checker.visit(ast.parse(bad))
    assert len(checker.problems) == 10, checker.problems
    checker = Checker()
    checker.visit(ast.parse(good))
    assert checker.problems == []


def test_sources_compile_on_python39(tmp_path: Path) -> None:
    """Syntax 3.9 rejects (match, parenthesized context managers, except*) fails compile() there."""
    python = pyenv_python("3.9")
    if python is None:
        pytest.skip("no Python 3.9 on this machine (pyenv ~/.pyenv/versions/3.9.*): the 3.9 syntax check cannot run")
    files = [str(p) for p in SOURCES] + [str(p) for p in (ROOT / "tests").rglob("*.py")]
    script = "import sys\nfor f in sys.argv[1:]:\n    compile(open(f, encoding='utf-8').read(), f, 'exec')\n"
    done = subprocess.run([python, "-I", "-c", script, *files], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
