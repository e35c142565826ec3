"""What the frozen folder holds, read from both sides: the PyInstaller spec and the NSIS script.

The spec (packaging/checkpoint-wizard.spec) is read as Python syntax, never run: the
executables are the first arguments of its ``executable(...)`` calls, the lab is the
``+ EXE_SUFFIX`` entry handed to ``COLLECT``, the contents folder is the EXE's
``contents_directory`` and the resources are what its ``datas`` iterate over. Names are resolved
through the spec's module-level constants, so a rename on one side shows up as a difference.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "checkpoint-wizard.spec"
INSTALLER = ROOT / "packaging" / "windows" / "installer.nsi"
FROZEN = ROOT / "build" / "frozen" / "checkpoint-wizard"


@dataclass(frozen=True)
class SpecOutputs:
    """The frozen folder's items as the spec makes them, under their Windows names."""

    executables: frozenset[str]
    lab: str
    contents: str
    resources: frozenset[str]

    def items(self) -> frozenset[str]:
        """Top-level items and the bundled resource folders, Windows style (``a\\b``)."""
        nested = {f"{self.contents}\\resources\\{name}" for name in self.resources}
        return frozenset({*self.executables, self.lab, self.contents, *nested})


def _constants(tree: ast.Module) -> dict[str, object]:
    values: dict[str, object] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return values


def _resolve(node: ast.expr, constants: dict[str, object]) -> object:
    if isinstance(node, ast.Name):
        if node.id not in constants:
            raise AssertionError(f"spec: {node.id} is not a module-level constant")
        return constants[node.id]
    return ast.literal_eval(node)


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def read_spec(path: Path = SPEC) -> SpecOutputs:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    constants = _constants(tree)

    executables = {
        f"{_resolve(call.args[0], constants)}.exe" for call in _calls(tree, "executable")
    }

    labs = [
        f"{_resolve(element.elts[0].left, constants)}.exe"
        for call in _calls(tree, "COLLECT")
        for arg in call.args
        if isinstance(arg, ast.List)
        for element in arg.elts
        if isinstance(element, ast.Tuple)
        and isinstance(element.elts[0], ast.BinOp)
        and isinstance(element.elts[0].right, ast.Name)
        and element.elts[0].right.id == "EXE_SUFFIX"
    ]
    if len(labs) != 1:
        raise AssertionError(f"spec: expected one '+ EXE_SUFFIX' entry in COLLECT, found {labs}")

    contents = {
        str(_resolve(keyword.value, constants))
        for call in _calls(tree, "EXE")
        for keyword in call.keywords
        if keyword.arg == "contents_directory"
    }
    if len(contents) != 1:
        raise AssertionError(f"spec: expected one contents_directory, found {contents}")

    resources: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "datas" for t in node.targets
        ):
            for comp in ast.walk(node.value):
                if isinstance(comp, ast.comprehension):
                    iterated = _resolve(comp.iter, constants)
                    if not isinstance(iterated, tuple):
                        raise AssertionError("spec: datas must iterate over a tuple of names")
                    resources.update(str(name) for name in iterated)
    if not resources:
        raise AssertionError("spec: found no bundled resources in datas")

    return SpecOutputs(frozenset(executables), labs[0], contents.pop(), frozenset(resources))


@dataclass(frozen=True)
class Installer:
    """What the NSIS script declares and does with its payload items."""

    defines: dict[str, str]
    items: dict[str, str]
    checked: frozenset[str]
    removed: frozenset[str]
    text: str

    def top_level(self) -> dict[str, str]:
        return {name: value for name, value in self.items.items() if "\\" not in value}


_DEFINE = re.compile(r'^\s*!define\s+(\w+)\s+"([^"]*)"', re.MULTILINE)


def _macro(text: str, name: str) -> str:
    match = re.search(rf"^!macro {name}\b.*?$(.*?)^!macroend", text, re.MULTILINE | re.DOTALL)
    if not match:
        raise AssertionError(f"installer: no macro {name}")
    return match.group(1)


def read_installer(path: Path = INSTALLER) -> Installer:
    text = path.read_text(encoding="utf-8")
    defines = dict(_DEFINE.findall(text))
    items = {name: value for name, value in defines.items() if name.startswith("ITEM_")}
    checked = frozenset(
        re.findall(r'^!insertmacro CHECK_PAYLOAD_ITEM "\$\{(ITEM_\w+)\}"', text, re.MULTILINE)
    )
    removed = frozenset(re.findall(r"\$\{(ITEM_\w+)\}", _macro(text, "REMOVE_PROGRAM")))
    return Installer(defines, items, checked, removed, text)
