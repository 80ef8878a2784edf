"""The suite's layout (docs/architecture.md): one package per paper under lib/papers/, rendering that only
draws, typed hand-offs. Checked by reading the source with `ast`, nothing is imported or run."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from lib import paths

PAPERS_DIR = paths.ROOT / "lib" / "papers"
MANIFEST = yaml.safe_load(paths.MANIFEST.read_text())
PAPERS = list(MANIFEST["papers"])
REQUIRED = ("__init__.py", "params.py", "method.py", "protocol.py", "paper.py", "results.py", "render.py")
COMPUTE = ("protocol", "method")   # what a renderer must not import


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _imported_modules(tree: ast.Module, package: str) -> set[str]:
    """Every module an import statement of `tree` names (`from a import b` counts `a` and `a.b`)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # relative import
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{alias.name}" for alias in node.names}
    return out


def test_every_manifest_paper_has_a_package():
    assert sorted(PAPERS) == sorted(p.name for p in PAPERS_DIR.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("paper", PAPERS)
def test_paper_package_has_its_parts(paper):
    missing = [f for f in REQUIRED if not (PAPERS_DIR / paper / f).exists()]
    assert not missing, f"lib/papers/{paper}/ lacks {missing} (docs/architecture.md)"


@pytest.mark.parametrize("paper", PAPERS)
def test_render_never_imports_protocol_or_method(paper):
    package = f"lib.papers.{paper}"
    imported = _imported_modules(_tree(PAPERS_DIR / paper / "render.py"), f"{package}.render")
    bad = sorted(m for m in imported if any(m == f"{package}.{c}" or m.startswith(f"{package}.{c}.") for c in COMPUTE))
    bad += sorted(m for m in imported if m.startswith("lib.papers.") and not m.startswith(package))
    assert not bad, f"{paper}/render.py imports {bad}: renderers read typed results, they never compute"


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("module", ["params.py", "paper.py", "results.py"])
def test_declarations_and_results_do_not_import_compute(paper, module):
    package = f"lib.papers.{paper}"
    tree = _tree(PAPERS_DIR / paper / module)
    runtime = ast.Module(body=[n for n in tree.body if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))],
                         type_ignores=[])
    imported = _imported_modules(runtime, f"{package}.{module[:-3]}")
    bad = sorted(m for m in imported if any(m.startswith(f"{package}.{c}") for c in COMPUTE))
    assert not bad, f"{paper}/{module} imports {bad}"


@pytest.mark.parametrize("paper", PAPERS)
def test_public_renderers_have_docstrings_and_typed_results(paper):
    tree = _tree(PAPERS_DIR / paper / "render.py")
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            assert ast.get_docstring(node), f"{paper}/render.py: {node.name} has no docstring"
            for arg in node.args.args[1:]:
                ann = ast.unparse(arg.annotation) if arg.annotation else ""
                assert ann not in ("dict", "pd.DataFrame", ""), \
                    f"{paper}/render.py: {node.name}({arg.arg}: {ann or 'untyped'}) should take a typed result"


@pytest.mark.parametrize("paper", PAPERS)
def test_run_functions_return_typed_results(paper):
    tree = _tree(PAPERS_DIR / paper / "protocol.py")
    runs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("run_")]
    assert runs
    for fn in runs:
        ret = ast.unparse(fn.returns) if fn.returns else ""
        assert ret and ret not in ("dict", "pd.DataFrame", "list", "tuple"), f"{paper}: {fn.name} -> {ret or '?'}"


def test_no_module_shadows_a_builtin():
    import builtins
    import sys

    shadowing = [p for p in (paths.ROOT / "lib").rglob("*.py")
                 if p.stem in dir(builtins) or p.stem in sys.stdlib_module_names and p.stem != "__init__"]
    assert not shadowing, shadowing


def test_old_per_concern_folders_are_gone():
    for old in ("methods", "experiments", "figures"):
        assert not (paths.ROOT / "lib" / old).exists(), f"lib/{old}/ was split into lib/papers/<paper>/"
