"""No import cycles inside ``wizard``: each module can be read, tested and changed from below.

The graph comes from the source (``tests.helpers.imports``), not from importing, so it sees
every import the code can make, including the ones no test happens to run.

Imports are counted in two graphs:

- module level, including ``if TYPE_CHECKING:`` blocks: a cycle here is a real knot. At run time
  it gives half-initialised modules and import-order bugs; under ``TYPE_CHECKING`` it still
  means neither module can be understood, type-checked or moved without the other;
- every import, also those inside functions. The product defers many imports on purpose (the
  first window must not wait for pyVmomi), but deferring an import changes *when* a module is
  loaded, not *which* module depends on which: a cycle through a function is still a cycle in
  the design, only hidden from the interpreter.

Dynamic imports (``importlib.import_module`` with a computed or passed-on name) are not seen;
the product makes none of its own modules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.imports import (
    EVERY_IMPORT,
    MODULE_LEVEL,
    PACKAGE,
    Kind,
    cycles,
    describe,
    import_graph,
)


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
    assert graph["wizard.cli.dispatch"]["wizard.selftest"] is Kind.DEFERRED
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


def test_no_module_is_imported_by_name() -> None:
    """Every import in the product is a statement the graphs above read: none is made at run
    time from a name (``importlib``, ``__import__``), which would hide an edge, and its types,
    from this test and from mypy."""
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "importlib" in line or "__import__(" in line
    ]
    assert not found, found
