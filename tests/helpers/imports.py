"""The modules of ``wizard`` and the imports between them, read from the source.

Modules are read from the files, not with ``pkgutil.walk_packages``: that walk skips a folder
without an ``__init__.py`` (``wizard/ui/training`` is one). Imports are read with ``ast``, so
every import the code can make is seen, including those no test happens to run. An edge is one
module of ``wizard`` naming another; importing ``a.b.c`` is an edge to ``a.b.c`` only, not to
its parent packages (running a package's ``__init__`` first is Python's business, not a design
dependency). Dynamic imports (``importlib.import_module`` with a computed or passed-on name) are
not seen.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "wizard"


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (``__init__`` as the package), sorted."""
    modules: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def modules_under(name: str, package: Path = PACKAGE) -> list[str]:
    """``name`` and, for a package, every module below it; never a ``__main__``."""
    return [
        module
        for module in module_files(package)
        if (module == name or module.startswith(f"{name}."))
        and module.rpartition(".")[2] != "__main__"
    ]


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
