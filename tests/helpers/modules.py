"""The modules of ``wizard`` as the source tree has them, for tests about imports.

Read from the files, not with ``pkgutil.walk_packages``: that walk skips a folder without an
``__init__.py`` (``wizard/ui/training`` is one), and never imports ``__main__`` by accident.
"""

from __future__ import annotations

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
