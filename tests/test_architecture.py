"""The package's shape: imports run one way (down the layers), no import circle, imports at
module top, and the README's Layout section lists every subpackage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "forecaster"

# bottom to top: a subpackage may import its own modules and those of lower layers only
LAYERS = [
    {"core"},
    {"io", "store"},
    {"features", "staffing"},
    {"campaigns"},
    {"demand", "planning"},
    {"scenarios", "report"},
    {"jobs"},
    {"web"},
    {"cli"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# 12 today: statsforecast and Dask for the models that use them, the web server, and what the
# `erlang` calculator does without (the config, the store, and the pandas reader of unclean files)
MAX_FUNCTION_IMPORTS = 13


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def imported(node: ast.AST) -> list[str]:
    """The forecaster modules an import statement names (a module if it is one, else its package)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("forecaster.")]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("forecaster"):
        subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
        return subs or [node.module]
    return []


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges[name] = {m for node in ast.walk(tree) for m in imported(node) if m != "forecaster"}
    return edges


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and module in MODULES and
                                          MODULES[module].name == "__init__.py") else None


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle():
    cycle = find_cycle(graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_every_subpackage_has_a_layer():
    found = {p.parent.relative_to(PKG).parts[0] for p in PKG.glob("*/__init__.py")}
    assert found == set(RANK), f"subpackages without a layer: {found - set(RANK)}; layers without one: {set(RANK) - found}"


def test_imports_run_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        mine = subpackage(module)
        for target in targets:
            theirs = subpackage(target)
            if mine and theirs and mine != theirs and RANK[theirs] > RANK[mine]:
                wrong.append(f"{module} imports {target} ({theirs} is above {mine})")
    assert not wrong, "\n".join(wrong)


def function_imports() -> list[tuple[str, int, str]]:
    """(file, line, the comment giving the reason) of every import inside a function."""
    out = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for fn in ast.walk(ast.parse(text)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    same = lines[node.lineno - 1].partition("#")[2].strip()
                    i = node.lineno - 2                  # a comment above a run of imports covers them all
                    while i >= 0 and lines[i].strip().startswith(("import ", "from ")):
                        i -= 1
                    above = lines[i].strip() if i >= 0 else ""
                    reason = same or (above[1:].strip() if above.startswith("#") else "")
                    out.append((str(path.relative_to(ROOT)), node.lineno, reason))
    return out


def test_few_imports_inside_functions_each_with_a_reason():
    found = function_imports()
    assert len(found) < MAX_FUNCTION_IMPORTS, f"{len(found)} imports inside functions: {found}"
    missing = [f"{f}:{line}" for f, line, reason in found if not reason]
    assert not missing, f"imports inside functions need a comment saying why: {missing}"


def test_readme_layout_lists_every_subpackage():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README.md has no '## Layout' section"
    listed = set(re.findall(r"^- `forecaster/([a-z_/]+)/`", match.group(1), re.M))
    found = {str(p.parent.relative_to(PKG)) for p in PKG.rglob("__init__.py") if p.parent != PKG}
    assert listed == found, (f"README Layout misses {sorted(found - listed)}"
                             f"{' and lists gone ' + str(sorted(listed - found)) if listed - found else ''}")
