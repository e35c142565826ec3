"""No import cycles inside ``wizard``: each module can be read, tested and changed from below.

The graph is built from the source (``ast``), not by importing, so it sees every import the
code can make, including the ones no test happens to run. An edge is one module of ``wizard``
naming another; importing ``a.b.c`` is an edge to ``a.b.c`` only, not to its parent packages
(running a package's ``__init__`` first is Python's business, not a design dependency).

Imports are counted in two graphs:

- module level, including ``if TYPE_CHECKING:`` blocks: a cycle here is a real knot. At run time
  it gives half-initialised modules and import-order bugs; under ``TYPE_CHECKING`` it still
  means neither module can be understood, type-checked or moved without the other;
- every import, also those inside functions. The product defers many imports on purpose (the
  first window must not wait for pyVmomi), but deferring an import changes *when* a module is
  loaded, not *which* module depends on which: a cycle through a function is still a cycle in
  the design, only hidden from the interpreter.

Dynamic imports (``importlib.import_module`` with a computed or passed-on name, as
``wizard.ui.gateway`` does towards ``wizard.vsphere``) are not seen; they only ever point down.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.modules import PACKAGE, module_files


class Kind(enum.Enum):
    MODULE = "module level"
    TYPING = "under TYPE_CHECKING"
    DEFERRED = "inside a function"


Graph = dict[str, dict[str, Kind]]
"""module -> {imported module: how it is imported (the strongest kind if several)}."""


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> Iterator[tuple[ast.Import | ast.ImportFrom, Kind]]:
    """Every import statement with where it stands."""

    def walk(node: ast.AST, kind: Kind) -> Iterator[tuple[ast.Import | ast.ImportFrom, Kind]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, kind
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from walk(child, Kind.DEFERRED)
            elif (
                isinstance(child, ast.If) and kind is Kind.MODULE and _is_type_checking(child.test)
            ):
                for statement in child.body:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), Kind.TYPING)
                for statement in child.orelse:
                    yield from walk(ast.Module(body=[statement], type_ignores=[]), Kind.MODULE)
            else:
                yield from walk(child, kind)

    return walk(tree, Kind.MODULE)


def _targets(
    statement: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]
) -> set[str]:
    """The modules of ``known`` that one import statement names."""
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    else:
        base = statement.module or ""
        if statement.level:
            anchor = importer if is_package else importer.rpartition(".")[0]
            for _ in range(statement.level - 1):
                anchor = anchor.rpartition(".")[0]
            base = f"{anchor}.{base}" if base else anchor
        # ``from pkg import name``: name is a submodule, or something defined in pkg.
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
            for alias in statement.names
        ]
    found: set[str] = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != importer:
            found.add(name)
    return found


def import_graph(kinds: frozenset[Kind], package: Path = PACKAGE) -> Graph:
    """The import graph of the package, counting only imports of the given kinds."""
    modules = module_files(package)
    known = set(modules)
    strength = list(Kind)
    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for statement, kind in _imports(tree):
            if kind not in kinds:
                continue
            for target in _targets(statement, name, path.name == "__init__.py", known):
                previous = graph[name].get(target)
                if previous is None or strength.index(kind) < strength.index(previous):
                    graph[name][target] = kind
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(graph: Graph, component: list[str]) -> str:
    members = set(component)
    edges = [
        f"  {a} -> {b} ({kind.value})"
        for a in component
        for b, kind in sorted(graph[a].items())
        if b in members
    ]
    return "\n".join([" <-> ".join(component), *edges])


MODULE_LEVEL = frozenset({Kind.MODULE, Kind.TYPING})
EVERY_IMPORT = frozenset(Kind)


@pytest.mark.parametrize(
    "kinds", [MODULE_LEVEL, EVERY_IMPORT], ids=["module-level", "every-import"]
)
def test_wizard_has_no_import_cycle(kinds: frozenset[Kind]) -> None:
    graph = import_graph(kinds)
    found = cycles(graph)
    assert not found, "import cycles (move what both need into a module below them):\n" + (
        "\n".join(describe(graph, c) for c in found)
    )


def test_the_graph_sees_each_kind_of_import() -> None:
    """Guards the test above against passing because it reads nothing."""
    graph = import_graph(EVERY_IMPORT)
    assert len(graph) > 50
    assert graph["wizard.vsphere.tls"]["wizard.vsphere.errors"] is Kind.MODULE
    assert graph["wizard.vsphere.errors"]["wizard.vsphere.certificate"] is Kind.TYPING
    assert graph["wizard.cli"]["wizard.selftest"] is Kind.DEFERRED
    assert "wizard.ui.training.coach" in graph  # a folder without __init__.py still counts


def test_a_cycle_is_found_and_named(tmp_path: Path) -> None:
    package = tmp_path / "wizard"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from wizard.sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n"
    )
    (package / "c.py").write_text("def later():\n    from wizard import a\n")
    (package / "sub" / "d.py").write_text("from . import b\n")

    module_level = import_graph(MODULE_LEVEL, package)
    assert cycles(module_level) == [["wizard.a", "wizard.sub.b"]]
    assert "wizard.sub.b -> wizard.a (under TYPE_CHECKING)" in describe(
        module_level, ["wizard.a", "wizard.sub.b"]
    )
    assert module_level["wizard.sub.d"] == {"wizard.sub.b": Kind.MODULE}
    assert module_level["wizard.c"] == {}
    assert import_graph(EVERY_IMPORT, package)["wizard.c"] == {"wizard.a": Kind.DEFERRED}
