"""The shape of the source tree: size limits, the documented layout, one registry per concern.

The repo's rules (DESIGN.md, "How to work well here"): modules under 500 lines, functions under 80
(the Numba kernels included, since their arrays are grouped into bundles), and the layout in the
README matches the tree. The import layers are checked by import-linter (``make lint``, contracts in pyproject.toml).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "truceline"
README = Path(__file__).resolve().parents[1] / "README.md"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def long_functions(path: Path, root: Path = SRC.parent, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Functions of a module longer than ``limit`` lines, from the first decorator to the last line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            n = (node.end_lineno or node.lineno) - start + 1
            if n > limit:
                out.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_the_function_measure_counts_decorators(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    src = f"@decorator\ndef f():\n{body}\n\ndef g():\n{body[:-12]}\n"
    mod = tmp_path / "m.py"
    mod.write_text(src)
    assert long_functions(mod, tmp_path) == ["m.py:2 f (82 lines)"]
    assert long_functions(mod, tmp_path, limit=82) == []


def test_no_module_over_the_limit():
    big = [f"{p.relative_to(SRC.parent)} ({n} lines)" for p in sorted(SRC.rglob("*"))
           if p.suffix in (".py", ".js") and (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]  # fmt: skip
    assert big == [], f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_function_over_the_limit():
    long = [f for p in sorted(SRC.rglob("*.py")) for f in long_functions(p)]
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _readme_packages() -> set[str]:
    return set(re.findall(r"^\| `src/truceline/([a-z_]+)/`", README.read_text(), flags=re.M)) | {
        m for row in re.findall(r"^\| (`src/truceline/[^|]+)\|", README.read_text(), flags=re.M)
        for m in re.findall(r"`src/truceline/([a-z_]+)/`", row)
    }  # fmt: skip


def test_readme_layout_matches_the_tree():
    tree = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert _readme_packages() == tree


@pytest.mark.parametrize("package", ["geo", "service", "scoring", "cli"])
def test_every_package_is_a_regular_package(package):
    """import-linter's layers need real packages (a namespace package is invisible to it)."""
    assert (SRC / package / "__init__.py").is_file()
