"""The import structure stays as docs/architecture.md draws it: no cycles, no upward imports.

The layer table is read from the architecture page itself (between the ``layers`` markers), so
the page and this test cannot disagree. Function-level imports count: hiding an import inside a
function to dodge a loop is still a loop. Imports under ``if TYPE_CHECKING`` count as well: a
type that lives in a higher layer belongs lower down.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / "tipline").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every tipline module this module imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from tipline.cases import actions` depends on the module tipline.cases.actions (the
            # package's __init__ only when a name is not a module of its own).
            submodules = [
                f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES
            ]
            names_only = len(submodules) < len(node.names)
            targets = submodules + ([module] if names_only or not submodules else [])
        else:
            continue
        for target in targets:
            if target in MODULES and target != name:
                yield target


GRAPH = {name: sorted(set(_imports(name, path))) for name, path in MODULES.items()}


def _layers() -> dict[str, int]:
    text = ARCHITECTURE.read_text()
    table = text.split("<!-- layers: begin -->")[1].split("<!-- layers: end -->")[0]
    layers: dict[str, int] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].isdigit():
            continue
        for package in re.findall(r"`(tipline(?:\.\w+)?)`", cells[1]):
            layers[package] = int(cells[0])
    return layers


LAYERS = _layers()


def _package(module: str) -> str:
    """`tipline.cases.actions` → `tipline.cases`; top-level modules are their own package."""
    return ".".join(module.split(".")[:2])


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(GRAPH[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(GRAPH[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_layer_table_is_found_and_names_every_package() -> None:
    packages = {_package(module) for module in MODULES} - {"tipline"}
    assert LAYERS, "no layer table between <!-- layers: begin/end --> in docs/architecture.md"
    assert packages - LAYERS.keys() == set(), "place these in the layer table"
    assert LAYERS.keys() - packages == set(), "the layer table names packages that do not exist"


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_imports_only_go_down() -> None:
    """A package may import its own modules and packages of strictly lower layers: never a
    sibling of the same layer (an app reaching into another app's views or forms), never up."""
    wrong = sorted(
        f"{module} imports {target} (layer {LAYERS[_package(module)]} → {LAYERS[_package(target)]})"
        for module, targets in GRAPH.items()
        for target in targets
        if _package(module) != _package(target)
        and _package(module) in LAYERS
        and _package(target) in LAYERS
        and LAYERS[_package(target)] >= LAYERS[_package(module)]
    )
    assert wrong == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tipline.cases import actions\n", ["tipline.cases.actions"]),
        ("def f():\n    from tipline.cases.tasks import process_report\n", ["tipline.cases.tasks"]),
        ("from . import models\n", ["tipline.cases.models"]),
        ("from tipline.cases.actions import NotAllowed\n", ["tipline.cases.actions"]),
    ],
)
def test_the_parser_sees_every_kind_of_import(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source)
    assert sorted(set(_imports("tipline.cases.probe", path))) == expected


def test_a_cycle_is_found() -> None:
    saved = dict(GRAPH)
    try:
        GRAPH.clear()
        GRAPH.update({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
        assert _cycles() == [["a", "b", "c"]]
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
