"""The layer rules of the README's "Architecture" section, checked module by module.

Two views of the same rules. Which packages a layer loads: each layer gets a fresh interpreter
that imports every one of its modules in turn (not just the package's ``__init__``, which may
well import nothing) and notes which forbidden package each import brought in first, so a
failure names the module to fix. Which of our modules a layer names: read from the source, so
an import inside a function that no test runs counts too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.imports import EVERY_IMPORT, import_graph, modules_under

_PROBE = """
import importlib, json, sys
forbidden, modules = set(json.loads(sys.argv[1])), json.loads(sys.argv[2])

def loaded():
    return {name.partition(".")[0] for name in sys.modules} & forbidden

blame = {top: "(the interpreter itself)" for top in loaded()}
for module in modules:
    before = loaded()
    importlib.import_module(module)
    for top in loaded() - before:
        blame[top] = module
print(json.dumps(blame))
"""

QT = {"PySide6", "shiboken6"}
VSPHERE = {"pyVmomi", "pyVim"}

LAYERS = [
    # The article's rules: facts in, verdicts and plans out. No Qt, no vCenter, no network.
    (["wizard.kb"], {*QT, *VSPHERE, "socket", "ssl", "http"}),
    # The only code that talks to vCenter; it returns plain data and knows nothing of Qt.
    (["wizard.vsphere"], QT),
    # Scenarios and the lab process: the lab is reached over SOAP by wizard.vsphere, not here.
    (["wizard.lab"], {*QT, *VSPHERE}),
    # The journal, the keyring, the files, the command line's text, the administrator's policy:
    # no Qt, no vCenter.
    # The class report is HTML and CSV written from result files: no window, no vCenter.
    (
        [
            "wizard.audit",
            "wizard.credentials",
            "wizard.limits",
            "wizard.paths",
            "wizard.check_text",
            "wizard.policy",
            "wizard.training_report",
        ],
        {*QT, *VSPHERE},
    ),
    # The command line and the self-test load what a command needs when it runs.
    (["wizard.cli", "wizard.selftest"], {*QT, *VSPHERE, "truststore"}),
    # The Qt layer reaches vCenter only through the gateway, which imports what loads pyVmomi
    # inside its methods, so the first window never waits for pyVmomi.
    (["wizard.ui"], {*VSPHERE, "truststore"}),
    # The plain-data parts of the Qt layer, which run on the worker thread or are tested
    # without a window.
    (
        [
            "wizard.ui.shell_commands",
            "wizard.ui.gateway",
            "wizard.ui.settings",
            "wizard.ui.ticket",
            "wizard.ui.training.coach",
            "wizard.ui.training.debrief",
        ],
        QT,
    ),
]


@pytest.mark.parametrize(
    ("roots", "forbidden"), LAYERS, ids=[" ".join(roots) for roots, _ in LAYERS]
)
def test_layer_loads_no_forbidden_package(
    roots: list[str], forbidden: set[str], hermetic_basedir: Path
) -> None:
    modules = [module for root in roots for module in modules_under(root)]
    assert modules, f"no modules found under {roots}"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sorted(forbidden)), json.dumps(modules)],
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_WIZARD_BASEDIR": str(hermetic_basedir)},
        timeout=120,
        check=True,
    )
    blame: dict[str, str] = json.loads(out.stdout)
    assert not blame, "\n".join(
        f"importing {module} loaded {top}" for top, module in sorted(blame.items())
    )


def test_every_module_is_in_a_layer() -> None:
    """A new top-level module or package must be given its rule above."""
    covered = {module for roots, _ in LAYERS for root in roots for module in modules_under(root)}
    everything = set(modules_under("wizard"))
    assert everything - covered == {"wizard"}


_PACKAGES = {"kb", "vsphere", "lab", "ui", "cli"}


def _layer(module: str) -> str:
    """The layer a module belongs to: its package under ``wizard``, or the module itself."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and parts[1] in _PACKAGES else module


MAY_IMPORT = {
    "wizard.kb": set(),
    "wizard.vsphere": {"wizard.kb", "wizard.audit", "wizard.paths"},
    "wizard.lab": {"wizard.kb", "wizard.paths"},
    "wizard.audit": {"wizard.paths"},
    "wizard.credentials": set(),
    "wizard.paths": set(),
    "wizard.check_text": {"wizard.kb"},
    "wizard.limits": set(),
    # The administrator's policy: addresses are read as the Connect page reads them
    # (wizard.vsphere.endpoint, no pyVmomi), messages escaped as scenarios' are.
    "wizard.policy": {"wizard.limits", "wizard.paths", "wizard.lab", "wizard.vsphere"},
    # The class report reads result files (wizard.lab.results) and the bundled scenarios' titles.
    "wizard.training_report": {"wizard.lab"},
    # wizard.vsphere: at module level only what loads no pyVmomi (the errors, the endpoint);
    # the rest inside the gateway's methods, which run on the worker thread (test_lazy_load.py).
    "wizard.ui": {
        "wizard.kb",
        "wizard.lab",
        "wizard.audit",
        "wizard.credentials",
        "wizard.limits",
        "wizard.paths",
        "wizard.policy",
        "wizard.vsphere",
    },
}
"""Which other layers each layer may import; the package itself (``__version__``) is free to all.
The command line and the self-test sit on top and may import anything."""

ONLY_IMPORTED_BY = {
    "wizard.cli": "wizard.__main__",
    "wizard.selftest": "wizard.cli",
}
"""The top: ``python -m wizard`` runs the command line (a package: any of its modules may import
another), and the command line runs the self-test."""


def test_layers_import_only_the_layers_below() -> None:
    wrong = []
    for module, targets in import_graph(EVERY_IMPORT).items():
        layer = _layer(module)
        for target in targets:
            other = _layer(target)
            if other in (layer, "wizard"):
                continue
            if other in ONLY_IMPORTED_BY and layer != ONLY_IMPORTED_BY[other]:
                wrong.append(f"{module} imports {target}: only {ONLY_IMPORTED_BY[other]} may")
            elif layer in MAY_IMPORT and other not in MAY_IMPORT[layer]:
                wrong.append(f"{module} imports {target} ({layer} may not import {other})")
    assert not wrong, "\n".join(sorted(wrong))
