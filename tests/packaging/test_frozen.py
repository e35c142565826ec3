"""Smoke test of the frozen program that packaging/build.sh makes (skipped without one).

The program must pass its own ``--selftest`` with every check ok (a missing keyring is the one
warning allowed, on machines without one) and say nothing else: an unexpected line on stdout or
stderr fails, like a Qt warning fails the unit tests.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.packaging.manifest import FROZEN, read_installer

CLI = FROZEN / ("checkpoint-wizard-cli.exe" if sys.platform == "win32" else "checkpoint-wizard-cli")
KEYRING_UNAVAILABLE = "selftest: keyring: WARNING unavailable (no backend on this machine"

pytestmark = pytest.mark.skipif(
    not CLI.exists(), reason="frozen build not present: run packaging/build.sh"
)


def _windows_name(name: str) -> str:
    return name if sys.platform == "win32" else name.removesuffix(".exe")


def test_frozen_selftest_passes_and_says_nothing_else() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHECKPOINT_WIZARD_LAB_BIN"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run(
        [str(CLI), "--selftest"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert lines, "no output"
    assert lines[-1].startswith("selftest: passed ("), lines[-1]
    for line in lines[:-1]:
        name_and_status = line.split(" ", 3)
        assert line.startswith("selftest: "), line
        assert name_and_status[2] == "ok" or line.startswith(KEYRING_UNAVAILABLE), line
    names = [line.split(":")[1].strip() for line in lines[:-1]]
    assert names == ["lab", "qt", "resources", "pdf", "keyring", "tls", "check"]


def test_frozen_folder_holds_exactly_what_the_installer_expects() -> None:
    installer = read_installer()
    expected = {_windows_name(v) for v in installer.top_level().values()}
    assert {p.name for p in FROZEN.iterdir()} == expected
    for value in installer.items.values():
        assert (FROZEN / _windows_name(value).replace("\\", "/")).exists(), value
