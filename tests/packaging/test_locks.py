"""The Windows locks are complete, hashed and resolved for Windows."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "packaging" / "windows" / "requirements-win.txt"
BUILD = ROOT / "packaging" / "windows" / "requirements-build-win.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", re.MULTILINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    return {_normal(name): version for name, version in _PIN.findall(path.read_text())}


@pytest.mark.parametrize("lock", [RUNTIME, BUILD], ids=lambda p: p.name)
def test_every_requirement_is_pinned_with_a_hash(lock: Path) -> None:
    text = lock.read_text()
    requirements = [line for line in text.splitlines() if line and line[0].isalnum()]
    assert requirements
    for line in requirements:
        assert re.match(r"^\S+==\S+ \\$", line), line
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[-1])
    for block in blocks:
        if block.strip() and not block.startswith("#"):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_runtime_lock_covers_pyproject_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_normal(re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0]) for d in project["dependencies"]}
    assert wanted - set(pins(RUNTIME)) == set()


def test_runtime_lock_is_resolved_for_windows() -> None:
    """Resolved for the host, the set would carry Secret Service and lack Credential Manager."""
    locked = pins(RUNTIME)
    assert "pywin32-ctypes" in locked
    assert {"secretstorage", "jeepney"} & set(locked) == set()
    assert {"cryptography", "cffi"} <= set(locked)  # the product reads certificates with it


def test_build_lock_agrees_with_runtime_lock() -> None:
    runtime, build = pins(RUNTIME), pins(BUILD)
    assert "pyinstaller" in build
    assert {n: v for n, v in build.items() if n in runtime and runtime[n] != v} == {}
