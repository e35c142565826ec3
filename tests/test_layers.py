"""The layer rules of DESIGN.md, checked in a fresh interpreter each."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = (
    "import sys, importlib; importlib.import_module({mod!r}); "
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r}); "
    "print(','.join(bad))"
)


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("wizard.kb", {"PySide6", "pyVmomi", "pyVim", "socket", "ssl", "http"}),
        ("wizard.vsphere", {"PySide6"}),
        ("wizard.lab", {"PySide6", "pyVmomi", "pyVim"}),
    ],
)
def test_layer_does_not_load_forbidden_packages(module: str, forbidden: set[str]) -> None:
    """A layer that loaded Qt or pyVmomi would break the design's one-way imports."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(mod=module, forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "", f"{module} loaded {out.stdout.strip()}"
